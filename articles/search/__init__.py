"""Full-text search over the archive, one module per concern:

- `query`: the query language (parse_query, Term, ParsedQuery, TextQuery, QueryError);
- `variants`: other spellings of its words (build_text_query);
- `backends`: what a backend answers (the page's ids, count, facets; an article
  list's figures) and which one
  `settings.SEARCH_BACKEND` chooses; `backends.postgres`: PostgreSQL full-text search;
- `page`: snippets, entry hits and tags for one page's articles, in PostgreSQL;
- `facets`, `suggest` ("did you mean"), `dates`, `ordering`, `results`;
- `run`: run_search, which puts them together.

Callers import from here."""

from articles.search.backends import ListFigures, ListRequest, get_backend
from articles.search.backends.postgres import (
    CANDIDATE_LIMIT,
    FACET_SAMPLE,
    SAMPLE_SIZE,
    matching,
    matching_at_least,
)
from articles.search.dates import day_end, day_start, month_bounds, searched_range
from articles.search.facets import (
    ENTITIES_PER_KIND,
    FACET_SIZE,
    entity_facet,
    monthly_row,
    outlet_facet,
    topic_facet,
)
from articles.search.ordering import ids_param, newest_first, oldest_first
from articles.search.page import (
    LIST_FIELDS,
    SECTIONS_PER_RESULT,
    for_list,
    highlight,
    hits_for,
    matching_entries,
)
from articles.search.query import (
    MAX_TERMS,
    PHRASE,
    PREFIX,
    WORD,
    ParsedQuery,
    QueryError,
    Term,
    TextQuery,
    parse_query,
    unaccent,
)
from articles.search.results import (
    MAX_PAGE,
    PER_PAGE,
    SORTS,
    Facets,
    FacetValue,
    Hit,
    PageOutOfRange,
    SearchResults,
    SectionHit,
    Selection,
)
from articles.search.run import every_match, run_search
from articles.search.stories import StoryInfo
from articles.search.suggest import suggest
from articles.search.variants import build_text_query, surname

__all__ = [
    "CANDIDATE_LIMIT",
    "ENTITIES_PER_KIND",
    "FACET_SAMPLE",
    "FACET_SIZE",
    "LIST_FIELDS",
    "MAX_PAGE",
    "MAX_TERMS",
    "PER_PAGE",
    "PHRASE",
    "PREFIX",
    "SAMPLE_SIZE",
    "SECTIONS_PER_RESULT",
    "SORTS",
    "WORD",
    "FacetValue",
    "Facets",
    "Hit",
    "ListFigures",
    "ListRequest",
    "PageOutOfRange",
    "ParsedQuery",
    "QueryError",
    "SearchResults",
    "SectionHit",
    "Selection",
    "StoryInfo",
    "Term",
    "TextQuery",
    "build_text_query",
    "day_end",
    "day_start",
    "entity_facet",
    "every_match",
    "for_list",
    "get_backend",
    "highlight",
    "hits_for",
    "ids_param",
    "matching",
    "matching_at_least",
    "matching_entries",
    "month_bounds",
    "monthly_row",
    "newest_first",
    "oldest_first",
    "outlet_facet",
    "parse_query",
    "run_search",
    "searched_range",
    "suggest",
    "surname",
    "topic_facet",
    "unaccent",
]
