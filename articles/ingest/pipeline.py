"""The text stages put together: clean -> split -> identify.

``parse_extracted`` turns one extracted record into one or more
ArticleRecords. Who wins when sources disagree:

1. **Hints** (a manifest or the command line) override every guess: outlet,
   date, title, kicker, byline, kind.
2. **Metadata** the format reader found (``Extracted``) beats text guesses.
3. **The text** fills in the rest.

A compilation page is the exception. It holds several outlets' stories, so a
hint or metadata about *the page* says little about each story: each story's
outlet is taken from its own text first, and the page's outlet (hint, then
metadata) is used only for a story whose text cannot tell. The page's date
still applies to every story (the digest's date is the best date each story
has), but its title, kicker, byline, description and kind do not. Every story
keeps the page's origin: they all come from that one source document.

A live blog's summary above its first entry becomes its dek (after the page
description, if any), so its sections are exactly its entries.

Nothing is invented: a story with no date gets ``published_at=None``,
``date_source="unknown"`` and a review reason; an unknown outlet also asks for
review.

``load_manifest`` reads the optional ``manifest.json`` that sits beside input
files and gives the hints for each of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from articles.ingest.clean import clean_text
from articles.ingest.identify import (
    clean_byline,
    find_byline,
    find_dateline,
    find_text_date,
    outlet_from_text,
    read_header,
    signature_text,
)
from articles.ingest.outlets import Outlet, find_outlet, outlet_for_domain, registered_domain
from articles.ingest.records import (
    DATE_ESTIMATED,
    DATE_METADATA,
    DATE_TEXT,
    DATE_UNKNOWN,
    KIND_ARTICLE,
    KIND_LIVE,
    ArticleRecord,
    Extracted,
    Hints,
    IngestError,
)
from articles.ingest.split import Story, split_compilation, split_sections

MANIFEST_NAME = "manifest.json"
_MANIFEST_KEYS = frozenset(
    {"outlet", "published", "title", "kicker", "byline", "source_url", "kind"}
)
_KINDS = frozenset({KIND_ARTICLE, KIND_LIVE})
# When no headline can be found, the first words of the text stand in for one.
_FALLBACK_TITLE_WORDS = 12

REVIEW_NO_DATE = "No publication date found: give one with --published or in manifest.json."
REVIEW_CAPTURE_DATE = "Date is the web capture's time, not a publication date: check it."
REVIEW_NO_OUTLET = "Outlet not identified: give one with --outlet or in manifest.json."
REVIEW_NO_TITLE = "No headline found: the title was made from the first words of the text."
REVIEW_NO_BODY = "No body text left after cleaning."


@dataclass(frozen=True)
class _ResolvedOutlet:
    name: str = ""
    domain: str = ""


def parse_extracted(extracted: Extracted, hints: Hints | None = None) -> list[ArticleRecord]:
    """Clean, split and identify one extracted record; one ArticleRecord per story."""
    hints = hints or Hints()
    stories = split_compilation(clean_text(extracted.text))
    is_compilation = len(stories) > 1
    return [_parse_story(story, extracted, hints, is_compilation) for story in stories]


def load_manifest(directory: Path) -> dict[str, Hints]:
    """Hints for the files in ``directory`` from its manifest.json, keyed by file name.

    No manifest means no hints. A manifest that cannot be read raises IngestError
    naming the file, since loading with half the operator's facts missing would
    silently mislabel articles.
    """
    path = Path(directory) / MANIFEST_NAME
    if not path.is_file():
        return {}
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise IngestError(f"{path}: not valid JSON ({error})") from error
    except RecursionError as error:
        raise IngestError(f"{path}: not valid JSON (nested too deeply)") from error
    if not isinstance(entries, dict):
        raise IngestError(f"{path}: expected an object keyed by file name")
    return {name: _hints_from_entry(path, name, entry) for name, entry in entries.items()}


def _hints_from_entry(path: Path, name: str, entry: object) -> Hints:
    if not isinstance(entry, dict):
        raise IngestError(f"{path}: the entry for {name!r} must be an object")
    unknown = set(entry) - _MANIFEST_KEYS
    if unknown:
        raise IngestError(f"{path}: unknown key(s) {sorted(unknown)} for {name!r}")
    if any(not isinstance(value, str) for value in entry.values()):
        raise IngestError(f"{path}: every value for {name!r} must be a string")
    kind = entry.get("kind", "")
    if kind and kind not in _KINDS:
        raise IngestError(f"{path}: kind for {name!r} must be one of {sorted(_KINDS)}")
    published = entry.get("published", "")
    try:
        published_at = parse_published(published) if published else None
    except ValueError as error:
        raise IngestError(f"{path}: published for {name!r}: {error}") from error
    return Hints(
        outlet=entry.get("outlet", ""),
        published_at=published_at,
        title=entry.get("title", ""),
        kicker=entry.get("kicker", ""),
        byline=entry.get("byline", ""),
        source_url=entry.get("source_url", ""),
        kind=kind,
    )


def parse_published(value: str) -> datetime:
    """An ISO date or datetime as a timezone-aware datetime (a date is midnight UTC)."""
    value = value.strip()
    try:
        if len(value) == len("2022-01-26"):
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO date (2022-01-26) or datetime") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _parse_story(
    story: Story, extracted: Extracted, hints: Hints, is_compilation: bool
) -> ArticleRecord:
    # Facts about the page describe the story only when the page is that one story.
    page_facts = not is_compilation
    # A format reader's title means the text is body only (its first line is the
    # title only if it repeats it); a hinted title just replaces the text's headline.
    known_title = extracted.title if page_facts else ""
    hinted_title = hints.title if page_facts else ""
    header = read_header(story.paragraphs, known_title)
    texts = [paragraph.text for paragraph in story.paragraphs if paragraph.is_body]

    published_at, date_source = _publication_date(extracted, hints, texts)
    kind = hints.kind if page_facts else ""
    split = split_sections(header.rest, published_at, kind)
    body_texts = [text for section in split.sections for text in section.body.split("\n\n")]

    outlet = _resolve_outlet(extracted, hints, signature_text(story.paragraphs), is_compilation)
    record = ArticleRecord(
        origin=extracted.origin,
        title=(hinted_title or known_title or header.title or _fallback_title(body_texts)),
        sections=split.sections,
        outlet=outlet.name,
        outlet_domain=outlet.domain,
        kicker=(hints.kicker if page_facts else "") or header.kicker,
        dek=_dek(extracted.description if page_facts else "", split.intro),
        byline=_byline(extracted, hints, header.byline, texts, page_facts),
        dateline=find_dateline(body_texts),
        source_url=hints.source_url or extracted.source_url,
        published_at=published_at,
        date_source=date_source,
        kind=split.kind,
        one_of_several=is_compilation,
    )
    found_title = hinted_title or known_title or header.title
    record.review_reasons = _review_reasons(record, story, found_title)
    return record


def _publication_date(
    extracted: Extracted, hints: Hints, texts: list[str]
) -> tuple[datetime | None, str]:
    if hints.published_at is not None:
        return _aware(hints.published_at), DATE_METADATA
    if extracted.published_at is not None:
        return _aware(extracted.published_at), DATE_METADATA
    if (stated := find_text_date(texts)) is not None:
        return stated, DATE_TEXT
    if extracted.captured_at is not None:
        # A web capture proves the page existed then: published at or before it.
        return _aware(extracted.captured_at), DATE_ESTIMATED
    return None, DATE_UNKNOWN


def _resolve_outlet(
    extracted: Extracted, hints: Hints, signatures: str, is_compilation: bool
) -> _ResolvedOutlet:
    from_text = _as_resolved(outlet_from_text(signatures))
    page_known = _page_outlet(extracted, hints)
    if is_compilation:
        return from_text or page_known or _unlisted_site(extracted) or _ResolvedOutlet()
    return page_known or from_text or _unlisted_site(extracted) or _ResolvedOutlet()


def _page_outlet(extracted: Extracted, hints: Hints) -> _ResolvedOutlet | None:
    """The outlet the operator named, else the registry's outlet for the page's site name or URL."""
    if hints.outlet:
        return _as_resolved(find_outlet(hints.outlet)) or _ResolvedOutlet(hints.outlet)
    # The page's own name for its publisher, when the registry knows it, is more
    # specific than its domain's ("Yahoo News" on us.yahoo.com).
    if extracted.site_name and (outlet := find_outlet(extracted.site_name)):
        return _as_resolved(outlet)
    for url in (hints.source_url, extracted.source_url):
        if url and (outlet := outlet_for_domain(url)):
            return _as_resolved(outlet)
    return None


def _unlisted_site(extracted: Extracted) -> _ResolvedOutlet | None:
    # A site name we do not know is still the page's own word on its outlet, but it
    # ranks below the text's marks: aggregators put their own name in that field.
    # Its registered domain finds the outlet a curator has named in admin.
    name = extracted.site_name.strip()
    return _ResolvedOutlet(name, registered_domain(extracted.source_url)) if name else None


def _as_resolved(outlet: Outlet | None) -> _ResolvedOutlet | None:
    return _ResolvedOutlet(outlet.name, outlet.domain) if outlet else None


def _byline(
    extracted: Extracted, hints: Hints, header_byline: str, texts: list[str], page_facts: bool
) -> str:
    if page_facts and hints.byline:
        return hints.byline
    if page_facts and extracted.byline:
        return clean_byline(extracted.byline)
    return header_byline or find_byline(texts)


def _dek(description: str, intro: list[str]) -> str:
    parts = [description.strip(), *intro] if description.strip() else intro
    if len(parts) > 1 and parts[0] == parts[1]:
        parts = parts[1:]
    return "\n\n".join(parts)


def _fallback_title(body_texts: list[str]) -> str:
    words = " ".join(body_texts).split()
    if not words:
        return ""
    title = " ".join(words[:_FALLBACK_TITLE_WORDS])
    return title + ("…" if len(words) > _FALLBACK_TITLE_WORDS else "")


def _review_reasons(record: ArticleRecord, story: Story, found_title: str) -> list[str]:
    reasons = []
    if record.published_at is None:
        reasons.append(REVIEW_NO_DATE)
    elif record.date_source == DATE_ESTIMATED:
        reasons.append(REVIEW_CAPTURE_DATE)
    if not record.outlet:
        reasons.append(REVIEW_NO_OUTLET)
    if not found_title and record.title:
        reasons.append(REVIEW_NO_TITLE)
    if not record.body:
        reasons.append(REVIEW_NO_BODY)
    reasons.extend(
        f"A short piece headed {title!r} was kept as a section of this story: "
        "check that it belongs here."
        for title in story.folded_titles
    )
    return reasons


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
