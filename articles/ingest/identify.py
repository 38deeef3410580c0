"""Identify what a story is: its outlet, title, kicker, byline, dateline and date.

Everything here is read from the text, the page metadata or the source URL;
the pipeline decides which of these wins (hints, then metadata, then text).

Outlets are recognised by the marks each one leaves in copied text rather
than by mentions of its name (a New York Times story that says "first
reported by The Washington Post" is still the Times'):

- The New York Times prints photo credits as "Credit...Name/Agency";
- The Washington Post's syndicated copies end "This post appeared first on
  washingtonpost.com" (any such repost notice names its site);
- The Guardian captions end "Photograph: Name/Agency" and its newsletter
  prompt reads "skip past newsletter promotion";
- wire and broadcast datelines carry the outlet: "MOSCOW (AP) —", "(CNN)",
  "(Reuters) -";
- Al Jazeera captions end "[File: Name/Agency]" and its live blogs stamp
  entries "(HH:MM GMT)".

Known outlets come from the registry (``articles/ingest/outlets.py``); the save
stage creates Outlet rows from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from articles.ingest.clean import (
    REPOST_NOTICE,
    ROLE_KICKER,
    ROLE_MEDIA,
    Paragraph,
    normalise_whitespace,
    split_run_together_kicker,
)
from articles.ingest.outlets import Outlet, find_outlet, name_key, outlet_for_domain
from articles.ingest.split import is_title_line

# (outlet slug, mark it leaves in copied text, weight). Counts are capped so that a
# page full of one mark does not drown a stronger single mark.
_SIGNATURES: tuple[tuple[str, re.Pattern[str], int], ...] = (
    ("new-york-times", re.compile(r"Credit(?:\.\.\.|…)"), 3),
    ("new-york-times", re.compile(r"\bfor The New York Times\b"), 1),
    ("guardian", re.compile(r"\bPhotograph: [^\n]{2,80}$", re.MULTILINE), 3),
    ("guardian", re.compile(r"newsletter promotion", re.IGNORECASE), 3),
    ("cnn", re.compile(r"(?:^|\s)\(CNN(?: Business)?\)", re.MULTILINE), 5),
    ("associated-press", re.compile(r"\(AP\)\s*[—–-]"), 5),
    ("reuters", re.compile(r"\(Reuters\)\s*[—–-]"), 5),
    ("afp", re.compile(r"\(AFP\)\s*[—–-]"), 5),
    ("bloomberg", re.compile(r"\(Bloomberg\)\s*[—–-]"), 5),
    ("al-jazeera", re.compile(r"\[File: [^\]]+\]"), 2),
    ("al-jazeera", re.compile(r"\(\d{1,2}:\d{2} GMT\)$", re.MULTILINE), 2),
    ("al-jazeera", re.compile(r"\b(?:told|to|with) Al Jazeera\b|\bAl Jazeera has\b"), 1),
    ("bbc-news", re.compile(r"Media playback is (?:un|not )supported on your device"), 3),
)
_MAX_COUNTED_MARKS = 3
_MIN_SIGNATURE_SCORE = 3
# A repost notice names its site outright; nothing in the text outweighs that.
_REPOST_NOTICE_SCORE = 10

# --- bylines and datelines ------------------------------------------------------

_NAME = r"[A-Z][\w’'.-]+(?:\s+(?:[A-Z][\w’'.-]+|de|da|van|von|al|el|bin))*"
_NAMES = rf"{_NAME}(?:(?:,\s*|,?\s+and\s+){_NAME})*"
_BY_LINE = re.compile(r"^By\s+(?P<names>.+)$", re.IGNORECASE)
_REPORTED_FROM = re.compile(rf"^(?P<names>{_NAMES})\s+(?:reported|wrote)\s+from\b")
_MONTH_NAME = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
# What follows the names on a "By" line: the outlet, a date, "Updated ...".
_BYLINE_TAIL = re.compile(
    r"\s*(?:[|,•·]\s*(?:CNN|Reuters|AP|AFP|Bloomberg|The [A-Z]\w+.*)$"
    r"|\s+(?:Updated|Published|Posted)\b.*$|\s+\d{1,2}:\d{2}.*$"
    rf"|\s+{_MONTH_NAME}\.?\s+\d.*$)",
)
_MAX_BYLINE_WORDS = 15
_BYLINE_SEARCH_DEPTH = 4  # a "By" line sits just under the headline

_DATELINE = re.compile(
    r"^(?P<place>[A-Z][A-Z.’'-]+(?:\s+[A-Z][A-Z.’'-]+){0,3})"  # BERLIN, NEW YORK
    r"(?:,\s+[A-Z][\w.’'-]*(?:\s+[\w.’'-]+){0,3})?"  # , Ukraine / , Jan. 5
    r"\s*(?:\([A-Z][\w ]{1,20}\))?\s*(?:[—–]|--?)\s"  # (AP) —
)
_AGENCY_DATELINE = re.compile(
    r"^(?P<place>[A-Z][\w.’'-]+(?:\s+[A-Z][\w.’'-]+){0,3})"  # Kyiv
    r"(?:,\s+[A-Z][\w.’' -]{1,30})?\s*\((?:CNN|AP|Reuters|AFP)(?: Business)?\)"
)
_DATELINE_SEARCH_DEPTH = 2

# --- dates ------------------------------------------------------------------------

_MONTH = rf"(?P<month>{_MONTH_NAME})\.?"
_YEAR = r"(?P<year>(?:19|20)\d{2})"
_DATE_FORMS = (
    re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+{_YEAR}\b"),
    re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH},?\s+{_YEAR}\b"),
    re.compile(rf"\b{_YEAR}-(?P<month_number>[01]\d)-(?P<day>[0-3]\d)\b"),
)
_PUBLICATION_MARK = re.compile(
    r"\b(?:published|updated|posted|first published|last updated)(?:\s+(?:on|at))?\b:?",
    re.IGNORECASE,
)
_MONTH_NUMBERS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
# A line that is only a date (with perhaps a weekday, a time or "Updated") is the
# page's date; a date inside a sentence is an event's date, never the article's.
_MAX_DATE_LINE_WORDS = 12
_DATE_LINE_SEARCH_HEAD = 6
_DATE_LINE_SEARCH_TAIL = 3

# A kicker above a headline is a short label: "Politics", "Russia-Ukraine War".
_MAX_KICKER_WORDS = 3
_MIN_TITLE_AFTER_KICKER_WORDS = 5


@dataclass
class Header:
    """A story's opening lines, and the paragraphs left once they are taken off."""

    kicker: str = ""
    title: str = ""
    byline: str = ""
    rest: list[Paragraph] = field(default_factory=list)


def outlet_from_text(text: str) -> Outlet | None:
    """The outlet whose marks the text carries, or None when the marks are too weak."""
    scores: dict[str, int] = {}
    for slug, pattern, weight in _SIGNATURES:
        marks = min(len(pattern.findall(text)), _MAX_COUNTED_MARKS)
        scores[slug] = scores.get(slug, 0) + marks * weight
    notices = (REPOST_NOTICE.match(line.strip()) for line in text.splitlines())
    for notice in filter(None, notices):
        if outlet := outlet_for_domain(notice.group("site")):
            scores[outlet.slug] = scores.get(outlet.slug, 0) + _REPOST_NOTICE_SCORE
    if not scores:
        return None
    slug, score = max(scores.items(), key=lambda item: item[1])
    return find_outlet(slug) if score >= _MIN_SIGNATURE_SCORE else None


def read_header(paragraphs: list[Paragraph], known_title: str = "") -> Header:
    """Take the kicker, title and "By" line off the top of a story.

    With ``known_title`` (from page metadata or the operator) the first line is
    only taken as the title when it repeats it; otherwise a title-shaped first
    line is the headline, as in text copied from a page.
    """
    header = Header()
    remaining = list(paragraphs)
    featured_title = next((p.text for p in paragraphs[:3] if p.role == ROLE_MEDIA and p.text), "")
    opening = _opening_lines(remaining, 2)
    if opening and (opening[0].role == ROLE_KICKER or _is_kicker_above_title(opening)):
        header.kicker = opening[0].text
        remaining.remove(opening[0])
    opening = _opening_lines(remaining, 1)
    if opening and opening[0].is_body:
        first = opening[0].text
        if known_title:
            if name_key(first) == name_key(known_title):
                remaining.remove(opening[0])
        elif is_title_line(first):
            header.title = first
            remaining.remove(opening[0])
            if not header.kicker:
                context = "\n".join(p.text for p in remaining)
                header.kicker, header.title = split_run_together_kicker(first, context)
    if not header.title and not known_title:
        header.title = featured_title
    header.byline, remaining = _take_by_line(remaining)
    header.rest = remaining
    return header


def find_byline(texts: list[str]) -> str:
    """Names from a "By ..." line or a "X and Y reported from Z." sign-off."""
    for text in texts[:_BYLINE_SEARCH_DEPTH]:
        if names := _by_line_names(text):
            return names
    for text in texts:
        if match := _REPORTED_FROM.match(text):
            return match.group("names")
    return ""


def clean_byline(byline: str) -> str:
    """A byline as page metadata gives it ("By Erin Cunningham") reduced to the names."""
    byline = normalise_whitespace(byline)
    if match := _BY_LINE.match(byline):
        byline = match.group("names")
    return _BYLINE_TAIL.sub("", byline).strip(" ,|")


def find_dateline(texts: list[str]) -> str:
    """The place a story was filed from: "BERLIN —" -> "BERLIN", "Kyiv, Ukraine (CNN)" -> "Kyiv"."""
    for text in texts[:_DATELINE_SEARCH_DEPTH]:
        match = _DATELINE.match(text) or _AGENCY_DATELINE.match(text)
        if match:
            return match.group("place")
    return ""


def find_text_date(texts: list[str]) -> datetime | None:
    """A publication date the text states outright, at midnight UTC; None when it states none."""
    for text in texts:
        for mark in _PUBLICATION_MARK.finditer(text):
            if found := _date_in(text[mark.end() : mark.end() + 40]):
                return found
    candidates = texts[:_DATE_LINE_SEARCH_HEAD] + texts[-_DATE_LINE_SEARCH_TAIL:]
    for text in candidates:
        if len(text.split()) <= _MAX_DATE_LINE_WORDS and (found := _date_in(text)):
            return found
    return None


def signature_text(paragraphs: list[Paragraph]) -> str:
    """The story's lines as they were in the input, credits and furniture included."""
    return "\n".join(paragraph.source or paragraph.text for paragraph in paragraphs)


def _opening_lines(paragraphs: list[Paragraph], count: int) -> list[Paragraph]:
    """The first paragraphs that carry text (placeholders and furniture skipped)."""
    return [p for p in paragraphs if p.is_visible and p.role != ROLE_MEDIA][:count]


def _is_kicker_above_title(opening: list[Paragraph]) -> bool:
    # Kickers are labels in title case ("Russia-Ukraine War"); a short headline in
    # sentence case ("Prime minister's questions") is a title, not a kicker.
    if len(opening) < 2 or not (opening[0].is_body and opening[1].is_body):
        return False
    first, second = opening[0].text, opening[1].text
    first_words, second_words = len(first.split()), len(second.split())
    return (
        first_words <= _MAX_KICKER_WORDS
        and all(word[:1].isupper() or not word[:1].isalpha() for word in first.split())
        and not first.endswith((".", "?", "!", ":"))
        and is_title_line(second)
        and second_words >= max(_MIN_TITLE_AFTER_KICKER_WORDS, first_words + 1)
    )


def _take_by_line(paragraphs: list[Paragraph]) -> tuple[str, list[Paragraph]]:
    body = [p for p in paragraphs if p.is_body][:_BYLINE_SEARCH_DEPTH]
    for paragraph in body:
        if names := _by_line_names(paragraph.text):
            return names, [p for p in paragraphs if p is not paragraph]
    return "", paragraphs


def _by_line_names(text: str) -> str:
    if len(text.split()) > _MAX_BYLINE_WORDS:
        return ""
    match = _BY_LINE.match(text)
    if match is None or not match.group("names")[:1].isupper():
        return ""
    return clean_byline(match.group("names"))


def _date_in(text: str) -> datetime | None:
    for form in _DATE_FORMS:
        for match in form.finditer(text):
            if found := _to_datetime(match):
                return found
    return None


def _to_datetime(match: re.Match[str]) -> datetime | None:
    groups = match.groupdict()
    if groups.get("month_number"):
        month = int(groups["month_number"])
    else:
        month = _MONTH_NUMBERS[groups["month"][:3].casefold()]
    try:
        return datetime(int(groups["year"]), month, int(groups["day"]), tzinfo=UTC)
    except ValueError:
        return None
