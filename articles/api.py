"""The read-only JSON API under /api/, described by /api/openapi.json (articles/openapi.py).

- Hidden articles never appear: everything starts from Article.objects.public(),
  and an entity only public articles name is as unknown as one that does not exist.
- Errors are always {"error": {"code", "message"}}: 400 `invalid_parameters`
  (with "fields": {"parameter": ["what is wrong"]}), 404 `not_found`, 405
  `method_not_allowed`.
- Any origin may read it (CORS, GET and HEAD only; no credentials).
- Pagination gives `next` and `previous` as absolute URLs (null at either end):
  clients follow them and never build one. /api/search/ pages by number, as the
  search page does (a relevance ranking has no stable key to page on); the entity,
  outlet and topic lists page by an opaque keyset cursor on (name, id), so a row
  added while a client pages through never shifts the rest or shows up twice.
- Within version 1 (`API_VERSION`, sent as the API-Version header) fields are only
  ever added; a change that could break a client would get new paths.

Snippets are HTML: the article text escaped, with matches in <mark>.
"""

from __future__ import annotations

import base64
import binascii
import json
from functools import wraps
from urllib.parse import urlencode

from django import forms
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.http import Http404, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve, reverse
from django.views.decorators.csrf import csrf_exempt

from articles import search as search_lib
from articles import story_versions
from articles.filters import SearchFilter, error_messages
from articles.models import (
    Article,
    ArticleTopic,
    Entity,
    Mention,
    Outlet,
    Topic,
    public_origin,
)

API_VERSION = "1.0.0"
LIST_LIMIT = 50
MAX_LIST_LIMIT = 200
SAFE_METHODS = "GET, HEAD, OPTIONS"
CITE_FORMATS = ("txt", "bib", "ris", "json")


# --- Responses, errors and CORS ----------------------------------------------


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields


def invalid(fields: dict[str, list[str]]) -> ApiError:
    summary = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in fields.items())
    return ApiError(400, "invalid_parameters", f"Invalid parameters. {summary}", fields)


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    error = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return JsonResponse({"error": error}, status=status)


def allow_cors(response: HttpResponse) -> HttpResponse:
    """Let scripts on any site read this response: everything here is public."""
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Expose-Headers"] = "API-Version, Content-Disposition, Last-Modified"
    return response


def read_only(view):
    """GET and HEAD (OPTIONS answers a CORS preflight); errors as JSON; CORS on every answer.
    Exempt from the CSRF check, which would answer a POST with Django's HTML 403 page:
    nothing here changes anything, and every other method gets a JSON 405."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method == "OPTIONS":
            response = HttpResponse(status=204)
            response["Access-Control-Allow-Methods"] = SAFE_METHODS
            response["Access-Control-Allow-Headers"] = "Accept, Accept-Language, Content-Type"
            response["Access-Control-Max-Age"] = "86400"
        elif request.method not in ("GET", "HEAD"):
            message = f"This address is read-only: use GET, not {request.method}."
            response = error_response(405, "method_not_allowed", message)
        else:
            try:
                response = view(request, *args, **kwargs)
            except ApiError as exc:
                response = error_response(exc.status, exc.code, exc.message, exc.fields)
            except Http404 as exc:
                response = error_response(404, "not_found", str(exc) or "Not found.")
        if response.status_code in (204, 405):
            response["Allow"] = SAFE_METHODS
        response["API-Version"] = API_VERSION
        return allow_cors(response)

    return wrapper


def _url(request, name: str, *args, query: dict | None = None) -> str:
    path = reverse(name, args=args)
    if query:
        path += "?" + urlencode(query)
    return request.build_absolute_uri(path)


def _with_param(request, name: str, value) -> str:
    """The current request's absolute URL with one parameter set (or removed when None)."""
    query = request.GET.copy()
    query.pop(name, None)
    if value is not None:
        query[name] = str(value)
    encoded = query.urlencode()
    return request.build_absolute_uri(request.path + (f"?{encoded}" if encoded else ""))


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _feeds(request, prefix: str, *args) -> dict[str, str]:
    return {
        "atom": _url(request, f"{prefix}-feed-atom", *args),
        "json": _url(request, f"{prefix}-feed-json", *args),
    }


# --- Index ------------------------------------------------------------------


@read_only
def index(request):
    root = _url(request, "api-root")
    return JsonResponse(
        {
            "name": "War-coverage archive API",
            "version": API_VERSION,
            "openapi": _url(request, "api-openapi"),
            "endpoints": {
                "search": _url(request, "api-search"),
                "article": root + "articles/{id}/",
                "entities": _url(request, "api-entities"),
                "entity": _url(request, "api-entities") + "{slug}/",
                "story": root + "stories/{id}/",
                "outlets": _url(request, "api-outlets"),
                "topics": _url(request, "api-topics"),
            },
            "exports": {
                "csv": _url(request, "search-export-csv"),
                "jsonl": _url(request, "search-export-jsonl"),
                "manifest": _url(request, "search-export-manifest"),
            },
            "feeds": _feeds(request, "search"),
        }
    )


@read_only
def not_found(request, rest: str = ""):
    """Any other address under /api/: JSON 404, or the address with its missing slash."""
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.url_name != "api-not-found":
            query = request.META.get("QUERY_STRING", "")
            target = f"{request.path}/?{query}" if query else f"{request.path}/"
            return HttpResponsePermanentRedirect(target)
    raise Http404(f"There is nothing at {request.path}: the API is described at /api/openapi.json.")


# --- Search -----------------------------------------------------------------


@read_only
def search(request):
    filterset = SearchFilter(request.GET, queryset=Article.objects.public())
    if not filterset.is_valid():
        raise invalid(error_messages(filterset))
    try:
        results = filterset.results()
    except search_lib.PageOutOfRange as exc:
        raise invalid({"page": [str(exc)]}) from exc
    cleaned = filterset.form.cleaned_data
    data = _results_json(results, cleaned.get("q", ""), request)
    data["searched_range"] = (
        search_lib.searched_range(cleaned.get("from"), cleaned.get("to")) or None
    )
    data["next"] = _with_param(request, "page", results.page + 1) if results.has_next else None
    data["previous"] = (
        _with_param(request, "page", results.page - 1 if results.page > 2 else None)
        if results.has_previous
        else None
    )
    data["exports"] = {
        "csv": _search_link(request, "search-export-csv"),
        "jsonl": _search_link(request, "search-export-jsonl"),
        "manifest": _search_link(request, "search-export-manifest"),
    }
    data["feeds"] = {
        "atom": _search_link(request, "search-feed-atom"),
        "json": _search_link(request, "search-feed-json"),
    }
    return JsonResponse(data)


def _search_link(request, name: str) -> str:
    """This search's parameters (less the page) on another address."""
    query = request.GET.copy()
    query.pop("page", None)
    encoded = query.urlencode()
    return request.build_absolute_uri(reverse(name) + (f"?{encoded}" if encoded else ""))


def _results_json(results: search_lib.SearchResults, q: str, request) -> dict:
    facets = results.facets
    return {
        "query": q,
        "understood": results.text_query.describe() if results.text_query else None,
        "count": results.count,
        # Past search.SAMPLE_SIZE matches the count is a floor; past FACET_SAMPLE the
        # topic and entity facets count the newest matches only.
        "count_capped": results.count_capped,
        "facets_sampled": results.facets_sampled,
        "story_count": results.story_count,
        "collapsed": results.collapsed,
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
            "kind": [{"kind": v.value, "name": v.label, "count": v.count} for v in facets.kind],
        },
        "suggestion": results.suggestion,
        # Not every word matched: the articles with most of them (articles/search/relaxed.py).
        "relaxed": results.relaxation.describe() if results.relaxation else None,
    }


def _hit_json(hit: search_lib.Hit, request) -> dict:
    article = hit.article
    outlet = article.outlet
    return {
        "id": article.pk,
        "title": article.title,
        "url": request.build_absolute_uri(hit.url),
        "source_url": article.source_url or None,
        "outlet": {"slug": outlet.slug, "name": outlet.name} if outlet else None,
        "published_at": _iso(article.published_at),
        "kind": article.kind,
        "snippet": str(hit.snippet_html),
        "sections": [
            {
                "anchor": section.anchor,
                "heading": section.heading,
                "posted_at": _iso(section.posted_at),
                "snippet": str(section.snippet_html),
                "url": request.build_absolute_uri(section.url),
            }
            for section in hit.sections
        ],
        "topics": [topic["slug"] for topic in hit.topics],
        "entities": [entity["slug"] for entity in hit.entities],
        "story": _story_ref(hit.story, request) if hit.story else None,
    }


def _story_ref(story: search_lib.StoryInfo, request) -> dict:
    return {
        "id": story.story_id,
        "url": request.build_absolute_uri(reverse("story-detail", args=[story.story_id])),
        "api_url": _url(request, "api-story", story.story_id),
        "copies": story.copies,
        "outlets": story.outlets,
        "first_published_at": _iso(story.first_published),
    }


# --- One article --------------------------------------------------------------


@read_only
def article(request, pk: int):
    found = (
        Article.objects.public()
        .select_related("outlet", "source")
        .defer("body", "search_vector", "source__raw")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404(f"There is no public article {pk}.")
    return JsonResponse(article_json(found, request))


def article_json(article: Article, request) -> dict:
    """Metadata, sections, entities, topics and provenance: four queries."""
    permalink = request.build_absolute_uri(article.get_absolute_url())
    sections = list(
        article.sections.order_by("position").values(
            "pk", "position", "anchor", "heading", "posted_at", "body", "captions"
        )
    )
    anchors = {s["pk"]: s["anchor"] for s in sections}
    outlet, source = article.outlet, article.source
    return {
        "id": article.pk,
        "url": permalink,
        "api_url": _url(request, "api-article", article.pk),
        "title": article.title,
        "kicker": article.kicker,
        "dek": article.dek,
        "byline": article.byline,
        "dateline": article.dateline,
        "source_url": article.source_url or None,
        "outlet": _outlet_ref(outlet, request) if outlet else None,
        "published_at": _iso(article.published_at),
        "date_source": article.date_source,
        "kind": article.kind,
        "sections": [
            {
                "position": s["position"],
                "anchor": s["anchor"],
                "url": f"{permalink}#{s['anchor']}",
                "heading": s["heading"],
                "posted_at": _iso(s["posted_at"]),
                "body": s["body"],
                "captions": s["captions"],
            }
            for s in sections
        ],
        "entities": _article_entities(article, anchors, request),
        "topics": [
            {
                "slug": tag.topic.slug,
                "name": tag.topic.name,
                "curated": tag.curated,
                "score": tag.score,
            }
            for tag in ArticleTopic.objects.filter(article=article, excluded=False)
            .select_related("topic")
            .order_by("topic__name")
        ],
        "provenance": {
            "source": {
                "origin": public_origin(source.origin),
                "format": source.format,
                "sha256": source.sha256,
                "size": source.size,
                "status": source.status,
                "loaded_at": _iso(source.loaded_at),
            }
            if source
            else None,
            "record": public_origin(article.origin),
            "date_source": article.date_source,
            "created_at": _iso(article.created_at),
            "updated_at": _iso(article.updated_at),
        },
        "cite": {fmt: _url(request, "article-cite", article.pk, fmt) for fmt in CITE_FORMATS},
    }


def _outlet_ref(outlet: Outlet, request) -> dict:
    return {
        "slug": outlet.slug,
        "name": outlet.name,
        "url": request.build_absolute_uri(outlet.get_absolute_url()),
    }


def _article_entities(article: Article, anchors: dict[int, str], request) -> list[dict]:
    """The entities it names, most mentioned first, with the sections naming them."""
    rows = Mention.objects.filter(article=article).values_list(
        "entity__slug", "entity__name", "entity__kind", "section_id", "count"
    )
    found: dict[str, dict] = {}
    positions = {pk: n for n, pk in enumerate(anchors)}
    for slug, name, kind, section_id, count in rows:
        entity = found.setdefault(
            slug,
            {
                "slug": slug,
                "name": name,
                "kind": kind,
                "url": request.build_absolute_uri(reverse("entity-detail", args=[slug])),
                "mentions": 0,
                "sections": [],
            },
        )
        entity["mentions"] += count
        entity["sections"].append(section_id)
    for entity in found.values():
        entity["sections"] = [anchors[pk] for pk in sorted(entity["sections"], key=positions.get)]
    return sorted(found.values(), key=lambda e: (-e["mentions"], e["name"]))


# --- Entities, outlets, topics --------------------------------------------------


class _ListForm(forms.Form):
    cursor = forms.CharField(required=False, strip=False)
    limit = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_LIST_LIMIT,
        error_messages=dict.fromkeys(
            ("invalid", "min_value", "max_value"),
            f"Give the limit as a whole number from 1 to {MAX_LIST_LIMIT}.",
        ),
    )

    def clean_cursor(self) -> tuple[bool, str, int] | None:
        text = self.cleaned_data.get("cursor")
        return _decode_cursor(text) if text else None


class _EntityListForm(_ListForm):
    kind = forms.ChoiceField(
        required=False,
        choices=[("", ""), *Entity.Kind.choices],
        error_messages={
            "invalid_choice": "Kind is one of "
            + ", ".join(f"“{value}”" for value in Entity.Kind.values)
            + "."
        },
    )


_BAD_CURSOR = "This cursor was not given by the API: follow the next and previous links."


def _encode_cursor(forward: bool, name: str, pk: int) -> str:
    raw = json.dumps(["n" if forward else "p", name, pk], ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(text: str) -> tuple[bool, str, int]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        direction, name, pk = json.loads(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        raise forms.ValidationError(_BAD_CURSOR) from None
    if direction not in ("n", "p") or not isinstance(name, str) or type(pk) is not int:
        raise forms.ValidationError(_BAD_CURSOR)
    if "\x00" in name:
        raise forms.ValidationError(_BAD_CURSOR)
    return direction == "n", name, pk


def _valid(form: forms.Form) -> dict:
    if not form.is_valid():
        raise invalid({name: list(messages) for name, messages in form.errors.items()})
    return form.cleaned_data


def _keyset_page(request, rows: QuerySet, data: dict) -> tuple[list, dict]:
    """One page of `rows` in (name, id) order, from the cursor in `data`, with its links."""
    limit = data.get("limit") or LIST_LIMIT
    cursor = data.get("cursor")
    if cursor is None:
        page = list(rows.order_by("name", "pk")[: limit + 1])
        has_next, has_previous = len(page) > limit, False
        page = page[:limit]
    else:
        forward, name, pk = cursor
        if forward:
            after = Q(name__gt=name) | Q(name=name, pk__gt=pk)
            page = list(rows.filter(after).order_by("name", "pk")[: limit + 1])
            has_next, has_previous = len(page) > limit, True
            page = page[:limit]
        else:
            before = Q(name__lt=name) | Q(name=name, pk__lt=pk)
            page = list(rows.filter(before).order_by("-name", "-pk")[: limit + 1])
            has_next, has_previous = True, len(page) > limit
            page = page[:limit][::-1]
    links = {"next": None, "previous": None}
    if page and has_next:
        links["next"] = _with_param(request, "cursor", _encode_cursor(True, *_key(page[-1])))
    if page and has_previous:
        links["previous"] = _with_param(request, "cursor", _encode_cursor(False, *_key(page[0])))
    return page, links


def _key(row) -> tuple[str, int]:
    return row.name, row.pk


def _public_entities() -> QuerySet:
    named = Mention.objects.filter(entity=OuterRef("pk"), article__is_public=True)
    return Entity.objects.filter(Exists(named))


@read_only
def entities(request):
    data = _valid(_EntityListForm(request.GET))
    rows = _public_entities()
    if data.get("kind"):
        rows = rows.filter(kind=data["kind"])
    page, links = _keyset_page(request, rows, data)
    counts = {
        row["entity_id"]: row
        for row in Mention.objects.filter(
            entity_id__in=[e.pk for e in page], article__is_public=True
        )
        .values("entity_id")
        .annotate(articles=Count("article_id", distinct=True), mentions=Sum("count"))
    }
    return JsonResponse(
        {
            "count": rows.count(),
            **links,
            "results": [
                {
                    **_entity_ref(entity, request),
                    "article_count": counts[entity.pk]["articles"],
                    "mention_count": counts[entity.pk]["mentions"],
                }
                for entity in page
            ],
        }
    )


def _entity_ref(entity: Entity, request) -> dict:
    return {
        "slug": entity.slug,
        "name": entity.name,
        "kind": entity.kind,
        "aliases": entity.aliases,
        "url": request.build_absolute_uri(entity.get_absolute_url()),
        "api_url": _url(request, "api-entity", entity.slug),
        "articles": _url(request, "api-search", query={"entity": entity.slug}),
        "feeds": _feeds(request, "entity", entity.slug),
    }


@read_only
def entity(request, slug: str):
    found = _public_entities().filter(slug=slug).first()
    if found is None:
        raise Http404(f"No public article names an entity “{slug}”.")
    mentions = Mention.objects.filter(entity=found, article__is_public=True)
    months = (
        mentions.annotate(month=TruncMonth("article__published_at"))
        .values("month")
        .annotate(articles=Count("article_id", distinct=True), mentions=Sum("count"))
        .order_by("month")
    )
    totals = mentions.aggregate(articles=Count("article_id", distinct=True), mentions=Sum("count"))
    return JsonResponse(
        {
            **_entity_ref(found, request),
            "description": found.description,
            "article_count": totals["articles"],
            "mention_count": totals["mentions"],
            # In date order; articles of unknown date are counted under month null, last.
            "months": [
                {
                    "month": row["month"].strftime("%Y-%m") if row["month"] else None,
                    "articles": row["articles"],
                    "mentions": row["mentions"],
                }
                for row in months
            ],
        }
    )


@read_only
def outlets(request):
    data = _valid(_ListForm(request.GET))
    rows = Outlet.objects.with_public_counts()
    page, links = _keyset_page(request, rows, data)
    return JsonResponse(
        {
            "count": rows.count(),
            **links,
            "results": [
                {
                    **_outlet_ref(outlet, request),
                    "domain": outlet.domain,
                    "article_count": outlet.article_count,
                    "articles": _url(request, "api-search", query={"outlet": outlet.slug}),
                    "feeds": _feeds(request, "outlet", outlet.slug),
                }
                for outlet in page
            ],
        }
    )


@read_only
def topics(request):
    data = _valid(_ListForm(request.GET))
    rows = Topic.objects.with_public_counts()
    page, links = _keyset_page(request, rows, data)
    return JsonResponse(
        {
            "count": rows.count(),
            **links,
            "results": [
                {
                    "slug": topic.slug,
                    "name": topic.name,
                    "description": topic.description,
                    "query": topic.query,
                    "url": request.build_absolute_uri(topic.get_absolute_url()),
                    "article_count": topic.article_count,
                    "articles": _url(request, "api-search", query={"topic": topic.slug}),
                    "feeds": _feeds(request, "topic", topic.slug),
                }
                for topic in page
            ],
        }
    )


@read_only
def story(request, pk: int):
    copies = story_versions.copies(pk)
    if not copies:
        raise Http404(f"There is no story {pk} with public copies.")
    return JsonResponse(story_json(pk, story_versions.versions(copies), request))


def story_json(pk: int, versions, request) -> dict:
    """The copies in publication order, each with what changed since the copy before."""
    return {
        "id": pk,
        "url": request.build_absolute_uri(reverse("story-detail", args=[pk])),
        "copies": [
            {
                "id": version.article.pk,
                "url": request.build_absolute_uri(version.article.get_absolute_url()),
                "api_url": _url(request, "api-article", version.article.pk),
                "title": version.article.title,
                "outlet": (
                    _outlet_ref(version.article.outlet, request) if version.article.outlet else None
                ),
                "published_at": _iso(version.article.published_at),
                "previous": version.previous.pk if version.previous else None,
                "headline_changed": version.headline_changed,
                "paragraphs_added": version.count("added"),
                "paragraphs_removed": version.count("removed"),
                "paragraphs_changed": version.count("changed"),
            }
            for version in versions
        ],
    }
