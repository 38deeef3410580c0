"""Running a search: the backend chooses the page's articles and counts them, the
page is assembled in PostgreSQL (articles/search/page.py)."""

from __future__ import annotations

import math
from dataclasses import replace

from django.db.models import QuerySet

from articles.search.backends import Answer, SearchRequest, get_backend
from articles.search.page import page_hits
from articles.search.query import TextQuery
from articles.search.results import (
    MAX_PAGE,
    PER_PAGE,
    PageOutOfRange,
    SearchResults,
    Selection,
)
from articles.search.stories import OVERFETCH, first_of_each_story
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
    collapse: bool = False,
) -> SearchResults:
    """One page of results with facets. `articles`: public articles with every filter
    but the text, which is `text_query`. `outlet_facet_base`: the same without the
    outlet filter (outlets are alternatives). `collapse`: each story once (its
    best-ranked copy); counts and facets still count articles. Raises PageOutOfRange
    past the last page."""
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
    if collapse:
        answer, ids = _collapsed(request)
        reachable = min(answer.reachable, answer.story_count or answer.reachable)
    else:
        answer = get_backend().search(request)
        ids, reachable = answer.ids, answer.reachable
    num_pages = max(1, min(MAX_PAGE, math.ceil(reachable / per_page)))
    if page > num_pages:
        raise PageOutOfRange(f"There is no page {page}: the last page is {num_pages}.")
    suggestion = None
    if text_query is not None and answer.count < SUGGEST_BELOW:
        suggestion = suggest(text_query)
    return SearchResults(
        text_query=text_query,
        count=answer.count,
        page=page,
        num_pages=num_pages,
        hits=page_hits(ids, text_query),
        story_count=answer.story_count,
        collapsed=collapse,
        facets=answer.facets,
        suggestion=suggestion,
        bounded=answer.ranked_newest is not None,
        per_page=per_page,
        count_capped=not answer.count_exact,
        facets_sampled=answer.outlets_counted is not None or answer.tags_counted is not None,
        outlets_sampled=answer.outlets_counted is not None,
        sample_size=answer.outlets_counted or 0,
        tags_sampled=answer.tags_counted is not None,
        facet_sample=answer.tags_counted or 0,
    )


def _collapsed(request: SearchRequest) -> tuple[Answer, list[int]]:
    """The backend's answer and the page's ids, each story once: the backend is asked
    for the articles up to this page's end, OVERFETCH times over, then for more while
    copies leave the page short and it has more to give."""
    backend = get_backend()
    end = request.offset + request.limit
    fetch = end * OVERFETCH
    while True:
        answer = backend.search(replace(request, offset=0, limit=fetch))
        firsts = first_of_each_story(answer.ids)
        if len(firsts) >= end or len(answer.ids) < fetch or fetch >= answer.reachable:
            return answer, firsts[request.offset : end]
        fetch *= 2
