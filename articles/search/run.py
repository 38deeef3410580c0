"""Running a search: the backend chooses the page's articles and counts them, the
page is assembled in PostgreSQL (articles/search/page.py)."""

from __future__ import annotations

import math
from dataclasses import replace

from django.db.models import QuerySet

from articles.search.backends import Answer, SearchRequest, get_backend
from articles.search.backends.postgres import matching_at_least
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
from articles.search.stories import OVERFETCH, first_of_each_story
from articles.search.suggest import suggest


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
    answer, ids = _collapsed(request) if collapse else _every_copy(request)
    # Collapsing, relaxed matching's probes ask for the window `_collapsed` reads, so
    # their answer serves it without asking the backend again.
    answer, relaxation, probed = _relaxed(_window(request) if collapse else request, answer)
    if relaxation is not None:
        request = replace(
            request,
            text_query=probed.text_query,
            minimum_should_match=probed.minimum_should_match,
        )
        answer, ids = _collapsed(request, answer) if collapse else (answer, answer.ids)
    reachable = answer.reachable
    if collapse:
        reachable = min(reachable, answer.story_count or reachable)
    num_pages = max(1, min(MAX_PAGE, math.ceil(reachable / per_page)))
    if page > num_pages:
        raise PageOutOfRange(f"There is no page {page}: the last page is {num_pages}.")
    suggestion = suggest(text_query) if text_query is not None else None
    return SearchResults(
        text_query=text_query,
        count=answer.count,
        page=page,
        num_pages=num_pages,
        hits=page_hits(ids, request.text_query),
        story_count=answer.story_count,
        collapsed=collapse,
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


def every_match(
    articles: QuerySet,
    *,
    text_query: TextQuery,
    outlet_facet_base: QuerySet | None = None,
    selection: Selection | None = None,
) -> tuple[QuerySet, TextQuery, Relaxation | None]:
    """Every article the search's pages list, for exports and feeds, which list them
    all: (the matches, newest first, the query they match, the relaxation). Those
    with every word, or when relaxed matching made the page, those with most of them
    (the backend decides, as for the page). Arguments as for `run_search`."""
    if not optional_words(text_query, phrases=True):  # one word: nothing to relax
        return matching_at_least(articles, text_query, 1), text_query, None
    request = SearchRequest(
        articles=articles,
        text_query=text_query,
        sort="newest",
        offset=0,
        limit=1,
        outlet_facet_base=outlet_facet_base,
        selection=selection or Selection(),
        count_only=True,  # the counts decide
    )
    _, relaxation, request = _relaxed(request, get_backend().search(request))
    matches = matching_at_least(articles, request.text_query, request.minimum_should_match)
    return matches, request.text_query, relaxation


def _relaxed(
    exact: SearchRequest, answer: Answer
) -> tuple[Answer, Relaxation | None, SearchRequest]:
    """`answer` to the `exact` request, or when it has fewer than a page, the answer
    of relaxed matching: (answer, relaxation, the request answered)."""
    text_query, relaxation, request = exact.text_query, None, exact
    # A page as the site shows it, whatever the request's limit: the same search ranks
    # the same articles for the page, the API, the benchmark's longer lists, exports.
    if text_query is None or answer.count >= PER_PAGE:
        return answer, None, exact
    for phrases in (False, True):
        if words := optional_words(text_query, phrases=phrases):
            answer, relaxation, request = _relax(exact, words, answer, phrases=phrases)
        if answer.count:
            break
    return answer, relaxation, request


def _every_copy(request: SearchRequest) -> tuple[Answer, list[int]]:
    answer = get_backend().search(request)
    return answer, answer.ids


def _collapsed(request: SearchRequest, answered: Answer | None = None) -> tuple[Answer, list[int]]:
    """The backend's answer and the page's ids, each story once: the backend is asked
    for the articles up to this page's end, OVERFETCH times over (`_window`), then for
    more while copies leave the page short and it has more to give. `answered`: the
    backend's answer to the window already (relaxed matching's), used as it is."""
    end = request.offset + request.limit
    fetch = end * OVERFETCH
    answer = answered
    while True:
        if answer is None:
            answer = get_backend().search(replace(request, offset=0, limit=fetch))
        firsts = first_of_each_story(answer.ids, answer.stories)
        if len(firsts) >= end or len(answer.ids) < fetch or fetch >= answer.reachable:
            return answer, firsts[request.offset : end]
        fetch *= 2
        answer = None


def _window(request: SearchRequest) -> SearchRequest:
    """What `_collapsed` first asks the backend for: the articles up to the page's
    end, OVERFETCH times over."""
    return replace(request, offset=0, limit=(request.offset + request.limit) * OVERFETCH)


def _relax(
    request: SearchRequest, words: list[Term], exact: Answer, *, phrases: bool
) -> tuple[Answer, Relaxation | None, SearchRequest]:
    """The articles with most of `words` (articles/search/relaxed.py): the most words
    that a page of articles all have (at least one). (answer, relaxation, the request
    answered), or the `exact` answer when leaving words out finds no more.

    Fewer required words never find fewer articles, so the number is found by
    halving the range, not by trying each; those tried only count."""
    loose = relaxed(request.text_query, phrases=phrases)

    def with_at_least(minimum: int) -> SearchRequest:
        return replace(request, text_query=loose, minimum_should_match=minimum)

    def count(minimum: int) -> int:
        return get_backend().search(replace(with_at_least(minimum), count_only=True)).count

    low, high = 1, max(1, len(loose.parsed.groups) - 1)  # the answer is in [low, high]
    while low < high:
        middle = (low + high + 1) // 2
        if count(middle) >= PER_PAGE:
            low = middle
        else:
            high = middle - 1
    answered = with_at_least(low)
    answer = get_backend().search(answered)
    if answer.count <= exact.count:
        return exact, None, request
    alternatives = len(request.text_query.parsed.groups) > 1
    relaxation = Relaxation(len(words), low, exact.count, alternatives, phrases)
    return answer, relaxation, answered
