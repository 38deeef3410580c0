"""Split cleaned text into stories and sections.

Two kinds of page hold more than one unit of journalism:

- A **compilation** (an aggregator's digest) glues several outlets' stories
  together. Each story opens with its headline directly followed by an image
  placeholder (``img]``, "Featured image of post ..."), because the aggregator
  prints every post as headline, picture, text. ``split_compilation`` cuts the
  page there. A piece holding less than two paragraphs of text is a teaser, not
  a story: it is folded into the story before it as a headed section, so no
  text is lost, and the caller is told so it can ask for a review.

- A **live blog** is one article of many entries. ``split_sections`` finds the
  entries either by their time stamps ("11 mins ago (17:54 GMT)") or, on pages
  that print no stamps, by their headlines: a live-blog entry headline is a
  single, short, headline-style sentence directly followed by the entry's photo
  or video (a credit line or a player placeholder), and an entry without a
  picture is recognised because its first paragraph restates the headline.

A page that is neither stays one story with one section. The thresholds below
are deliberately conservative: a false split damages an ordinary article,
whereas a missed split only leaves a live blog in one piece.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone

from articles.ingest.clean import (
    MEDIA_FEATURED,
    MEDIA_IMAGE,
    ROLE_BODY,
    ROLE_CAPTION,
    ROLE_HEADING,
    ROLE_MEDIA,
    Paragraph,
)
from articles.ingest.records import KIND_ARTICLE, KIND_LIVE, SectionRecord

# "51 seconds ago (18:04 GMT)", "1 hour ago (17:03 GMT)", "Updated 18:04 GMT", "18:04 GMT".
_LIVE_STAMP = re.compile(
    r"^(?:(?:updated|posted)\s+)?"
    r"(?:(?:\d+|an?|one)\s+(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?)\s+ago\s*)?"
    r"\(?(?P<hour>[01]?\d|2[0-3])[:.](?P<minute>[0-5]\d)\s*(?P<zone>[A-Z]{2,4})\)?$",
    re.IGNORECASE,
)
_ZONE_OFFSETS_HOURS = {
    "GMT": 0, "UTC": 0, "Z": 0, "BST": 1, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3,
    "MSK": 3, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "PST": -8, "PDT": -7,
}  # fmt: skip

# A live blog needs several entries; two stamps or photos can happen in any article.
MIN_LIVE_ENTRIES = 3
MAX_HEADING_WORDS = 25
MIN_HEADLINE_WORDS = 5
# A compilation piece with fewer body paragraphs than this is a teaser.
MIN_STORY_PARAGRAPHS = 2
MAX_STORY_TITLE_WORDS = 30
# An unpictured entry's lead restates its headline: most headline words recur in it.
MIN_LEAD_OVERLAP = 0.5
MIN_LEAD_WORDS = 25
# "Here are all the latest updates:" between a live blog's summary and its entries.
MAX_LEAD_IN_WORDS = 8

# Headline style: one sentence, no double quotes (headlines quote with single
# quotes), no courtesy titles and no past-tense attribution (body copy says
# "Mr. Kirby said"; headlines say "U.S. official says").
_SENTENCE_BREAK = re.compile(r"(?<=[a-z]{2})[.!?][”’\"']?\s+[A-Z“‘\"]")
_DOUBLE_QUOTES = re.compile(r"[\"“”]")
_BODY_COPY_MARKERS = re.compile(r"\b(?:Mr|Mrs|Ms|Dr)\.|\bsaid\b")
# Body copy continues a thought; a headline never opens on a pronoun or connective.
_CONNECTIVE_OPENINGS = frozenset(
    {
        "he", "she", "it", "they", "we", "i", "you", "his", "her", "its", "their", "this", "that",
        "these", "those", "but", "and", "or", "so", "yet", "now", "still", "however", "meanwhile",
        "also", "then", "there",
    }
)  # fmt: skip
_WORD = re.compile(r"[A-Za-z][A-Za-z’'-]+")
_STOPWORDS = frozenset(
    {
        "the", "a", "an", "and", "or", "but", "of", "to", "in", "on", "at", "for", "from", "with",
        "by", "as", "is", "are", "was", "were", "be", "been", "has", "have", "had", "will", "would",
        "could", "should", "may", "might", "can", "its", "it", "this", "that", "these", "those",
        "their", "his", "her", "than", "then", "into", "over", "after", "before", "about", "says",
        "said", "say", "who", "which", "what", "when", "where", "how", "why", "not", "no", "new",
        "more", "most", "some", "any", "all",
    }
)  # fmt: skip


@dataclass
class Story:
    """One story of a page: its paragraphs, and the titles of teasers folded into it."""

    paragraphs: list[Paragraph]
    folded_titles: list[str] = field(default_factory=list)


@dataclass
class SplitResult:
    kind: str
    sections: list[SectionRecord]
    intro: list[str] = field(default_factory=list)  # a live blog's summary above its entries


def split_compilation(paragraphs: list[Paragraph]) -> list[Story]:
    """Cut an aggregator's digest into its stories; any other page is one story."""
    starts = _story_starts(paragraphs)
    if len(starts) < 2:
        return [Story(paragraphs)]
    bounds = [0, *starts[1:], len(paragraphs)]
    stories: list[Story] = []
    for begin, end in zip(bounds, bounds[1:], strict=False):
        piece = paragraphs[begin:end]
        if stories and _is_teaser(piece):
            _fold_teaser(stories[-1], piece)
        else:
            stories.append(Story(piece))
    return stories


def split_sections(
    paragraphs: list[Paragraph], published_at: datetime | None, kind: str = ""
) -> SplitResult:
    """Split a story's paragraphs (title already removed) into sections.

    ``kind`` forces the answer when the operator said so: "article" keeps one
    section even if the text looks like a live blog.
    """
    if kind != KIND_ARTICLE:
        stamped = _split_stamped_entries(paragraphs, published_at)
        if stamped is not None:
            return stamped
        headlined = _split_headlined_entries(paragraphs)
        if headlined is not None:
            return headlined
    return SplitResult(kind or KIND_ARTICLE, _sections_by_heading(paragraphs))


def looks_like_headline(text: str) -> bool:
    """Whether a paragraph reads as a news headline rather than body copy."""
    words = text.split()
    if not MIN_HEADLINE_WORDS <= len(words) <= MAX_HEADING_WORDS:
        return False
    if _SENTENCE_BREAK.search(text) or _DOUBLE_QUOTES.search(text):
        return False
    if _BODY_COPY_MARKERS.search(text):
        return False
    return words[0].casefold() not in _CONNECTIVE_OPENINGS


def is_title_line(text: str, max_words: int = MAX_STORY_TITLE_WORDS) -> bool:
    """A line that can be a page or entry title: short, and not a finished sentence of prose."""
    words = text.split()
    if text.endswith(("...", "…")):  # a headline cut short by the page
        return 0 < len(words) <= max_words
    return 0 < len(words) <= max_words and not text.endswith((".", ",", ";", ":"))


def parse_live_stamp(text: str, on: date) -> datetime | None:
    """The time a stamp like "11 mins ago (17:54 GMT)" gives, on the given day, in UTC."""
    match = _LIVE_STAMP.match(text)
    if match is None:
        return None
    offset = _ZONE_OFFSETS_HOURS.get(match.group("zone").upper())
    if offset is None:
        return None
    local = datetime(
        on.year,
        on.month,
        on.day,
        int(match.group("hour")),
        int(match.group("minute")),
        tzinfo=timezone(timedelta(hours=offset)),
    )
    return local.astimezone(UTC)


# --- compilations --------------------------------------------------------------


def _story_starts(paragraphs: list[Paragraph]) -> list[int]:
    """Indexes where a story opens: a title line followed by an image placeholder."""
    starts: list[int] = []
    visible = [i for i, paragraph in enumerate(paragraphs) if paragraph.is_visible]
    for position, index in enumerate(visible[:-1]):
        paragraph, following = paragraphs[index], paragraphs[visible[position + 1]]
        if not (paragraph.is_body and is_title_line(paragraph.text)):
            continue
        if following.role == ROLE_MEDIA and following.media in (MEDIA_IMAGE, MEDIA_FEATURED):
            starts.append(_include_featured_marker(paragraphs, visible, position))
    return starts


def _include_featured_marker(paragraphs: list[Paragraph], visible: list[int], position: int) -> int:
    # "Featured image of post <title>" printed above the title belongs to the same story.
    if position > 0 and paragraphs[visible[position - 1]].media == MEDIA_FEATURED:
        return visible[position - 1]
    return visible[position]


def _is_teaser(piece: list[Paragraph]) -> bool:
    body = [paragraph for paragraph in piece if paragraph.is_body]
    return len(body) - 1 < MIN_STORY_PARAGRAPHS  # the first body paragraph is the title


def _fold_teaser(story: Story, piece: list[Paragraph]) -> None:
    title_index = next(i for i, paragraph in enumerate(piece) if paragraph.is_body)
    title = piece[title_index]
    story.paragraphs.append(Paragraph(title.text, ROLE_HEADING, source=title.source))
    story.paragraphs.extend(piece[title_index + 1 :])
    story.folded_titles.append(title.text)


# --- live blogs with time stamps -------------------------------------------------


def _split_stamped_entries(
    paragraphs: list[Paragraph], published_at: datetime | None
) -> SplitResult | None:
    stamps = [
        i for i, paragraph in enumerate(paragraphs) if paragraph.is_body and _is_stamp(paragraph)
    ]
    if len(stamps) < MIN_LIVE_ENTRIES:
        return None
    times = _entry_times([paragraphs[i].text for i in stamps], published_at)
    sections = []
    for number, (begin, posted_at) in enumerate(zip(stamps, times, strict=True)):
        end = stamps[number + 1] if number + 1 < len(stamps) else len(paragraphs)
        section = _entry_section(paragraphs[begin + 1 : end])
        section.posted_at = posted_at
        sections.append(section)
    intro, intro_captions = _intro(paragraphs[: stamps[0]])
    sections[0].captions[:0] = intro_captions
    return SplitResult(KIND_LIVE, sections, intro)


def _is_stamp(paragraph: Paragraph) -> bool:
    return _LIVE_STAMP.match(paragraph.text) is not None


def _entry_times(stamps: list[str], published_at: datetime | None) -> list[datetime | None]:
    """Each stamp's time on the article's day, stepping a day back or on across midnight.

    Entries run newest first (or oldest first); a clock that jumps the wrong way
    between neighbours means the blog crossed midnight.
    """
    if published_at is None:
        return [None] * len(stamps)
    day = published_at.date()
    clocks = [parse_live_stamp(stamp, day) for stamp in stamps]
    known = [clock for clock in clocks if clock is not None]
    pairs = list(zip(known, known[1:], strict=False))
    newest_first = sum(a > b for a, b in pairs) >= sum(a < b for a, b in pairs)
    step = timedelta(days=-1 if newest_first else 1)
    shifted: list[datetime | None] = []
    shift = timedelta(0)
    previous: datetime | None = None
    for clock in clocks:
        if clock is None:
            shifted.append(None)
            continue
        if previous is not None and (clock > previous if newest_first else clock < previous):
            shift += step
        previous = clock
        shifted.append(clock + shift)
    return shifted


# --- live blogs with entry headlines ------------------------------------------


def _split_headlined_entries(paragraphs: list[Paragraph]) -> SplitResult | None:
    pictured = _pictured_headlines(paragraphs)
    if len(pictured) < MIN_LIVE_ENTRIES:
        return None
    headlines = sorted(set(pictured) | set(_unpictured_headlines(paragraphs, pictured)))
    sections = []
    for number, begin in enumerate(headlines):
        end = headlines[number + 1] if number + 1 < len(headlines) else len(paragraphs)
        sections.append(_entry_section(paragraphs[begin:end]))
    intro, intro_captions = _intro(paragraphs[: headlines[0]])
    sections[0].captions[:0] = intro_captions
    return SplitResult(KIND_LIVE, sections, intro)


def _pictured_headlines(paragraphs: list[Paragraph]) -> list[int]:
    """Headline-style paragraphs directly followed by a photo, video or caption."""
    found = []
    visible = [i for i, paragraph in enumerate(paragraphs) if paragraph.is_visible]
    for position, index in enumerate(visible[:-1]):
        paragraph, following = paragraphs[index], paragraphs[visible[position + 1]]
        if (
            paragraph.is_body
            and looks_like_headline(paragraph.text)
            and following.role in (ROLE_MEDIA, ROLE_CAPTION)
        ):
            found.append(index)
    return found


def _unpictured_headlines(paragraphs: list[Paragraph], pictured: list[int]) -> list[int]:
    """Entries without a picture: a headline-style sentence restated by the next paragraph."""
    found = []
    body = [i for i, paragraph in enumerate(paragraphs) if paragraph.is_body]
    for position, index in enumerate(body[:-1]):
        if index in pictured or index < pictured[0]:
            continue
        text = paragraphs[index].text
        lead = paragraphs[body[position + 1]].text
        if (
            text.endswith(".")
            and looks_like_headline(text)
            and len(lead.split()) >= MIN_LEAD_WORDS
            and _shared_word_share(text, lead) >= MIN_LEAD_OVERLAP
        ):
            found.append(index)
    return found


def _shared_word_share(headline: str, lead: str) -> float:
    """Share of the headline's content words that the lead repeats (by word stem)."""
    headline_stems = _content_stems(headline)
    if not headline_stems:
        return 0.0
    return len(headline_stems & _content_stems(lead)) / len(headline_stems)


def _content_stems(text: str) -> set[str]:
    # A five-letter prefix is a crude stem, but enough to match "European" with
    # "Europe" and "explain" with "explanation".
    words = (word.casefold().strip("’'-") for word in _WORD.findall(text))
    return {word[:5] for word in words if len(word) >= 4 and word not in _STOPWORDS}


# --- sections ---------------------------------------------------------------------


def _entry_section(paragraphs: list[Paragraph]) -> SectionRecord:
    """One live-blog entry: its heading line, then body and captions."""
    body_paragraphs = [paragraph for paragraph in paragraphs if paragraph.is_body]
    if not body_paragraphs or not _is_entry_heading(body_paragraphs[0].text):
        return _section("", paragraphs)
    heading = body_paragraphs[0]
    return _section(heading.text, [p for p in paragraphs if p is not heading])


def _is_entry_heading(text: str) -> bool:
    return is_title_line(text, MAX_HEADING_WORDS) or looks_like_headline(text)


def _sections_by_heading(paragraphs: list[Paragraph]) -> list[SectionRecord]:
    """One section, plus one per heading the split stage placed (folded teasers)."""
    sections = []
    heading, current = "", []
    for paragraph in paragraphs:
        if paragraph.role == ROLE_HEADING:
            sections.append(_section(heading, current))
            heading, current = paragraph.text, []
        else:
            current.append(paragraph)
    sections.append(_section(heading, current))
    kept = [section for section in sections if section.heading or section.body or section.captions]
    return kept or [SectionRecord()]


def _section(heading: str, paragraphs: list[Paragraph]) -> SectionRecord:
    body = [p.text for p in paragraphs if p.role == ROLE_BODY and p.text]
    captions = [p.text for p in paragraphs if p.role == ROLE_CAPTION and p.text]
    return SectionRecord(heading=heading, body="\n\n".join(body), captions=captions)


def _intro(paragraphs: list[Paragraph]) -> tuple[list[str], list[str]]:
    """A live blog's summary above its entries, without the "latest updates:" lead-in."""
    texts = [paragraph.text for paragraph in paragraphs if paragraph.is_body]
    while texts and texts[-1].endswith(":") and len(texts[-1].split()) <= MAX_LEAD_IN_WORDS:
        texts.pop()
    captions = [paragraph.text for paragraph in paragraphs if paragraph.role == ROLE_CAPTION]
    return texts, captions
