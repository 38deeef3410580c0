"""HTML pages: the article text and metadata, extracted by trafilatura."""

from __future__ import annotations

import codecs
import re
from datetime import UTC, datetime
from typing import Any

import trafilatura

from articles.ingest import page_meta
from articles.ingest.decode import decode_bytes
from articles.ingest.records import Extracted, IngestError

# htmldate (trafilatura's date finder) reads only the page's markup and URL:
# no guessing from the running text, and nothing else is returned when the page
# has no date, so a page without one gets None, never today's date. Page
# metadata goes before the date in the URL because it usually carries the time.
_DATE_PARAMS: dict[str, Any] = {
    "extensive_search": False,
    "original_date": True,
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
    "deferred_url_extractor": True,
}
# Site furniture that trafilatura's byline heuristics pick up as an author (the
# Washington Post's login menu reads "Username", then "Follow").
_NOT_AUTHORS = frozenset(
    {"username", "user name", "follow", "admin", "administrator", "guest", "anonymous", "login"}
)
# The charset a page declares in its first bytes (<meta charset> or http-equiv).
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_META_SNIFF_BYTES = 4096
# Labels browsers read as a wider encoding (WHATWG Encoding Standard): pages
# declaring them routinely use the extra characters.
_WIDER_ENCODING = {"latin-1": "cp1252", "ascii": "cp1252", "gb2312": "gb18030", "gbk": "gb18030"}
_BYLINE_SEPARATOR = "; "  # how trafilatura joins several authors


def extract_html(html: str | bytes, origin: str, url: str = "", charset: str = "") -> Extracted:
    """The article in one HTML page, with the page's own metadata.

    ``url`` is where the page came from (it wins over the page's canonical link);
    ``charset`` is the encoding the server declared, for ``bytes`` input.
    ``published_at`` is the page's own date, timezone-aware (naive values and
    bare dates are taken as UTC), or None when the page has none.
    Raises IngestError naming ``origin`` when the page has no article text.
    """
    markup = decode_html(html, origin, charset) if isinstance(html, bytes) else html
    tree = trafilatura.load_html(markup)  # parsed once, for the metadata and the text
    page = page_meta.read_page_metadata(tree) if tree is not None else page_meta.PageMetadata()
    document = _extract(tree, url) if tree is not None else None
    text = _paragraphs(document.text if document is not None else "")
    if document is None or not text:
        raise IngestError(f"{origin}: no article text found in the HTML page")
    source_url = url or document.url or page.url
    byline = _byline(document.author)
    site_name = page_meta.publisher_name(page, source_url)
    return Extracted(
        origin=origin,
        text=text,
        title=page_meta.headline(page, [site_name, *page.site_names], byline)
        or _one_line(document.title),
        byline=byline,
        source_url=source_url,
        site_name=site_name,
        # The page's own statement first; htmldate's finding (which may come from
        # the URL or a script) only when the page states none.
        published_at=page_meta.published_at(page) or parse_iso_datetime(document.date),
        description=_one_line(document.description),
    )


def decode_html(raw: bytes, origin: str, charset: str = "") -> str:
    """Decode a page by the charset its server or its <meta> declares, else by detection.

    A declaration is more reliable than statistics on the bytes, but it is only
    taken when the page really decodes with it.
    """
    for declared in (charset, _meta_charset(raw)):
        encoding = _codec_for(declared)
        if encoding is None:
            continue
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return decode_bytes(raw, origin)


def _meta_charset(raw: bytes) -> str:
    match = _META_CHARSET.search(raw[:_META_SNIFF_BYTES])
    return match.group(1).decode("ascii", errors="ignore") if match else ""


def _codec_for(label: str) -> str | None:
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip()).name
    except LookupError:
        return None
    return _WIDER_ENCODING.get(name, name)


def _extract(tree, url: str):
    return trafilatura.bare_extraction(
        tree,
        url=url or None,
        with_metadata=True,
        favor_precision=True,  # a missing paragraph costs less than menus in the body
        include_comments=False,  # reader comments are not the article
        date_extraction_params=dict(_DATE_PARAMS),
        author_blacklist=set(_NOT_AUTHORS),
    )


def _paragraphs(text: str | None) -> str:
    # trafilatura puts each block (paragraph, heading, list item) on its own line;
    # the pipeline separates paragraphs by a blank line.
    lines = (line.strip() for line in (text or "").splitlines())
    return "\n\n".join(line for line in lines if line)


def _one_line(value: str | None) -> str:
    return " ".join((value or "").split())


def _byline(authors: str | None) -> str:
    """trafilatura's authors without placeholders or repeats ("Jeffrey Gettleman;
    JEFFREY GETTLEMAN", from a visible byline and a meta tag, is one author)."""
    names: dict[str, str] = {}
    for name in (_one_line(part) for part in (authors or "").split(";")):
        if name and name.casefold() not in _NOT_AUTHORS:
            names.setdefault(name.casefold(), name)
    return _BYLINE_SEPARATOR.join(names.values())


def parse_iso_datetime(value: str | None) -> datetime | None:
    """An ISO 8601 timestamp as an aware datetime (naive ones are UTC); None when
    missing or impossible, never a guess."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
