"""Template helpers: links that add or remove a search parameter, safe outbound
links, and article text with entity names linked. Everything from the database
is escaped here; only markup built in this module is marked safe."""

from __future__ import annotations

import html
import re
from datetime import datetime
from urllib.parse import urlencode, urlsplit

from django import template
from django.http import QueryDict
from django.utils import timezone
from django.utils.dates import MONTHS, MONTHS_3
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from articles.links import page_url
from articles.models import public_origin
from articles.search import month_bounds

register = template.Library()

_PARAGRAPHS = re.compile(r"\n\s*\n")


def _query(params: QueryDict, changes, *, keep_page: bool = False) -> str:
    """The current parameters with `changes` made to them ({key: [values]}) as a
    query string; a changed search starts again at its first page."""
    query = {k: list(v) for k, v in params.lists()} if isinstance(params, QueryDict) else {}
    if not keep_page:
        query.pop("page", None)
    changes(query)
    encoded = urlencode([(key, value) for key, values in query.items() for value in values])
    return f"?{encoded}" if encoded else "?"


@register.simple_tag
def toggle_url(params, key: str, value: str) -> str:
    """The current search with `key=value` added, or removed when already there."""

    def change(query):
        values = query.get(key, [])
        query[key] = [v for v in values if v != value] if value in values else [*values, value]

    return _query(params, change)


@register.simple_tag
def facet_links(params, key: str, values) -> list[tuple]:
    """(value, link) for each of a facet's `values`: the current search with the
    value's `key=value` added, or removed when already there."""
    chosen = params.getlist(key) if isinstance(params, QueryDict) else []
    # A facet lists many values: the rest of the query is encoded once for them all.
    current = _query(params, lambda query: None)
    joiner = "&" if len(current) > 1 else ""
    return [
        (
            v,
            toggle_url(params, key, v.value)
            if v.value in chosen
            else f"{current}{joiner}{urlencode({key: v.value})}",
        )
        for v in values
    ]


@register.simple_tag
def month_links(params, months) -> list[tuple]:
    """(month, link) for each month of the facet: the current search limited to
    that month ("2023-01"), or no longer when it already was."""

    def undated(query):
        query.pop("from", None)
        query.pop("to", None)

    without = _query(params, undated)
    joiner = "&" if len(without) > 1 else ""
    links = []
    for month in months:
        if month.selected:
            links.append((month, without))
        else:
            first, last = month_bounds(month.value)
            links.append((month, f"{without}{joiner}from={first}&to={last}"))
    return links


# How the pages write a moment, by name. The `date` filter reads its format anew and
# looks the month's name up through the translation machinery for each of the
# hundred dates a search page can show.
_MOMENTS = {
    "day": "{day} {month} {year}",  # 4 March 2024
    "day_minute": "{day} {month} {year}, {time}",  # 4 March 2024, 14:05
    "short_day_minute": "{day} {mon} {year}, {time}",  # 4 Mar 2024, 14:05
    "short_minute": "{day} {mon}, {time}",  # 4 Mar, 14:05
}


@register.simple_tag
def moment(value: datetime, style: str) -> SafeString:
    """`value` (in the current time zone) as a <time> element written as `style`."""
    local = timezone.localtime(value)
    text = _MOMENTS[style].format(
        day=local.day,
        month=MONTHS[local.month],
        mon=MONTHS_3[local.month].title(),
        year=local.year,
        time=f"{local.hour:02d}:{local.minute:02d}",
    )
    # Digits and month names only: nothing to escape.
    return mark_safe(f'<time datetime="{local.isoformat()}">{text}</time>')  # noqa: S308


@register.simple_tag
def entity_url(slug: str) -> str:
    """An entity's page, as {% url 'entity-detail' slug %} gives it (remembered)."""
    return page_url("entity-detail", slug)


@register.simple_tag
def entity_tags(entities: list[dict], most: int) -> SafeString:
    """The list items of the first `most` of a hit's entities, each a link to its page:
    made here, not in a template loop, as a page lists a hundred (escaped as in
    `facet_items`)."""
    items = (
        f'<li><a href="{html.escape(entity_url(e["slug"]))}">{html.escape(e["name"])}</a></li>'
        for e in entities[:most]
    )
    return mark_safe("".join(items))  # noqa: S308 - every link and name escaped above


# One value of a facet: its label and count, a link that toggles it.
_FACET_ITEM = (
    '<li><a href="{}" class="facet-link{}"{}><span>{}</span> <span class="count">{}</span></a></li>'
)
_SELECTED = (" is-selected", ' aria-current="true"')


@register.simple_tag
def facet_items(links) -> SafeString:
    """The list items of a facet's (value, link) pairs: made here, not in a template
    loop, as a search page lists a few hundred values (every month of a decade). Each
    link and label is escaped by html.escape, as Django's escape does it: Django's
    checks for lazy text around it cost more than the escaping, value by value."""
    items = (
        _FACET_ITEM.format(
            html.escape(link),
            *(_SELECTED if v.selected else ("", "")),
            html.escape(str(v.label)),
            int(v.count),
        )
        for v, link in links
    )
    return mark_safe("\n".join(items))  # noqa: S308 - every link and label escaped above


@register.simple_tag
def set_url(params, key: str, value) -> str:
    """The current search with `key` set to `value` (page kept only when it is the key)."""

    def change(query):
        query[key] = [str(value)]

    return _query(params, change, keep_page=key == "page")


@register.filter
def http_url(url: str) -> str:
    """The URL when it is http(s) with a host, else "": other schemes are never links."""
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return ""
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else ""


# Where an input came from, for readers: never the loading machine's directories.
register.filter("file_name", public_origin)


@register.simple_tag
def linked_text(text: str, links=None) -> SafeString:
    """Paragraphs of plain text as <p>, escaped, each entity's first name linked.

    `links`: (compiled pattern, entity URL, entity name) for the section."""
    linked: set[str] = set()
    paragraphs = []
    for paragraph in _PARAGRAPHS.split(text or ""):
        paragraph = paragraph.strip()
        if paragraph:
            paragraphs.append(format_html("<p>{}</p>", _link(paragraph, links or (), linked)))
    return mark_safe("\n".join(paragraphs))  # noqa: S308 - each part built by format_html


def _link(text: str, links, linked: set[str]) -> SafeString:
    spans = []
    for pattern, url, name in links:
        if url in linked:
            continue
        match = pattern.search(text)
        if match:
            spans.append((match.start(), match.end(), url, name))
    spans.sort()
    parts, position = [], 0
    for start, end, url, name in spans:
        if start < position:
            continue  # overlaps a name already linked
        parts.append(escape(text[position:start]))
        parts.append(
            format_html('<a class="entity" href="{}" title="{}">{}</a>', url, name, text[start:end])
        )
        linked.add(url)
        position = end
    parts.append(escape(text[position:]))
    return mark_safe("".join(str(p) for p in parts).replace("\n", "<br>"))  # noqa: S308 - escaped


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def getlist(params, key: str) -> list[str]:
    return params.getlist(key) if hasattr(params, "getlist") else []
