"""JSON views. The same parameters and filters as the pages; invalid parameters
give 400 with {"error": summary, "errors": {"parameter": ["what is wrong"]}}.

Snippets are HTML: the article text escaped, with matches in <mark>."""

from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.http import require_safe

from articles import search as search_lib
from articles.filters import SearchFilter, error_messages
from articles.models import Article


@require_safe
def search(request):
    filterset = SearchFilter(request.GET, queryset=Article.objects.public())
    if not filterset.is_valid():
        return _bad_request(error_messages(filterset))
    try:
        results = filterset.results()
    except search_lib.PageOutOfRange as exc:
        return _bad_request({"page": [str(exc)]})
    return JsonResponse(_results_json(results, filterset.form.cleaned_data.get("q", ""), request))


def _bad_request(errors: dict[str, list[str]]) -> JsonResponse:
    summary = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items())
    return JsonResponse({"error": f"Invalid parameters. {summary}", "errors": errors}, status=400)


def _results_json(results: search_lib.SearchResults, q: str, request) -> dict:
    facets = results.facets
    return {
        "query": q,
        "understood": results.text_query.describe() if results.text_query else None,
        "count": results.count,
        "page": results.page,
        "num_pages": results.num_pages,
        "results": [_hit_json(hit, request) for hit in results.hits],
        "facets": {
            "outlet": [{"slug": v.value, "name": v.label, "count": v.count} for v in facets.outlet],
            "topic": [{"slug": v.value, "name": v.label, "count": v.count} for v in facets.topic],
            "entity": [
                {"slug": v.value, "name": v.label, "kind": v.kind, "count": v.count}
                for v in facets.entity
            ],
            "month": [{"month": v.value, "count": v.count} for v in facets.month],
        },
        "suggestion": results.suggestion,
    }


def _hit_json(hit: search_lib.Hit, request) -> dict:
    article = hit.article
    outlet = article.outlet
    return {
        "id": article.pk,
        "title": article.title,
        "url": request.build_absolute_uri(article.get_absolute_url()),
        "source_url": article.source_url or None,
        "outlet": {"slug": outlet.slug, "name": outlet.name} if outlet else None,
        "published_at": article.published_at.isoformat() if article.published_at else None,
        "kind": article.kind,
        "snippet": str(hit.snippet_html),
        "sections": [
            {
                "anchor": section.anchor,
                "heading": section.heading,
                "posted_at": section.posted_at.isoformat() if section.posted_at else None,
                "snippet": str(section.snippet_html),
                "url": request.build_absolute_uri(section.url),
            }
            for section in hit.sections
        ],
        "topics": [topic["slug"] for topic in hit.topics],
        "entities": [entity["slug"] for entity in hit.entities],
    }
