"""Running a search: the backend chooses the page's articles and counts them, the
page is assembled in PostgreSQL (articles/search/page.py)."""

from __future__ import annotations

import math
from dataclasses import replace

from django.db.models import QuerySet

from articles.search.backends import Answer, SearchRequest, get_backend
from articles.search.page import page_hits
from articles.search.query import Term, TextQuery
from articles.search.relaxed import Relaxation, optional_words, relaxed
from articles.search.results import (
    MAX_PAGE,
    PER_PAGE,
    PageOutOfRange,
    SearchResults,
    Selection,
)
from articles.search.suggest import SUGGEST_BELOW, suggest


def run_search(
    articles: QuerySet,
    *,
    text_query: TextQuery | None,
    sort: str = "relevance",
    page: int = 1,
    outlet_facet_base: QuerySet | None = None,
    selection: Selection | None = None,
    per_page: int = PER_PAGE,
) -> SearchResults:
    """One page of results with facets. `articles`: public articles with every filter
    but the text, which is `text_query`. `outlet_facet_base`: the same without the
    outlet filter (outlets are alternatives). Raises PageOutOfRange past the last page."""
    selection = selection or Selection()
    request = SearchRequest(
        articles=articles,
        text_query=text_query,
        sort=sort,
        offset=(page - 1) * per_page,
        limit=per_page,
        outlet_facet_base=outlet_facet_base,
        selection=selection,
    )
    answer = get_backend().search(request)
    exact_count, relaxation, searched = answer.count, None, text_query
    words = optional_words(text_query) if text_query is not None else []
    if words and answer.count < per_page:
        answer, relaxation, searched = _relax(request, words, answer)
    num_pages = max(1, min(MAX_PAGE, math.ceil(answer.reachable / per_page)))
    if page > num_pages:
        raise PageOutOfRange(f"There is no page {page}: the last page is {num_pages}.")
    suggestion = None
    if text_query is not None and exact_count < SUGGEST_BELOW:
        suggestion = suggest(text_query)
    return SearchResults(
        text_query=text_query,
        count=answer.count,
        page=page,
        num_pages=num_pages,
        hits=page_hits(answer.ids, searched),
        facets=answer.facets,
        suggestion=suggestion,
        relaxation=relaxation,
        bounded=answer.ranked_newest is not None,
        per_page=per_page,
        count_capped=not answer.count_exact,
        facets_sampled=answer.outlets_counted is not None or answer.tags_counted is not None,
        outlets_sampled=answer.outlets_counted is not None,
        sample_size=answer.outlets_counted or 0,
        tags_sampled=answer.tags_counted is not None,
        facet_sample=answer.tags_counted or 0,
    )


def _relax(
    request: SearchRequest, words: list[Term], exact: Answer
) -> tuple[Answer, Relaxation | None, TextQuery]:
    """The articles with most of `words` (articles/search/relaxed.py): the fewest words
    that may be missing for a page of them. (answer, relaxation, the query searched),
    or the `exact` answer when leaving words out finds no more."""
    loose = relaxed(request.text_query, words)
    for minimum in range(len(words) - 1, 0, -1):
        answer = get_backend().search(
            replace(request, text_query=loose, minimum_should_match=minimum)
        )
        if answer.count >= request.limit:
            break
    if answer.count <= exact.count:
        return exact, None, request.text_query
    return answer, Relaxation(len(words), minimum, exact.count), loose
