"""The OpenAPI 3.1 description of the API, exports, feeds and citations, served at
/api/openapi.json.

Every object schema is closed (additionalProperties: false) and lists every
field as required, so tests/test_openapi.py, which validates real responses of
every path against it, fails on a field added, dropped or retyped without the
description following.
"""

from __future__ import annotations

from functools import cache

from django.http import JsonResponse

from articles import search
from articles.api import API_VERSION, CITE_FORMATS, LIST_LIMIT, MAX_LIST_LIMIT, read_only
from articles.exports import CSV_COLUMNS
from articles.feeds import FEED_SIZE, JSON_FEED_VERSION
from articles.filters import MAX_QUERY_CHARS
from articles.models import Article, Entity

JSON = "application/json"


# --- Schema helpers --------------------------------------------------------------


def _obj(properties: dict, optional: tuple[str, ...] = (), **extra) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
        **extra,
    }


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict) -> dict:
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    nullable = {**schema, "type": [schema["type"], "null"]}
    if "enum" in schema:
        nullable["enum"] = [*schema["enum"], None]
    return nullable


def _array(items: dict) -> dict:
    return {"type": "array", "items": items}


STR = {"type": "string"}
INT = {"type": "integer"}
URL = {"type": "string", "format": "uri"}
DATETIME = {"type": "string", "format": "date-time"}
SLUG = {"type": "string", "pattern": r"^[-\w]+$"}
COUNT = {"type": "integer", "minimum": 0}
ARTICLE_KIND = {"type": "string", "enum": list(Article.Kind.values)}
ENTITY_KIND = {"type": "string", "enum": list(Entity.Kind.values)}
FEEDS = _obj({"atom": URL, "json": URL})


def _schemas() -> dict:
    named = {"slug": SLUG, "name": STR}
    return {
        "Error": _obj(
            {
                "error": _obj(
                    {
                        "code": {
                            "type": "string",
                            "enum": [
                                "invalid_parameters",
                                "not_found",
                                "method_not_allowed",
                                "rate_limited",
                                "unavailable",
                            ],
                        },
                        "message": STR,
                        "fields": {
                            "type": "object",
                            "description": "Each invalid parameter with what is wrong with it.",
                            "additionalProperties": _array(STR),
                        },
                    },
                    optional=("fields",),
                )
            }
        ),
        "Index": _obj(
            {
                "name": STR,
                "version": STR,
                "openapi": URL,
                "endpoints": _obj(
                    {
                        "search": URL,
                        "article": STR,
                        "entities": URL,
                        "entity": STR,
                        "story": STR,
                        "outlets": URL,
                        "topics": URL,
                    }
                ),
                "exports": _obj({"csv": URL, "jsonl": URL, "manifest": URL}),
                "feeds": FEEDS,
            }
        ),
        "SectionHit": _obj(
            {
                "anchor": SLUG,
                "heading": STR,
                "posted_at": _nullable(DATETIME),
                "snippet": {**STR, "description": "HTML: escaped text, matches in <mark>."},
                "url": URL,
            }
        ),
        "Hit": _obj(
            {
                "id": INT,
                "title": STR,
                "url": URL,
                "source_url": _nullable(STR),
                "outlet": _nullable(_obj(named)),
                "published_at": _nullable(DATETIME),
                "kind": ARTICLE_KIND,
                "snippet": {**STR, "description": "HTML: escaped text, matches in <mark>."},
                "sections": {
                    **_array(_ref("SectionHit")),
                    "description": "The best matching entries (at most three) of a live blog "
                    "or an article of several sections; none for an article of one section "
                    "without a heading, whose snippet is its text's.",
                },
                "topics": _array(SLUG),
                "entities": _array(SLUG),
                "story": _nullable(
                    _obj(
                        {
                            "id": INT,
                            "url": URL,
                            "api_url": URL,
                            "copies": {
                                **COUNT,
                                "description": "Public copies of this story in the archive.",
                            },
                            "outlets": {**COUNT, "description": "Outlets that ran it."},
                            "first_published_at": _nullable(DATETIME),
                        },
                        description="The story this article is a copy in (null: none yet).",
                    )
                ),
            }
        ),
        "SearchResults": _obj(
            {
                "query": STR,
                "understood": _nullable(STR),
                "count": {
                    **COUNT,
                    "description": "Exact, unless count_capped: then at least this many.",
                },
                "count_capped": {"type": "boolean"},
                "story_count": {
                    **_nullable(COUNT),
                    "description": (
                        "The stories the matches are copies in (a floor when count_capped); "
                        "null when the search backend does not count them."
                    ),
                },
                "collapsed": {
                    "type": "boolean",
                    "description": "Each story once, its best-ranked copy (copies=story, the "
                    "default); copies=all gives every copy. count and facets count articles.",
                },
                "facets_sampled": {
                    "type": "boolean",
                    "description": (
                        "Some facets count only the newest matches: topic and entity "
                        f"past {search.FACET_SAMPLE:,}, outlet and month past "
                        f"{search.SAMPLE_SIZE:,} (see count_capped)."
                    ),
                },
                "page": {"type": "integer", "minimum": 1},
                "num_pages": {"type": "integer", "minimum": 1},
                "results": _array(_ref("Hit")),
                "facets": _obj(
                    {
                        "outlet": _array(_obj({**named, "count": COUNT})),
                        "topic": _array(_obj({**named, "count": COUNT})),
                        "entity": _array(_obj({**named, "kind": ENTITY_KIND, "count": COUNT})),
                        "month": _array(
                            _obj(
                                {
                                    "month": {"type": "string", "pattern": r"^\d{4}-\d{2}$"},
                                    "count": COUNT,
                                }
                            )
                        ),
                        "kind": _array(_obj({"kind": ARTICLE_KIND, "name": STR, "count": COUNT})),
                    }
                ),
                "suggestion": _nullable(STR),
                "relaxed": _nullable(STR),
                "searched_range": _nullable(STR),
                "next": _nullable(URL),
                "previous": _nullable(URL),
                "exports": _obj({"csv": URL, "jsonl": URL, "manifest": URL}),
                "feeds": FEEDS,
            }
        ),
        "Article": _obj(
            {
                "id": INT,
                "url": URL,
                "api_url": URL,
                "title": STR,
                "kicker": STR,
                "dek": STR,
                "byline": STR,
                "dateline": STR,
                "source_url": _nullable(STR),
                "outlet": _nullable(_obj({**named, "url": URL})),
                "published_at": _nullable(DATETIME),
                "date_source": {"type": "string", "enum": list(Article.DateSource.values)},
                "kind": ARTICLE_KIND,
                "sections": _array(
                    _obj(
                        {
                            "position": COUNT,
                            "anchor": SLUG,
                            "url": URL,
                            "heading": STR,
                            "posted_at": _nullable(DATETIME),
                            "body": STR,
                            "captions": _array(STR),
                        }
                    )
                ),
                "entities": _array(
                    _obj(
                        {
                            **named,
                            "kind": ENTITY_KIND,
                            "url": URL,
                            "mentions": {"type": "integer", "minimum": 1},
                            "sections": {**_array(SLUG), "description": "Anchors, in order."},
                        }
                    )
                ),
                "topics": _array(
                    _obj({**named, "curated": {"type": "boolean"}, "score": {"type": "number"}})
                ),
                "provenance": _obj(
                    {
                        "source": _nullable(
                            _obj(
                                {
                                    "origin": {
                                        "type": "string",
                                        "description": "The input's file name, or its "
                                        "address: never the loading machine's directories",
                                    },
                                    "format": STR,
                                    "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                                    "size": COUNT,
                                    "status": {
                                        "type": "string",
                                        "enum": ["loaded", "partial", "failed"],
                                    },
                                    "loaded_at": DATETIME,
                                }
                            )
                        ),
                        "record": STR,
                        "date_source": {"type": "string", "enum": list(Article.DateSource.values)},
                        "created_at": DATETIME,
                        "updated_at": DATETIME,
                    }
                ),
                "cite": _obj(dict.fromkeys(CITE_FORMATS, URL)),
            }
        ),
        "Story": _obj(
            {
                "id": INT,
                "url": URL,
                "copies": {
                    **_array(
                        _obj(
                            {
                                "id": INT,
                                "url": URL,
                                "api_url": URL,
                                "title": STR,
                                "outlet": _nullable(_obj({**named, "url": URL})),
                                "published_at": _nullable(DATETIME),
                                "previous": {
                                    **_nullable(INT),
                                    "description": "The copy before (null: the first run).",
                                },
                                "headline_changed": {"type": "boolean"},
                                "paragraphs_added": COUNT,
                                "paragraphs_removed": COUNT,
                                "paragraphs_changed": COUNT,
                            }
                        )
                    ),
                    "description": "Every public copy, in publication order (undated last).",
                },
            }
        ),
        "EntitySummary": _obj(_entity_fields()),
        "Entity": _obj(
            {
                **_entity_fields(),
                "description": STR,
                "months": _array(
                    _obj(
                        {
                            "month": _nullable({"type": "string", "pattern": r"^\d{4}-\d{2}$"}),
                            "articles": COUNT,
                            "mentions": COUNT,
                        },
                        description="Articles of unknown date are counted under month null, last.",
                    )
                ),
            }
        ),
        "Outlet": _obj(
            {
                **named,
                "url": URL,
                "domain": STR,
                "article_count": COUNT,
                "articles": URL,
                "feeds": FEEDS,
            }
        ),
        "Topic": _obj(
            {
                **named,
                "description": STR,
                "query": STR,
                "url": URL,
                "article_count": COUNT,
                "articles": URL,
                "feeds": FEEDS,
            }
        ),
        "EntityList": _list_of("EntitySummary"),
        "OutletList": _list_of("Outlet"),
        "TopicList": _list_of("Topic"),
        "ExportManifest": _obj(
            {
                "type": {"const": "meta"},
                "query": STR,
                "understood": _nullable(STR),
                "relaxed": {
                    **_nullable(STR),
                    "description": "When no page-full of articles had every word: the "
                    "export holds those with most of them, as the search's pages do.",
                },
                "filters": _obj(
                    {
                        "outlet": _array(SLUG),
                        "topic": _array(SLUG),
                        "entity": _array(SLUG),
                        "from": _nullable({"type": "string", "format": "date"}),
                        "to": _nullable({"type": "string", "format": "date"}),
                        "kind": _nullable(ARTICLE_KIND),
                    }
                ),
                "parameters": {**STR, "description": "The query string, less the page."},
                "order": {"type": "string", "enum": ["newest", "oldest"]},
                "count": COUNT,
                "exported_at": DATETIME,
                "archive_version": {
                    **STR,
                    "description": "software version + time of the last change to any article",
                },
                "software_version": STR,
                "data_changed_at": _nullable(DATETIME),
                "columns": {**_array(STR), "const": list(CSV_COLUMNS)},
                "search": URL,
                "files": _obj({"csv": URL, "jsonl": URL, "manifest": URL}),
            }
        ),
        "JsonFeed": _obj(
            {
                "version": {"const": JSON_FEED_VERSION},
                "title": STR,
                "home_page_url": URL,
                "feed_url": URL,
                "description": STR,
                "language": STR,
                "authors": _array(_obj({"name": STR, "url": URL})),
                "items": {
                    **_array(
                        _obj(
                            {
                                "id": STR,
                                "url": URL,
                                "external_url": URL,
                                "title": STR,
                                "content_html": STR,
                                "date_published": DATETIME,
                                "date_modified": DATETIME,
                                "authors": _array(_obj({"name": STR})),
                                "tags": _array(STR),
                            },
                            optional=("external_url", "date_published", "authors", "tags"),
                        )
                    ),
                    "maxItems": FEED_SIZE,
                },
            }
        ),
    }


def _entity_fields() -> dict:
    return {
        "slug": SLUG,
        "name": STR,
        "kind": ENTITY_KIND,
        "aliases": _array(STR),
        "url": URL,
        "api_url": URL,
        "articles": URL,
        "feeds": FEEDS,
        "article_count": COUNT,
        "mention_count": COUNT,
    }


def _list_of(name: str) -> dict:
    return _obj(
        {
            "count": COUNT,
            "next": _nullable(URL),
            "previous": _nullable(URL),
            "results": _array(_ref(name)),
        }
    )


# --- Parameters and responses ------------------------------------------------------


def _query(name: str, schema: dict, description: str, **extra) -> dict:
    return {"name": name, "in": "query", "schema": schema, "description": description, **extra}


def _path_param(name: str, schema: dict, description: str) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema,
        "description": description,
    }


def _search_parameters(*, page: bool = True) -> list[dict]:
    many = {"style": "form", "explode": True}
    parameters = [
        _query(
            "q",
            {"type": "string", "maxLength": MAX_QUERY_CHARS},
            'Words or a whole sentence, "exact phrases", or (also |), -exclude, prefix*. '
            "Other spellings of names (Kiev / Kyiv, Київ) are searched too. When no "
            "article has every word, those with most of them come back (`relaxed` says so).",
        ),
        _query("outlet", _array(SLUG), "Outlet slugs; repeated, any of them.", **many),
        _query("topic", _array(SLUG), "Topic slugs; repeated, all of them.", **many),
        _query("entity", _array(SLUG), "Entity slugs; repeated, all of them.", **many),
        _query("from", {"type": "string", "format": "date"}, "Published on or after (YYYY-MM-DD)."),
        _query("to", {"type": "string", "format": "date"}, "Published on or before (YYYY-MM-DD)."),
        _query("kind", ARTICLE_KIND, "Only articles or only live blogs."),
        _query(
            "sort",
            {"type": "string", "enum": list(search.SORTS), "default": "relevance"},
            "Exports and feeds are always in date order (oldest first only with sort=oldest).",
        ),
        _query(
            "copies",
            {"type": "string", "enum": ["story", "all"], "default": "story"},
            "story: each story once, its best-ranked copy; all: every copy. Exports and "
            "feeds always give every copy, each with its story id.",
        ),
    ]
    if page:
        parameters.append(
            _query(
                "page",
                {"type": "integer", "minimum": 1, "maximum": search.MAX_PAGE, "default": 1},
                f"{search.PER_PAGE} results a page; follow `next` and `previous`.",
            )
        )
    return parameters


_LIST_PARAMETERS = [
    _query("cursor", STR, "Opaque: from a `next` or `previous` link."),
    _query(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIST_LIMIT, "default": LIST_LIMIT},
        "Rows a page.",
    ),
]


def _json(schema: str, description: str, media: str = JSON) -> dict:
    return {"description": description, "content": {media: {"schema": _ref(schema)}}}


def _text(media_types: list[str], description: str) -> dict:
    return {
        "description": description,
        "content": {media: {"schema": {"type": "string"}} for media in media_types},
    }


ERROR_400 = _json("Error", "Invalid parameters: `error.fields` says which and why.")
ERROR_404 = _json("Error", "Not found, or not public.")


def _get(summary: str, responses: dict, parameters: list | None = None, **extra) -> dict:
    operation = {"summary": summary, "responses": responses, **extra}
    if parameters:
        operation["parameters"] = parameters
    return {"get": operation}


def _feed_paths(prefix: str, what: str, parameters: list, error: tuple[str, dict]) -> dict:
    """`error`: a search's feeds answer bad parameters (400), the others unknown slugs (404)."""
    code, response = error
    return {
        f"{prefix}/feed.atom": _get(
            f"Atom feed of {what}",
            {
                "200": _text(["application/atom+xml"], f"The {FEED_SIZE} newest, newest first."),
                code: response,
            },
            parameters,
            tags=["feeds"],
        ),
        f"{prefix}/feed.json": _get(
            f"JSON Feed 1.1 of {what}",
            {
                "200": _json("JsonFeed", f"The {FEED_SIZE} newest.", "application/feed+json"),
                code: response,
            },
            parameters,
            tags=["feeds"],
        ),
    }


@cache
def spec() -> dict:
    slug = [_path_param("slug", SLUG, "The slug, as in the page's address.")]
    bad, unknown = ("400", ERROR_400), ("404", ERROR_404)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "War-coverage archive API",
            "version": API_VERSION,
            "description": (
                "Read-only. Hidden articles never appear. Errors are "
                '{"error": {"code", "message"}}. Any origin may read (CORS, GET). '
                "Paginated responses give `next` and `previous` as absolute URLs."
            ),
        },
        "servers": [{"url": "/"}],
        "tags": [
            {"name": "api", "description": "JSON API"},
            {"name": "exports", "description": "Every result of a search, streamed"},
            {"name": "feeds", "description": "Atom and JSON Feed"},
            {"name": "citations", "description": "An article's citation"},
        ],
        "paths": {
            "/api/": _get("What the API offers", {"200": _json("Index", "Links.")}, tags=["api"]),
            "/api/openapi.json": _get(
                "This description",
                {
                    "200": {
                        "description": "OpenAPI 3.1",
                        "content": {JSON: {"schema": {"type": "object"}}},
                    }
                },
                tags=["api"],
            ),
            "/api/search/": _get(
                "Search",
                {"200": _json("SearchResults", "One page of results."), "400": ERROR_400},
                _search_parameters(),
                tags=["api"],
            ),
            "/api/articles/{id}/": _get(
                "One article: metadata, sections, entities, topics, provenance",
                {"200": _json("Article", "The article."), "404": ERROR_404},
                [_path_param("id", INT, "The article id.")],
                tags=["api"],
            ),
            "/api/stories/{id}/": _get(
                "One story: its copies in publication order and what changed between them",
                {"200": _json("Story", "The story."), "404": ERROR_404},
                [_path_param("id", INT, "The story id.")],
                tags=["api"],
            ),
            "/api/entities/": _get(
                "Entities named in public articles, by name",
                {"200": _json("EntityList", "One page."), "400": ERROR_400},
                [*_LIST_PARAMETERS, _query("kind", ENTITY_KIND, "Only this kind.")],
                tags=["api"],
            ),
            "/api/entities/{slug}/": _get(
                "One entity: aliases and mentions by month",
                {"200": _json("Entity", "The entity."), "404": ERROR_404},
                slug,
                tags=["api"],
            ),
            "/api/outlets/": _get(
                "Outlets with public articles, by name",
                {"200": _json("OutletList", "One page."), "400": ERROR_400},
                _LIST_PARAMETERS,
                tags=["api"],
            ),
            "/api/topics/": _get(
                "Topics, by name",
                {"200": _json("TopicList", "One page."), "400": ERROR_400},
                _LIST_PARAMETERS,
                tags=["api"],
            ),
            "/search/export.csv": _get(
                "Every match as CSV (UTF-8 with a byte-order mark)",
                {
                    "200": _text(["text/csv"], "Columns: " + ", ".join(CSV_COLUMNS) + "."),
                    "400": ERROR_400,
                },
                _search_parameters(page=False),
                tags=["exports"],
            ),
            "/search/export.jsonl": _get(
                "Every match as JSON Lines: a `meta` record (the manifest), then one per article",
                {
                    "200": _text(["application/x-ndjson"], "One JSON object a line."),
                    "400": ERROR_400,
                },
                _search_parameters(page=False),
                tags=["exports"],
            ),
            "/search/export.json": _get(
                "How an export of this search is made",
                {"200": _json("ExportManifest", "The manifest."), "400": ERROR_400},
                _search_parameters(page=False),
                tags=["exports"],
            ),
            **_feed_paths("/search", "a search", _search_parameters(page=False), bad),
            **_feed_paths("/entities/{slug}", "articles naming an entity", slug, unknown),
            **_feed_paths("/outlets/{slug}", "an outlet's articles", slug, unknown),
            **_feed_paths("/topics/{slug}", "a topic's articles", slug, unknown),
            "/articles/{id}/cite.{format}": _get(
                "An article's citation",
                {
                    "200": {
                        "description": "txt: Chicago; bib: BibTeX; ris: RIS; json: CSL-JSON.",
                        "content": {
                            "text/plain": {"schema": STR},
                            "application/x-bibtex": {"schema": STR},
                            "application/x-research-info-systems": {"schema": STR},
                            "application/vnd.citationstyles.csl+json": {
                                "schema": {**_array({"type": "object"}), "minItems": 1}
                            },
                        },
                    },
                    "404": {"description": "No such public article."},
                },
                [
                    _path_param("id", INT, "The article id."),
                    _path_param(
                        "format", {"type": "string", "enum": list(CITE_FORMATS)}, "Format."
                    ),
                ],
                tags=["citations"],
            ),
        },
        "components": {"schemas": _schemas()},
    }


@read_only
def openapi_json(request):
    return JsonResponse(spec(), json_dumps_params={"ensure_ascii": False})
