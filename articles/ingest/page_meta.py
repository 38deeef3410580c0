"""What a news page says about itself: its headline, publisher and publication date.

Read from the markup publishers write for search engines and social networks
(JSON-LD ``NewsArticle``, Open Graph and ``article:`` meta tags, ``<time>``),
which is more reliable than anything guessed from the visible text:

- the headline is the first of JSON-LD ``headline``, ``og:title``,
  ``twitter:title`` and ``<title>`` that agrees with a visible ``<h1>`` (a page's
  home-page title or a related story's does not), else the first of the titles
  for sharing that is not the site's own, with the site name, section
  and author that sites append (" | CBC News", " - National | Globalnews.ca",
  " * The Gateway Pundit * by Paul Serran") taken off;
- the publisher is JSON-LD ``publisher.name``, ``og:site_name`` or the page's
  ``application-name``, named as the outlet registry names it
  (``articles/ingest/outlets.py``), else the registry's outlet for the page's
  domain, else the page's own word, else the registered domain;
- the date is JSON-LD ``datePublished``, then the ``article:published_time``
  family of meta tags, then the first ``<time datetime>``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import lxml.html
from dateutil.parser import isoparse

from articles.ingest.outlets import find_outlet, name_key, outlet_for_domain, registered_domain

# Meta tags that carry the publication date, most specific first.
_DATE_META = (
    "article:published_time",
    "article:published",
    "og:published_time",
    "datepublished",
    "date",
    "pubdate",
    "publishdate",
    "dc.date.issued",
    "sailthru.date",
    "parsely-pub-date",
)
# What sites put between a headline and their name: "|", "-", "—", "–", "*", "·", "::".
_SEPARATOR = re.compile(r"(\s+(?:[|*·•]|::|[-–—]{1,2})\s+)")
# Short labels (a section: "National", "Esporte") between a headline and the site name.
_MAX_SECTION_WORDS = 2
_DATE_SEGMENT = re.compile(
    r"^(?:\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|[A-Z][a-z]{2,8}\.? \d{1,2},? \d{4})$"  # 07.12.2017
)
# A title segment "07.12.2017": dotted dates are day first wherever they are written.
_DOTTED_DATE = re.compile(r"^(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>(?:19|20)\d{2})$")
_WEB_ADDRESS = re.compile(r"^https?://[^\s/]+", re.IGNORECASE)
# A site named by its domain: "Globalnews.ca", "Salon.com" (not "U.S.").
_DOMAIN = re.compile(r"^[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}$", re.IGNORECASE)
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "\xa0": " "})
_CDATA = re.compile(r"^\s*(?://\s*)?<!\[CDATA\[|(?://\s*)?\]\]>\s*$")


@dataclass
class PageMetadata:
    titles: list[str] = field(default_factory=list)  # JSON-LD, og:, twitter:
    title_tag: str = ""  # <title>
    h1s: list[str] = field(default_factory=list)
    site_names: list[str] = field(default_factory=list)  # JSON-LD publisher, og:, app name
    published: list[str] = field(default_factory=list)  # raw timestamps, best first
    url: str = ""  # og:url, else the canonical link


def read_page_metadata(document: lxml.html.HtmlElement) -> PageMetadata:
    """The page's own statements about itself, in the order they are trusted.

    ``document`` is the parsed page, read before trafilatura cleans it."""
    meta = _meta_tags(document)
    article, publisher = _json_ld(document)
    page = PageMetadata()
    page.titles = _present(article.get("headline"), meta.get("og:title"), meta.get("twitter:title"))
    page.title_tag = _text(document.find(".//title"))
    page.h1s = _present(*(_text(h1) for h1 in document.iter("h1")))
    page.site_names = _present(publisher, meta.get("og:site_name"), meta.get("application-name"))
    times = (element.get("datetime") for element in document.iter("time"))
    page.published = _present(
        article.get("datePublished"),
        *(meta.get(key) for key in _DATE_META),
        *times,
        *map(_date_in_title, [page.title_tag, meta.get("title", "")]),
    )
    canonical = document.find(".//link[@rel='canonical']")
    links = (meta.get("og:url", ""), canonical.get("href", "") if canonical is not None else "")
    # Only a web address: a page's "javascript:" link must never become a source URL.
    page.url = next((link for link in links if _WEB_ADDRESS.match(link)), "")
    return page


def publisher_name(page: PageMetadata, url: str) -> str:
    """The outlet's canonical name where the registry knows it, else the page's word."""
    for name in page.site_names:
        if outlet := find_outlet(name) or find_outlet(_first_segment(name)):
            return outlet.name
    if outlet := outlet_for_domain(url or page.url):
        return outlet.name
    own_names = [name for name in page.site_names if not _is_headline(name, page)]
    return own_names[0] if own_names else registered_domain(url or page.url)


def headline(page: PageMetadata, site_names: list[str], byline: str = "") -> str:
    """The publisher's headline, without the site name and what comes with it; "" when
    the page has no title for sharing and its <title> and <h1> disagree."""
    furniture = _site_keys(site_names)
    cleaned = [_without_furniture(title, furniture, byline) for title in page.titles]
    visible = {_comparable(h1): h1 for h1 in page.h1s}
    title_tag = _without_furniture(page.title_tag, furniture, byline)
    for title in [*cleaned, title_tag]:
        if _comparable(title) in visible:
            return title
        for key, h1 in visible.items():
            if key and _comparable(title).startswith(key) and _follows_a_headline(title, h1):
                return h1
    for title in cleaned:
        if title and name_key(_first_segment(title)) not in furniture:
            return title
    return ""


def published_at(page: PageMetadata) -> datetime | None:
    """The first stated publication time that parses, timezone-aware (naive ones are UTC)."""
    for value in page.published:
        try:
            moment = isoparse(value.strip())
        except (ValueError, OverflowError):
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def _date_in_title(title: str) -> str:
    """A date a site prints in its page title (" - 07.12.2017 - LA NACION"), as ISO."""
    for segment in _SEPARATOR.split(title)[2::2]:
        if match := _DOTTED_DATE.match(segment.strip()):
            day, month, year = (int(match.group(part)) for part in ("day", "month", "year"))
            if 1 <= month <= 12 and 1 <= day <= 31:
                return f"{year:04d}-{month:02d}-{day:02d}"
    return ""


def _meta_tags(document) -> dict[str, str]:
    tags: dict[str, str] = {}
    for element in document.iter("meta"):
        key = element.get("property") or element.get("name") or element.get("itemprop") or ""
        content = " ".join((element.get("content") or "").split())
        if key and content:
            tags.setdefault(key.strip().casefold(), content)
    return tags


def _json_ld(document) -> tuple[dict, str]:
    """The page's JSON-LD article (the item with a headline) and its publisher's name."""
    items = []
    for script in document.iter("script"):
        if (script.get("type") or "").strip().casefold() == "application/ld+json":
            items += _ld_items(script.text or "")
    article = next((item for item in items if item.get("headline")), {})
    by_id = {item["@id"]: item for item in items if isinstance(item.get("@id"), str)}
    publisher = article.get("publisher")
    if isinstance(publisher, list) and publisher:
        publisher = publisher[0]
    if isinstance(publisher, dict) and not publisher.get("name"):
        publisher = by_id.get(publisher.get("@id"), publisher)
    name = publisher.get("name") if isinstance(publisher, dict) else publisher
    if not name:
        outlets = (item for item in items if _ld_type(item) == "newsmediaorganization")
        name = next((item.get("name") for item in outlets), "")
    return article, name if isinstance(name, str) else ""


def _ld_items(text: str) -> list[dict]:
    try:
        data = json.loads(_CDATA.sub("", text.strip()), strict=False)
    except (json.JSONDecodeError, RecursionError):
        return []  # malformed JSON-LD is common; the meta tags still speak
    found: list[dict] = []
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            found.append(item)
            if isinstance(item.get("@graph"), list):
                stack.extend(reversed(item["@graph"]))
    return found


def _ld_type(item: dict) -> str:
    kind = item.get("@type", "")
    return (kind[0] if isinstance(kind, list) and kind else kind or "").casefold()


def _present(*values) -> list[str]:
    cleaned = (" ".join(value.split()) for value in values if isinstance(value, str))
    return [value for value in cleaned if value]


def _text(element) -> str:
    return " ".join(element.text_content().split()) if element is not None else ""


def _site_keys(site_names: list[str]) -> set[str]:
    keys = set()
    for name in site_names:
        keys.add(name_key(name))
        keys.add(name_key(_first_segment(name)))
        if outlet := find_outlet(name):
            keys.update(name_key(known) for known in (outlet.name, *outlet.aliases))
    return keys - {""}


def _without_furniture(title: str, site_keys: set[str], byline: str) -> str:
    parts = _SEPARATOR.split(title)
    segments, separators = parts[::2], parts[1::2]
    dropped_site = False
    while len(segments) > 1:
        last = segments[-1].strip()
        if _is_site(last, site_keys) or _is_byline(last, byline) or _DATE_SEGMENT.match(last):
            dropped_site = dropped_site or _is_site(last, site_keys)
        elif not (dropped_site and len(last.split()) <= _MAX_SECTION_WORDS):
            break
        segments.pop()
        separators.pop()
    kept = [segments[0]]
    for separator, segment in zip(separators, segments[1:], strict=True):
        kept += [separator, segment]
    return "".join(kept).strip()


def _is_site(segment: str, site_keys: set[str]) -> bool:
    return name_key(segment) in site_keys or bool(_DOMAIN.match(segment))


def _is_byline(segment: str, byline: str) -> bool:
    if segment.casefold().startswith("by "):
        return True
    return bool(byline) and name_key(segment) in {name_key(n) for n in byline.split(";")}


def _first_segment(text: str) -> str:
    return _SEPARATOR.split(text)[0]


def _comparable(text: str) -> str:
    return " ".join(text.translate(_QUOTES).casefold().split())


def _follows_a_headline(title: str, h1: str) -> bool:
    # What follows the visible headline in the title is furniture when it starts a
    # new segment or a parenthesis: "（CNET Japan）", " | Eleanor Ainge Roy".
    rest = title[len(h1) :]
    return bool(_SEPARATOR.match(rest)) or rest.lstrip().startswith(("(", "（", "["))


def _is_headline(name: str, page: PageMetadata) -> bool:
    # Some sites put the story's headline in application-name (MSN, Yahoo).
    titles = [*page.titles, page.title_tag, *page.h1s]
    return any(_comparable(name) == _comparable(title) for title in titles)
