"""A search backend's answer set against the exact one, computed in SQL over every match.

The exact answer uses the archive's own definitions: the match is
`search.matching` (an article's own vector or one of its headed sections), the
relevance is the archive's BM25 (articles/ranking.py, as the postgres backend orders
its candidates) over every match, ties newest first, and the facets are counted
over every match with the archive's facet queries. The backend is asked exactly
what `/api/search/` asks it, through the same filters (`SearchFilter`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.http import QueryDict

from articles.filters import SearchFilter
from articles.models import Article
from articles.search import entity_facet, matching, topic_facet
from articles.search.backends import SearchRequest, get_backend
from articles.search.backends.postgres import by_relevance
from articles.search.facets import kind_values, month_values, outlet_values
from articles.search.results import Facets

TOP = 10
FACETS = ("outlet", "month", "kind", "topic", "entity")


def search_request(params: dict, limit: int = TOP) -> SearchRequest:
    """The first page (by relevance) that `/api/search/?params` asks the backend for."""
    filterset = SearchFilter(
        QueryDict(urlencode(params, doseq=True)), queryset=Article.objects.public()
    )
    if not filterset.is_valid():
        raise ValueError(f"invalid search {params}: {filterset.errors}")
    return SearchRequest(
        articles=filterset.filtered(skip={"q"}),
        text_query=filterset.text_query,
        sort="relevance",
        offset=0,
        limit=limit,
        outlet_facet_base=filterset.filtered(skip={"q", "outlet"}),
        selection=filterset.selection(),
    )


@dataclass
class Exact:
    count: int
    top: list[int] | None  # by BM25 over every match; None without a text query
    facets: Facets


def exact_answer(request: SearchRequest) -> Exact:
    matches = _matches(request.articles, request)
    top = None
    if request.text_query is not None:
        ordered = by_relevance(matches, request.text_query)
        top = list(ordered.values_list("pk", flat=True)[: request.limit])
    selection = request.selection
    any_outlet = matches
    if selection.outlets and request.outlet_facet_base is not None:
        any_outlet = _matches(request.outlet_facet_base, request)
    outlets = (
        any_outlet.order_by()
        .filter(outlet__isnull=False)
        .values_list("outlet__slug", "outlet__name")
        .annotate(n=Count("pk"))
    )
    months = (
        matches.order_by()
        .filter(published_at__isnull=False)
        .annotate(month=TruncMonth("published_at"))
        .values_list("month")
        .annotate(n=Count("pk"))
    )
    kinds = matches.order_by().values_list("kind").annotate(n=Count("pk"))
    facets = Facets(
        outlet=outlet_values(outlets, selection),
        topic=topic_facet(matches, selection.topics),
        entity=entity_facet(matches, selection.entities),
        month=month_values(Counter({m.strftime("%Y-%m"): n for m, n in months}), selection),
        kind=kind_values(dict(kinds), selection),
    )
    return Exact(count=matches.count(), top=top, facets=facets)


def _matches(articles, request: SearchRequest):
    return articles if request.text_query is None else matching(articles, request.text_query)


def agreement(params: dict) -> dict:
    """For one query class: how many of the exact BM25 top 10 the backend's relevance
    top 10 holds (None without a text query), and whether its count and each facet
    equal the exact ones."""
    request = search_request(params)
    answer = get_backend().search(request)
    exact = exact_answer(request)
    top_agreement = None
    if exact.top is not None and exact.top:
        top_agreement = len(set(answer.ids[:TOP]) & set(exact.top)) / len(exact.top)
    facets_exact = {
        name: getattr(answer.facets, name) == getattr(exact.facets, name) for name in FACETS
    }
    return {
        "count": answer.count,
        "exact_count": exact.count,
        "count_exact": answer.count == exact.count,
        "top10_agreement": top_agreement,
        "top10_same_order": None if exact.top is None else answer.ids[:TOP] == exact.top,
        "facets_exact": facets_exact,
        "all_facets_exact": all(facets_exact.values()),
        # Where the backend itself says it approximated.
        "backend_says_count_exact": answer.count_exact,
        "backend_ranked_newest": answer.ranked_newest,
    }
