"""/api/openapi.json is a valid OpenAPI 3.1 description, and it tells the truth:
real responses of every path it lists (successes and errors, on the seed
archive and on hostile text) validate against the schema it gives for their
status and media type, and every parameter sent is one it declares."""

from __future__ import annotations

import json
from datetime import date, datetime
from urllib.parse import parse_qsl, urlsplit

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from articles.models import Article, Entity, SourceDocument
from tests.test_api import hostile, make_article

pytestmark = pytest.mark.django_db
__all__ = ["hostile"]  # fixtures

SPEC_URI = "urn:archive:openapi"
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _datetime(value) -> bool:
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


@FORMATS.checks("date", raises=ValueError)
def _date(value) -> bool:
    return not isinstance(value, str) or bool(date.fromisoformat(value))


@FORMATS.checks("uri")
def _uri(value) -> bool:
    parts = urlsplit(value) if isinstance(value, str) else None
    return parts is None or (parts.scheme in ("http", "https") and bool(parts.netloc))


@pytest.fixture(scope="module")
def spec(django_db_blocker) -> dict:
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


class Checker:
    """Validates responses against the spec and records which (path, status) it saw."""

    def __init__(self, client, spec):
        self.client, self.spec = client, spec
        registry = Registry().with_resource(
            SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT202012)
        )
        self.registry = registry
        self.seen: set[tuple[str, str]] = set()

    def schema_validator(self, pointer: str) -> Draft202012Validator:
        return Draft202012Validator(
            {"$ref": f"{SPEC_URI}#{pointer}"}, registry=self.registry, format_checker=FORMATS
        )

    def get(self, template: str, url: str, status: int, **params):
        operation = self.spec["paths"][template]["get"]
        sent = {**params, **dict(parse_qsl(urlsplit(url).query))}
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        assert set(sent) <= declared, f"{template}: undeclared parameters {set(sent) - declared}"
        response = self.client.get(url, params)
        assert response.status_code == status, (url, response.status_code)
        code = str(status)
        assert code in operation["responses"], f"{template} does not declare {code}"
        self.seen.add((template, code))
        declared_response = operation["responses"][code]
        if "content" not in declared_response:
            return response
        media = response["Content-Type"].split(";")[0].strip()
        assert media in declared_response["content"], f"{template} {code}: {media} undeclared"
        body = b"".join(response.streaming_content) if response.streaming else response.content
        self.last_body = body
        if media == "application/json" or media.endswith("+json"):
            path = template.replace("~", "~0").replace("/", "~1")
            media_key = media.replace("~", "~0").replace("/", "~1")
            pointer = f"/paths/{path}/get/responses/{code}/content/{media_key}/schema"
            self.schema_validator(pointer).validate(json.loads(body))
        return response


@pytest.fixture
def check(client, spec) -> Checker:
    return Checker(client, spec)


def test_the_description_is_valid_openapi(spec):
    validate(spec)
    assert spec["openapi"] == "3.1.0"
    assert spec["info"]["version"] == "1.0.0"


def test_every_schema_is_closed(spec):
    def walk(node, where):
        if isinstance(node, dict):
            if node.get("type") in ("object", ["object", "null"]) and "properties" in node:
                assert node.get("additionalProperties") is False, where
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for n, value in enumerate(node):
                walk(value, f"{where}/{n}")

    walk(spec["components"]["schemas"], "schemas")


def test_real_responses_of_every_path_match_the_description(check, spec, hostile):
    article = Article.objects.get(title__startswith="US urges citizens")
    sourceless = make_article(
        "No source recorded", "Body text.", published_at=None, date_source="unknown"
    )
    SourceDocument.objects.filter(pk=sourceless.source_id).delete()

    check.get("/api/", "/api/", 200)
    check.get("/api/openapi.json", "/api/openapi.json", 200)

    check.get("/api/search/", "/api/search/", 200)
    data = check.get("/api/search/", "/api/search/", 200, q="Estonia", sort="newest").json()
    assert data["results"]
    check.get("/api/search/", "/api/search/", 200, q="zanzibarquux")
    check.get("/api/search/", "/api/search/", 200, q="Pistorious")  # a suggestion
    check.get("/api/search/", "/api/search/", 400, outlet="nope", page="0")

    for pk in [*Article.objects.public().values_list("pk", flat=True)]:
        check.get("/api/articles/{id}/", f"/api/articles/{pk}/", 200)
    check.get("/api/articles/{id}/", "/api/articles/999999/", 404)
    for story in {*Article.objects.public().exclude(story=None).values_list("story_id", flat=True)}:
        check.get("/api/stories/{id}/", f"/api/stories/{story}/", 200)
    check.get("/api/stories/{id}/", "/api/stories/999999/", 404)

    first = check.get("/api/entities/", "/api/entities/", 200, limit="30").json()
    check.get("/api/entities/", first["next"], 200)
    check.get("/api/entities/", "/api/entities/", 200, kind="weapon")
    check.get("/api/entities/", "/api/entities/", 400, limit="0")
    for slug in [
        *Entity.objects.order_by("name").values_list("slug", flat=True)[:25],
        "evil-and-co",
    ]:
        check.get("/api/entities/{slug}/", f"/api/entities/{slug}/", 200)
    check.get("/api/entities/{slug}/", "/api/entities/nope/", 404)

    check.get("/api/outlets/", "/api/outlets/", 200)
    check.get("/api/outlets/", "/api/outlets/", 400, cursor="bad")
    check.get("/api/topics/", "/api/topics/", 200, limit="3")
    check.get("/api/topics/", "/api/topics/", 400, limit="x")

    for suffix in ("csv", "jsonl", "json"):
        template = f"/search/export.{suffix}"
        check.get(template, template, 200, q="tanks", outlet="cnn")
        check.get(template, template, 400, kind="podcast")
    check.get("/search/export.jsonl", "/search/export.jsonl", 200, q="zanzibarquux")
    meta = json.loads(check.last_body.splitlines()[0])
    check.schema_validator("/components/schemas/ExportManifest").validate(meta)

    for fmt in ("atom", "json"):
        check.get(f"/search/feed.{fmt}", f"/search/feed.{fmt}", 200, q="Estonia")
        check.get(f"/search/feed.{fmt}", f"/search/feed.{fmt}", 200, q="zanzibarquux")
        check.get(f"/search/feed.{fmt}", f"/search/feed.{fmt}", 400, sort="random")
        for kind, slug in (
            ("entities", "boris-pistorius"),
            ("outlets", "cnn"),
            ("topics", "energy"),
        ):
            template = f"/{kind}/{{slug}}/feed.{fmt}"
            check.get(template, f"/{kind}/{slug}/feed.{fmt}", 200)
            check.get(template, f"/{kind}/nope/feed.{fmt}", 404)
    check.get("/search/feed.json", "/search/feed.json", 200)  # every public article

    for pk in (article.pk, hostile.pk, sourceless.pk):
        for fmt in ("txt", "bib", "ris", "json"):
            check.get("/articles/{id}/cite.{format}", f"/articles/{pk}/cite.{fmt}", 200)
    check.get("/articles/{id}/cite.{format}", "/articles/999999/cite.bib", 404)

    declared = {
        (path, code) for path, item in spec["paths"].items() for code in item["get"]["responses"]
    }
    assert declared - check.seen == set(), "every declared response is exercised"
