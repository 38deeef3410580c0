"""Hostile parameters: any value in any public parameter gets 200, a redirect,
400 or 404, never a server error or a database error.

Property-based (hypothesis) over the seed archive: the search text, every
filter, dates, page numbers, list cursors and limits, and the values in URL
paths, on every public route (found from the URL configuration, so routes added
later are covered too). The test client re-raises any exception a view lets
escape, and a database error that the 503 middleware caught shows as a 503, so
both fail these tests.
"""

from __future__ import annotations

import re
from urllib.parse import quote, quote_from_bytes, urlencode

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from articles.models import Article, Entity, Outlet, Topic

pytestmark = pytest.mark.django_db

EXAMPLES = 150
ALLOWED = {200, 301, 302, 400, 404}
hostile = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # no .hypothesis/ directory in the repository
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text that survives UTF-8 encoding (lone surrogates cannot be sent at all).
any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=400)
nasty = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "%00",
        "'",
        '"',
        "\\",
        "--",
        "'; DROP TABLE articles_article; --",
        "<script>alert(1)</script>",
        "${jndi:ldap://x}",
        "{{7*7}}",
        "../../etc/passwd",
        "null",
        "[]",
        "{}",
        "NaN",
        "-1",
        "0",
        "1e309",
        "99999999999999999999999999",
        "-99999999999999999999",
        "x" * 5000,
        "ö" * 301,
        "\u202e\u0000\ufeff",
        "*",
        "a*",
        "***",
        '"unclosed',
        "-",
        "or",
        "- - -",
        "!(&|:*)",
        "2023-02-30",
        "0000-00-00",
        "9999-12-31",
        "10000-01-01",
        "2023-13-01",
        "2023/01/01",
    ]
)
dates = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.from_regex(r"\A-?\d{1,6}-\d{1,3}-\d{1,3}\Z"),
    nasty,
)
numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    nasty,
)
PARAMETERS = (
    "q",
    "outlet",
    "topic",
    "entity",
    "from",
    "to",
    "page",
    "sort",
    "kind",
    "limit",
    "cursor",
    "fmt",
    "format",
    "callback",
    "month",
    "next",
)


def _slugs() -> dict[str, list[str]]:
    return {
        "outlet": list(Outlet.objects.values_list("slug", flat=True)),
        "topic": list(Topic.objects.values_list("slug", flat=True)),
        "entity": list(Entity.objects.values_list("slug", flat=True)[:200]),
    }


def _value(draw, name: str, slugs: dict[str, list[str]]) -> str:
    choices = [any_text, nasty]
    if name in slugs and slugs[name]:
        choices.append(st.sampled_from(slugs[name]))
    if name in ("from", "to"):
        choices.append(dates)
    if name in ("page", "limit"):
        choices.append(numbers)
    if name == "sort":
        choices.append(st.sampled_from(["relevance", "newest", "oldest", "RELEVANCE", ""]))
    if name == "kind":
        choices.append(st.sampled_from(["article", "live", "Live", "blog"]))
    return draw(st.one_of(*choices))


@st.composite
def queries(draw, slugs, names=PARAMETERS) -> list[tuple[str, str]]:
    """A query string's pairs: known parameter names (some repeated), and any others."""
    keys = draw(st.lists(st.one_of(st.sampled_from(names), any_text.filter(bool)), max_size=8))
    return [(key, _value(draw, key, slugs)) for key in keys]


def _check(client, url: str):
    response = client.get(url)
    assert response.status_code in ALLOWED, (url[:300], response.status_code)
    if response.status_code >= 400 and not response.streaming:
        body = response.content.decode(errors="replace")
        assert "Traceback" not in body and "psycopg" not in body, url[:300]
    return response


def _url(path: str, pairs: list[tuple[str, str]]) -> str:
    return f"{path}?{urlencode(pairs)}" if pairs else path


SEARCH_PATHS = [
    "/search/",
    "/api/search/",
    "/search/feed.atom",
    "/search/feed.json",
    "/search/export.csv",
    "/search/export.jsonl",
    "/search/export.json",
]


@hostile
@given(data=st.data(), q=st.one_of(any_text, nasty))
def test_any_search_text(client, data, q):
    path = data.draw(st.sampled_from(SEARCH_PATHS))
    _check(client, _url(path, [("q", q)]))


@hostile
@given(data=st.data())
def test_any_search_filters(client, data):
    path = data.draw(st.sampled_from(SEARCH_PATHS))
    _check(client, _url(path, data.draw(queries(_slugs()))))


@hostile
@given(data=st.data())
def test_any_parameters_on_list_pages_and_feeds(client, data):
    slugs = _slugs()
    entity = Entity.objects.filter(mentions__article__is_public=True).values_list("slug", flat=True)
    owner = data.draw(
        st.sampled_from(
            [
                f"/entities/{entity.first()}/",
                f"/outlets/{slugs['outlet'][0]}/",
                f"/topics/{slugs['topic'][0]}/",
            ]
        )
    )
    suffix = data.draw(st.sampled_from(["", "feed.atom", "feed.json"]))
    path = data.draw(
        st.sampled_from([owner + suffix, "/api/entities/", "/api/outlets/", "/api/topics/"])
    )
    _check(client, _url(path, data.draw(queries(slugs))))


# --- Every route, any value in its path --------------------------------------------


def _public_patterns(patterns=None, prefix=""):
    """(route prefix, pattern) for every URL pattern but the admin's."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            route = str(entry.pattern)
            if route.startswith("admin"):
                continue
            yield from _public_patterns(entry.url_patterns, prefix + route.lstrip("^"))
        elif isinstance(entry, URLPattern):
            yield prefix, entry


_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^()]*(?:\([^()]*\)[^()]*)*)\)")


def _path_strategy(prefix: str, entry: URLPattern, slugs: dict[str, list[str]]):
    """URLs for one pattern, with path values that match its converters (so the
    view runs) and sometimes values that do not (so the resolver must cope)."""
    known = {
        "pk": st.one_of(
            st.sampled_from(list(Article.objects.values_list("pk", flat=True)) or [1]),
            st.integers(min_value=0, max_value=10**40),
        ),
        "slug": st.one_of(
            st.sampled_from(slugs["entity"] + slugs["outlet"] + slugs["topic"] or ["x"]),
            st.from_regex(r"\A[-a-zA-Z0-9_]{1,300}\Z"),
        ),
    }
    pattern = entry.pattern
    if isinstance(pattern, RoutePattern):
        route = prefix + str(pattern)
        parts = re.split(r"<(?:(\w+):)?(\w+)>", route)
        pieces = []
        for index in range(0, len(parts), 3):
            pieces.append(st.just(parts[index]))
            if index + 2 < len(parts):
                converter, name = parts[index + 1] or "str", parts[index + 2]
                if name in known:
                    strategy = known[name]
                elif converter == "int":
                    strategy = st.integers(min_value=0, max_value=10**40)
                else:
                    strategy = st.from_regex(r"\A[-a-zA-Z0-9_]{1,100}\Z")
                pieces.append(st.one_of(strategy.map(str), any_text.map(quote)))
        return st.tuples(*pieces).map("".join)
    assert isinstance(pattern, RegexPattern)
    regex = prefix + pattern._regex.lstrip("^").rstrip("$")
    pieces, position = [], 0
    for group in _GROUP.finditer(regex):
        pieces.append(st.just(regex[position : group.start()].replace("\\", "")))
        name, body = group["name"], group["body"]
        strategy = known.get(name, st.from_regex(rf"\A(?:{body})\Z")).map(str)
        pieces.append(st.one_of(strategy, any_text.map(quote)))
        position = group.end()
    tail = regex[position:].replace("\\", "")
    pieces.append(st.just(tail))
    if not pattern._regex.endswith("$"):
        pieces.append(st.one_of(st.just(""), any_text.map(quote)))
    return st.tuples(*pieces).map("".join)


@hostile
@given(data=st.data())
def test_any_path_values_and_parameters_on_every_route(client, data):
    slugs = _slugs()
    routes = list(_public_patterns())
    assert len(routes) >= 7
    prefix, entry = data.draw(st.sampled_from(routes))
    path = "/" + data.draw(_path_strategy(prefix, entry, slugs))
    pairs = data.draw(queries(slugs))
    _check(client, _url(path, pairs))


@hostile
@given(
    raw=st.lists(
        st.tuples(st.binary(max_size=40), st.binary(max_size=200)),
        max_size=6,
    ),
    path=st.sampled_from(["/search/", "/api/search/", "/api/entities/", "/search/feed.atom"]),
)
def test_any_bytes_in_the_query_string(client, raw, path):
    """Invalid UTF-8, NUL bytes and stray separators, percent-encoded as a client may."""
    query = "&".join(f"{quote_from_bytes(k)}={quote_from_bytes(v)}" for k, v in raw)
    _check(client, f"{path}?{query}")


def test_the_properties_reach_every_public_route():
    names = {entry.name for _, entry in _public_patterns()}
    assert {
        "home",
        "search",
        "api-search",
        "article-detail",
        "entity-detail",
        "outlet-detail",
        "topic-detail",
    } <= names
