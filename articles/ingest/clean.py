"""Clean text copied from news sites: keep the journalism, set captions apart.

Text pasted or scraped from a news page carries a lot that is not journalism:
photo credits, image and video placeholders, advertisements, newsletter
prompts, aggregator counters and site footers. ``clean_text`` turns the raw
text into a list of typed ``Paragraph``s:

- ``body``: journalism, kept in order;
- ``caption``: photo captions, with their credit stripped, kept apart from the
  body so the reader sees them as captions and search does not treat them as
  prose;
- ``media``: where an image, a video or a bare photo credit stood. The text is
  gone but the position matters: the split stage uses these markers to find
  where a live-blog entry or an aggregated story starts;
- ``kicker``: a section label that the page ran together with the headline
  ("Russia-Ukraine WarAllies Fail ...");
- ``furniture``: advertisements, newsletter prompts, "Read Entire Article",
  counters, licence and theme footers, link bars, repost notices. Never shown
  or indexed, but kept in place: a repost notice or a Guardian newsletter
  prompt is how the identify stage recognises the outlet.

Every paragraph keeps the line it came from in ``source``. The rules are
patterns over the shapes these things take on many sites, not over particular
strings.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

ROLE_BODY = "body"
ROLE_CAPTION = "caption"
ROLE_MEDIA = "media"
ROLE_KICKER = "kicker"
ROLE_HEADING = "heading"  # set by the split stage: a heading inside a story
ROLE_FURNITURE = "furniture"  # site furniture: not shown, but it names the outlet

MEDIA_IMAGE = "image"  # an image placeholder ("img]")
MEDIA_FEATURED = "featured"  # an aggregator's "Featured image of post <title>"
MEDIA_VIDEO = "video"
MEDIA_CREDIT = "credit"  # a photo credit standing alone, its caption missing


@dataclass(frozen=True)
class Paragraph:
    text: str  # what a reader sees: caption text without its credit, "" for markers
    role: str = ROLE_BODY
    media: str = ""  # for ROLE_MEDIA: one of the MEDIA_* kinds
    source: str = ""  # the line as it was in the input

    @property
    def is_body(self) -> bool:
        return self.role == ROLE_BODY

    @property
    def is_visible(self) -> bool:
        """Whether the paragraph takes part in the page's structure (furniture does not)."""
        return self.role != ROLE_FURNITURE


# --- site furniture that is dropped outright -------------------------------

_ADVERTISEMENT = re.compile(
    r"^(?:advertisements?|sponsored(?: content)?|story continues below advertisement"
    r"|advertisement\W+scroll to continue(?: with content)?|scroll to continue with content)$",
    re.IGNORECASE,
)
_READ_MORE = re.compile(
    r"^(?:read (?:the )?(?:entire|full|original|whole)(?: article| story| post)?"
    r"|read more(?: here)?|continue reading(?: the (?:main )?story)?|full story"
    r"|view (?:full|original) (?:article|story|post))\W*$",
    re.IGNORECASE,
)
_NEWSLETTER = re.compile(
    r"(?:skip past |after )?newsletter promotion"
    r"|^(?:sign up|subscribe|get|join|receive|enter your email)\b.*\b(?:newsletter|inbox|email)"
    r"|^privacy notice:",
    re.IGNORECASE,
)
# An aggregator's "posted 1 week ago" counter, often with a view or comment count.
_AGE_COUNTER = re.compile(
    r"^(?:\d+|an?|one)\s+(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?"
    r"|years?)\s+ago(?:\s*[·•|]?\s*\d+)?$",
    re.IGNORECASE,
)
_LICENCE = re.compile(
    r"^(?:licen[sc]ed under|this work is licen[sc]ed)\b"
    r"|\bcreative commons\b|\bCC BY(?:-[A-Z]{2})*\b",
    re.IGNORECASE,
)
_SITE_GENERATOR = re.compile(
    r"\b(?:hugo|jekyll|wordpress|ghost|hexo|gatsby|blogger|squarespace|wix)\b", re.IGNORECASE
)
# "Built with Hugo", "Proudly powered by WordPress", "使用 Hugo 建立"; without such a verb a
# generator's name is news ("WordPress founder quits").
_GENERATOR_CREDIT = re.compile(
    r"\b(?:built|powered|made|created|generated|running)\s+(?:with|by|on)\b|使用|建立|驱动|驅動",
    re.IGNORECASE,
)
_THEME_CREDIT = re.compile(r"^(?:theme|主題|主题|テーマ)\b", re.IGNORECASE)
_COPYRIGHT = re.compile(
    r"^(?:©|\(c\)|copyright\s*(?:©|\(c\)|\d{4}))|\ball rights reserved\b", re.IGNORECASE
)
_SENTENCE_PUNCTUATION = re.compile(r"[.!?]")
# "This post appeared first on washingtonpost.com": a syndication notice, not prose.
REPOST_NOTICE = re.compile(
    r"^(?:this|the) (?:post|article|story)\b.{0,120}?"
    r"\b(?:appeared|was published|was first published)(?: first)? (?:on|in|at) "
    r"(?P<site>[\w.-]+\.[a-z]{2,})\W*$",
    re.IGNORECASE,
)

# Footer lines are short; a long line that merely mentions a licence is prose.
_MAX_FOOTER_WORDS = 12

# --- media placeholders ------------------------------------------------------

_IMAGE_PLACEHOLDER = re.compile(r"^\[?(?:img|image|photo|picture)\]?$", re.IGNORECASE)
_FEATURED_IMAGE = re.compile(r"^featured image(?: of post)?[:\s]+(?P<title>.+)$", re.IGNORECASE)
_VIDEO_PLACEHOLDER = re.compile(
    r"^(?:video player loading|loading video|play video|watch video|video ad feedback"
    r"|media playback is (?:unsupported|not supported) on your device|video)\W*$",
    re.IGNORECASE,
)

# --- photo credits -----------------------------------------------------------

# NYT: "Credit...Name/Agency", glued to the caption ("caption.Credit...") or alone.
_NYT_CREDIT = re.compile(r"(?:Credit)+(?:\.\.\.|…)\s*\S.*$")
# Guardian and others: "caption. Photograph: Name/Agency" (also Photo:, Illustration:).
_LABELLED_CREDIT = re.compile(
    r"\s*\b(?:Photograph|Photo|Photos|Illustration|Composite|Image|Picture)(?: by|:)\s*"
    r"(?:(?!\.\s)[^:]){2,80}$"
)
# Al Jazeera and others: "caption [File: Name/Agency]" or "caption [Name/Agency]".
_BRACKET_CREDIT = re.compile(r"\s*\[(?:File:[^\[\]]*|[^\[\]]{1,80}/[^\[\]]{1,80})\]\s*$")
# AP and wire photos: "caption (AP Photo/Name)", "caption (Agency via AP)".
_PAREN_CREDIT = re.compile(
    r"\s*\((?:[^()]{0,80}\bvia (?:AP|AFP|Reuters|Getty Images|EPA)"
    r"|(?:AP|AFP|Reuters|EPA) Photo\b[^()]*|Photo by [^()]*)\)\s*$"
)
_CREDIT_PATTERNS = (_NYT_CREDIT, _BRACKET_CREDIT, _PAREN_CREDIT, _LABELLED_CREDIT)

# Captions that say so without any credit.
_CAPTION_OPENING = re.compile(r"^In (?:this|these) (?:file )?(?:photos?|images?)\b", re.I)
_PICTURED = re.compile(r"\bpictured\b", re.IGNORECASE)
_MAX_PICTURED_CAPTION_WORDS = 25
_QUOTES = re.compile(r"[\"“”]")

# CNN galleries flatten to "Photos: <gallery> <caption> Hide Caption 1 of 35 Photos: ..."
_GALLERY_SEPARATOR = re.compile(r"\s*Hide Caption \d+ of \d+\s*")
_GALLERY_LABEL = re.compile(r"^Photos?:\s*")

# Alt text sits on the line before a credited caption: short, with no end punctuation.
_MAX_ALT_TEXT_WORDS = 30

# --- headline shapes -----------------------------------------------------------

# "Russia-Ukraine WarAllies Fail ...": a lower-case letter directly followed by an
# upper-case word marks where a kicker and a headline were run together.
_RUN_TOGETHER = re.compile(r"(?<=[a-z])(?=[A-Z][a-z])")
# Camel-cased names that may appear in a headline only; any other fused word that
# recurs in the text is a name too ("WorldCom", "EastEnders"), never a seam.
_CAMEL_CASE_NAMES = frozenset(
    {"YouTube", "iPhone", "iPad", "LinkedIn", "PayPal", "TikTok", "WhatsApp", "OpenAI",
     "JPMorgan", "BlackRock", "FedEx", "PlayStation", "DeSantis", "McCarthy", "McConnell"}
)  # fmt: skip
_SECTION_LABELS = frozenset(
    {
        "opinion", "analysis", "politics", "world", "europe", "asia", "africa", "americas", "live",
        "exclusive", "breaking", "explainer", "review", "business", "economy", "sport", "sports",
        "tech", "technology", "science", "health", "culture", "video", "podcast", "interview",
        "investigation", "investigations", "ukraine", "russia", "war", "defense", "defence",
        "security", "environment", "climate", "briefing", "newsletter",
    }
)  # fmt: skip
_MAX_HEADLINE_WORDS = 30


def clean_text(text: str) -> list[Paragraph]:
    """Return the text's paragraphs, typed, with site furniture removed."""
    paragraphs: list[Paragraph] = []
    for block in _blocks(text):
        paragraphs.extend(_classify_block(block))
    paragraphs = _collapse_repeats(paragraphs)
    return _split_leading_kicker(paragraphs)


def strip_credit(line: str) -> str:
    """Return a caption line without its photo credit ('' if it was only a credit)."""
    for pattern in _CREDIT_PATTERNS:
        line = pattern.sub("", line)
    return line.strip()


def has_credit(line: str) -> bool:
    return any(pattern.search(line) for pattern in _CREDIT_PATTERNS)


def split_run_together_kicker(line: str, context: str = "") -> tuple[str, str]:
    """Split "Russia-Ukraine WarAllies Fail ..." into ("Russia-Ukraine War", "Allies Fail ...").

    ``context`` is the rest of the text: a fused word that recurs there is a
    name ("WorldCom director admits lying"), not a kicker glued to a headline.
    Returns ("", line) when the line is not a kicker glued to a headline.
    """
    if len(line.split()) > _MAX_HEADLINE_WORDS or line.rstrip().endswith("."):
        return "", line
    for word_match in re.finditer(r"\S+", line):
        word = word_match.group()
        boundary = _RUN_TOGETHER.search(word)
        if boundary is None:
            continue
        name = word.strip("‘’'\".,:;!?()")
        if name in _CAMEL_CASE_NAMES or _name_recurs(name, context):
            continue
        cut = word_match.start() + boundary.start()
        kicker, headline = line[:cut].strip(), line[cut:].strip()
        if _is_plausible_kicker(kicker) and len(headline.split()) >= 3:
            return kicker, headline
        return "", line
    return "", line


def normalise_whitespace(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\u00a0", " ").replace("\u200b", "")
    return re.sub(r"[ \t]+", " ", text).strip()


def _name_recurs(word: str, context: str) -> bool:
    possessive_stripped = re.sub(r"[’']s$", "", word)
    return bool(context) and re.search(rf"\b{re.escape(possessive_stripped)}", context) is not None


def _is_plausible_kicker(kicker: str) -> bool:
    # A kicker is a short label; the last word before the seam must be a real word
    # ("War"), not a prefix such as "Mc" or "De" from a name we do not know. A
    # one-word kicker must be a section label: "Word" of "WordPress" is not one.
    words = kicker.split()
    if len(words) == 1:
        return kicker.casefold() in _SECTION_LABELS
    return len(words) <= 5 and len(words[-1]) >= 3 and kicker[0].isupper()


def _blocks(text: str) -> list[list[str]]:
    """Blank-line separated blocks, each a list of non-empty, normalised lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks = []
    for raw_block in re.split(r"\n\s*\n", text):
        lines = [normalise_whitespace(line) for line in raw_block.split("\n")]
        lines = [line for line in lines if line]
        if lines:
            blocks.append(lines)
    return blocks


def _classify_block(lines: list[str]) -> list[Paragraph]:
    paragraphs: list[Paragraph] = []
    for index, line in enumerate(lines):
        if _is_furniture(line):
            paragraphs.append(Paragraph("", ROLE_FURNITURE, source=line))
            continue
        classified = _classify_line(line)
        if classified and classified[0].role == ROLE_CAPTION and paragraphs:
            _mark_alt_text(paragraphs, lines[index - 1] if index else "")
        paragraphs.extend(classified)
    return paragraphs


def _mark_alt_text(paragraphs: list[Paragraph], previous_line: str) -> None:
    """Turn the line just above a caption, in the same block, into caption when it is alt text.

    The Guardian prints an image's alt text ("Boris Pistorius signs a document at a
    meeting") on the line above its credited caption; prose never sits glued to a
    caption without a blank line, and alt text carries no end punctuation.
    """
    last = paragraphs[-1]
    if (
        last.is_body
        and last.text == previous_line
        and not last.text.endswith((".", "!", "?", ":", "”", '"'))
        and len(last.text.split()) <= _MAX_ALT_TEXT_WORDS
    ):
        paragraphs[-1] = Paragraph(last.text, ROLE_CAPTION, source=last.source)


def _is_furniture(line: str) -> bool:
    return bool(
        _ADVERTISEMENT.match(line)
        or _READ_MORE.match(line)
        or _AGE_COUNTER.match(line)
        or (_is_short(line, _MAX_FOOTER_WORDS) and _NEWSLETTER.search(line))
        or _is_footer(line)
        or _is_link_bar(line)
        or REPOST_NOTICE.match(line)
    )


def _is_footer(line: str) -> bool:
    if not _is_short(line, _MAX_FOOTER_WORDS):
        return False
    if _LICENCE.search(line) or _COPYRIGHT.search(line) or _THEME_CREDIT.search(line):
        return True
    return bool(_SITE_GENERATOR.search(line) and _GENERATOR_CREDIT.search(line))


def _is_link_bar(line: str) -> bool:
    """A navigation bar flattened to text: "Home | World | | |"."""
    items = [item.strip() for item in line.split("|")]
    if len(items) < 3:
        return False
    return all(len(item.split()) <= 4 for item in items) and not any(
        _SENTENCE_PUNCTUATION.search(item) for item in items
    )


def _classify_line(line: str) -> list[Paragraph]:
    if _IMAGE_PLACEHOLDER.match(line):
        return [Paragraph("", ROLE_MEDIA, MEDIA_IMAGE, line)]
    if featured := _FEATURED_IMAGE.match(line):
        return [Paragraph(featured.group("title").strip(), ROLE_MEDIA, MEDIA_FEATURED, line)]
    if _VIDEO_PLACEHOLDER.match(line):
        return [Paragraph("", ROLE_MEDIA, MEDIA_VIDEO, line)]
    if _GALLERY_SEPARATOR.search(line):
        captions = _gallery_captions(line)
        return [Paragraph(caption, ROLE_CAPTION, source=line) for caption in captions]
    if has_credit(line):
        caption = strip_credit(line)
        if not caption:
            return [Paragraph("", ROLE_MEDIA, MEDIA_CREDIT, line)]
        return [Paragraph(caption, ROLE_CAPTION, source=line)]
    if _CAPTION_OPENING.match(line) or _is_pictured_caption(line):
        return [Paragraph(line, ROLE_CAPTION, source=line)]
    return [Paragraph(line, source=line)]


def _is_pictured_caption(line: str) -> bool:
    # "Russia's Foreign Minister Sergey Lavrov pictured addressing the State Duma."
    # A short, unquoted sentence built around "pictured" describes a photo.
    return (
        bool(_PICTURED.search(line))
        and _is_short(line, _MAX_PICTURED_CAPTION_WORDS)
        and not _QUOTES.search(line)
    )


def _gallery_captions(line: str) -> list[str]:
    captions = [_GALLERY_LABEL.sub("", part) for part in _GALLERY_SEPARATOR.split(line)]
    captions = [caption.strip() for caption in captions if caption.strip()]
    gallery_title = _common_word_prefix(captions) if len(captions) >= 3 else ""
    if gallery_title:
        captions = [caption[len(gallery_title) :].strip() for caption in captions]
    return [caption for caption in captions if caption]


def _common_word_prefix(texts: list[str]) -> str:
    word_lists = [text.split() for text in texts]
    prefix: list[str] = []
    for words in zip(*word_lists, strict=False):
        if len(set(words)) != 1:
            break
        prefix.append(words[0])
    return " ".join(prefix)


def _collapse_repeats(paragraphs: list[Paragraph]) -> list[Paragraph]:
    """Drop a paragraph that repeats the one before it (headlines and captions printed twice)."""
    collapsed: list[Paragraph] = []
    previous: Paragraph | None = None
    for paragraph in paragraphs:
        if (
            previous is not None
            and paragraph.text
            and previous.role == paragraph.role
            and previous.text.casefold() == paragraph.text.casefold()
        ):
            continue
        collapsed.append(paragraph)
        if paragraph.is_visible:
            previous = paragraph
    return collapsed


def _split_leading_kicker(paragraphs: list[Paragraph]) -> list[Paragraph]:
    if not paragraphs or not paragraphs[0].is_body:
        return paragraphs
    context = "\n".join(paragraph.text for paragraph in paragraphs[1:])
    kicker, headline = split_run_together_kicker(paragraphs[0].text, context)
    if not kicker:
        return paragraphs
    source = paragraphs[0].source
    return [
        Paragraph(kicker, ROLE_KICKER, source=source),
        Paragraph(headline, source=source),
        *paragraphs[1:],
    ]


def _is_short(line: str, max_words: int) -> bool:
    return len(line.split()) <= max_words
