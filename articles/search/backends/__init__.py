"""Search backends: what a backend answers, and which one the settings choose.

A backend is given the articles as the user filtered them (public, every filter
but the text), the text query, the sort and the page window. It answers the page's
article ids in order, the count and the facet counts, and says where it
approximated. Query parsing, spelling variants and page assembly are shared
(articles/search/). It also counts an article list (an entity's, an outlet's, a
topic's) for its page: the count, the timeline, the outlet filter's choices and the
entities named alongside."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date
from functools import cache

from django.conf import settings
from django.db.models import QuerySet
from django.utils.module_loading import import_string

from articles.search.query import TextQuery
from articles.search.results import Facets, FacetValue, Selection

BACKENDS = {
    "postgres": "articles.search.backends.postgres.PostgresBackend",
    "tantivy": "articles.search.backends.tantivy.TantivyBackend",
}


@dataclass(frozen=True)
class SearchRequest:
    articles: QuerySet  # public articles with the user's filters, the text excluded
    text_query: TextQuery | None
    sort: str  # a key of results.SORTS
    offset: int
    limit: int
    # The same articles without the outlet filter: outlets are alternatives, so
    # their facet counts every outlet. None when no outlet is selected.
    outlet_facet_base: QuerySet | None = None
    # The same filters as values (what `articles` was filtered by), for a backend
    # that filters in its own index.
    selection: Selection = field(default_factory=Selection)
    # An article matches when it matches at least this many of the text query's
    # OR-ed groups (1: any of them, the query language's own `or`). Relaxed matching
    # (articles/search/relaxed.py) asks for more; rank as usual (BM25 over every term).
    minimum_should_match: int = 1
    # Only the count is wanted (relaxed matching's probes, an export choosing its
    # matches): no page, facets or stories.
    count_only: bool = False


@dataclass
class Answer:
    ids: list[int]  # the page's article ids, in order (none past `reachable`)
    count: int  # the matches (a floor unless `count_exact`)
    reachable: int  # how many of them the pages can reach in this sort
    facets: Facets
    count_exact: bool = True
    ranked_newest: int | None = None  # relevance ranked only the newest this many matches
    outlets_counted: int | None = None  # outlet, month and kind facets counted only this many
    tags_counted: int | None = None  # topic and entity facets counted only the newest this many
    # The stories the matches are copies in (a floor when the count is), None when the
    # backend does not count them; an article without a story is one.
    story_count: int | None = None
    # The story of each of `ids` that may have other copies among the matches (an
    # article not named is a story of its own): what a page of stories collapses.
    stories: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ListRequest:
    articles: QuerySet  # the list's public articles with the user's filters
    unfiltered: QuerySet  # the list's public articles
    own: Selection  # what makes the list (its entity, outlet or topic) as values
    chosen: Selection  # the user's filters as values (both apply to `articles`)
    # How many of the entities named alongside the list's entity to count (0: none).
    co_mentioned: int = 0


@dataclass
class ListFigures:
    count: int  # the articles of the filtered list
    monthly: list[tuple[date, str, str, int]]  # (month, outlet slug, outlet name, articles)
    outlets: list[FacetValue]  # the unfiltered list's largest outlets, the chosen marked
    # The entities named in the most of the unfiltered list's articles, ties by name.
    co_mentioned: list[FacetValue] = field(default_factory=list)
    co_mentioned_of: int | None = None  # counted in only the newest this many articles


class SearchBackend(ABC):
    name: str

    @abstractmethod
    def search(self, request: SearchRequest) -> Answer:
        """One page of ids, the count and the facets for `request`."""

    @abstractmethod
    def list_figures(self, request: ListRequest) -> ListFigures:
        """The figures of an article list's page for `request`."""


def get_backend() -> SearchBackend:
    """The backend `settings.SEARCH_BACKEND` names ("postgres" unless set)."""
    return _backend(settings.SEARCH_BACKEND)


@cache
def _backend(name: str) -> SearchBackend:
    if name not in BACKENDS:
        raise ValueError(f"SEARCH_BACKEND is one of {', '.join(BACKENDS)}, not {name!r}.")
    return import_string(BACKENDS[name])()
