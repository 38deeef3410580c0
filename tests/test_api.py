"""The JSON API beyond search: the index, one article, entities, outlets and topics,
pagination links, the one error shape, CORS, and hidden articles kept out.

`make_article`, `HOSTILE_TITLE` and the `hostile` / `hidden` fixtures are shared
with the export, feed, citation and OpenAPI tests."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import UTC, datetime

import pytest
from django.db.models import Sum
from django.test import Client

from articles.models import (
    Article,
    ArticleTopic,
    Entity,
    Mention,
    Outlet,
    Section,
    SourceDocument,
    Topic,
)

pytestmark = pytest.mark.django_db

NYT_LIVE = "Allies Fail to Reach Agreement on Providing Western Tanks to Ukraine"
AJ_LIVE = "US urges citizens in Ukraine ‘to consider departing now’: Live"

# Everything a spreadsheet, an XML feed, a BibTeX file or an HTML page could
# mistake for something other than text.
HOSTILE_TITLE = (
    '=cmd()|"/C calc"!A0, "quoted", <script>alert(1)</script> & {braces} 100% #1 '
    "$x_y \\input{/etc/passwd} ~^\nsecond line zanzibarquux"
)
HOSTILE_BYLINE = '@SUM(1+1) and Jane "JJ" O’Brien'
HOSTILE_DEK = "+44 <b>bold</b>\r\nnext line, with commas"
HOSTILE_HEADING = "-2+3 <img src=x onerror=alert(1)> zanzibarquux entry"
HOSTILE_URL = "https://example.org/a?b=1&c={x}%20y#frag"


def make_article(title, body, *, outlet=None, public=True, sections=(), **fields) -> Article:
    """An article saved as the loader would (a source document, one section a part)."""
    digest = hashlib.sha256(f"{title}|{body}|{fields}".encode()).hexdigest()
    source = SourceDocument.objects.create(
        origin=f"test://{digest[:12]}", sha256=digest, format="txt", raw=body.encode(), size=1
    )
    article = Article.objects.create(
        title=title,
        body=body,
        outlet=outlet,
        source=source,
        content_hash=digest,
        is_public=public,
        **{"published_at": datetime(2024, 6, 1, tzinfo=UTC), "date_source": "metadata", **fields},
    )
    for position, (heading, text) in enumerate(sections or [("", body)], start=1):
        Section.objects.create(
            article=article,
            position=position,
            heading=heading,
            body=text,
            anchor=f"part-{position}",
        )
    return article


@pytest.fixture
def hostile():
    outlet, _ = Outlet.objects.get_or_create(name="Hostile Wire", slug="hostile-wire")
    article = make_article(
        HOSTILE_TITLE,
        "Shelling near zanzibarquux. <script>alert(2)</script> =HYPERLINK() body",
        outlet=outlet,
        byline=HOSTILE_BYLINE,
        dek=HOSTILE_DEK,
        source_url=HOSTILE_URL,
        published_at=datetime(2030, 1, 2, tzinfo=UTC),
        sections=[
            (HOSTILE_HEADING, "zanzibarquux <script>alert(3)</script> in the entry"),
            ("", "a quiet entry"),
        ],
    )
    entity = Entity.objects.create(
        name="<script>Evil</script> & Co", kind="organisation", slug="evil-and-co"
    )
    Mention.objects.create(
        entity=entity, article=article, section=article.sections.get(position=1), count=2
    )
    ArticleTopic.objects.create(article=article, topic=Topic.objects.get(slug="energy"), score=0.5)
    return article


@pytest.fixture
def hidden():
    """A hidden article with its own word, entity and tags: it must show up nowhere."""
    article = make_article(
        "Secret qwertyhidden dossier",
        "qwertyhidden tanks Leopard Kyiv",
        outlet=Outlet.objects.get(slug="cnn"),
        public=False,
        published_at=datetime(2031, 1, 1, tzinfo=UTC),
    )
    only_hidden = Entity.objects.create(name="Hidden Person", kind="person", slug="hidden-person")
    section = article.sections.get()
    Mention.objects.create(entity=only_hidden, article=article, section=section)
    Mention.objects.create(
        entity=Entity.objects.get(slug="boris-pistorius"), article=article, section=section
    )
    ArticleTopic.objects.create(article=article, topic=Topic.objects.get(slug="energy"), score=1)
    return article


def ok(client, url, **params) -> dict:
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()


def error(client, url, status, **params) -> dict:
    response = client.get(url, params)
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"])
    return body["error"]


def follow(client, url, **params) -> list[dict]:
    """Every row of a paginated list, by following `next`."""
    page = ok(client, url, **params)
    rows = list(page["results"])
    while page["next"]:
        page = ok(client, page["next"])
        rows += page["results"]
    return rows


# --- Index, errors, CORS ---------------------------------------------------------


def test_the_index_links_every_endpoint(client):
    data = ok(client, "/api/")
    assert data["version"] == "1.0.0"
    assert data["openapi"] == "http://testserver/api/openapi.json"
    assert data["endpoints"]["article"] == "http://testserver/api/articles/{id}/"
    for url in [data["endpoints"][name] for name in ("search", "entities", "outlets", "topics")]:
        assert client.get(url).status_code == 200, url
    assert client.get(data["exports"]["manifest"]).status_code == 200


def test_every_response_may_be_read_from_any_origin(client):
    for url in ("/api/", "/api/search/?q=tanks", "/api/articles/999999/", "/api/nope/"):
        response = client.get(url, HTTP_ORIGIN="https://notebook.example")
        assert response["Access-Control-Allow-Origin"] == "*", url
        assert response["API-Version"] == "1.0.0"


def test_a_cors_preflight_allows_get_only(client):
    response = client.options(
        "/api/search/",
        HTTP_ORIGIN="https://notebook.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"


def test_other_methods_are_a_json_405():
    # As a real client meets them: the CSRF check on (the test client skips it).
    client = Client(enforce_csrf_checks=True)
    for url in ("/api/search/", "/api/entities/", "/api/articles/1/", "/api/", "/api/nothing/"):
        for method in ("post", "put", "patch", "delete", "trace"):
            response = getattr(client, method)(url)
            assert response.status_code == 405, (method, url)
            assert response["Allow"] == "GET, HEAD, OPTIONS"
            assert response.json()["error"]["code"] == "method_not_allowed"


def test_bad_parameters_are_a_400_naming_each_one(client):
    err = error(client, "/api/search/", 400, outlet="nope", page="0")
    assert err["code"] == "invalid_parameters"
    assert err["fields"] == {
        "outlet": ["There is no outlet “nope”."],
        "page": ["Give the page as a whole number, 1 or more."],
    }
    assert err["message"].startswith("Invalid parameters. outlet: There is no outlet “nope”.")


def test_an_unknown_address_is_a_json_404_and_a_missing_slash_redirects(client):
    assert error(client, "/api/nothing/here/", 404)["code"] == "not_found"
    response = client.get("/api/search", {"q": "tanks"})
    assert response.status_code == 301
    assert response["Location"] == "/api/search/?q=tanks"


# --- Search pagination -------------------------------------------------------------


def test_search_pages_link_to_the_next_and_previous(client):
    wire = Outlet.objects.create(name="Pager Wire", slug="pager-wire")
    for day in range(1, 46):
        make_article(
            f"Tank deliveries, day {day}",
            "Germany agreed to send Leopard 2 tanks.",
            outlet=wire,
            published_at=datetime(2023, 3, 1, day % 24, tzinfo=UTC),
        )
    first = ok(client, "/api/search/", outlet="pager-wire", q="tanks")
    assert first["count"] == 45 and first["num_pages"] == 3 and first["previous"] is None
    assert first["next"] == "http://testserver/api/search/?outlet=pager-wire&q=tanks&page=2"
    second = ok(client, first["next"])
    third = ok(client, second["next"])
    assert third["next"] is None
    assert ok(client, third["previous"])["results"] == second["results"]
    assert second["previous"] == "http://testserver/api/search/?outlet=pager-wire&q=tanks"
    ids = [r["id"] for page in (first, second, third) for r in page["results"]]
    assert len(ids) == len(set(ids)) == 45


def test_search_links_to_its_exports_and_feeds(client):
    data = ok(client, "/api/search/", q="Estonia", page=1)
    assert data["exports"] == {
        "csv": "http://testserver/search/export.csv?q=Estonia",
        "jsonl": "http://testserver/search/export.jsonl?q=Estonia",
        "manifest": "http://testserver/search/export.json?q=Estonia",
    }
    assert data["feeds"]["atom"] == "http://testserver/search/feed.atom?q=Estonia"


# --- One article -------------------------------------------------------------------


def test_an_article_has_metadata_sections_entities_topics_and_provenance(client):
    article = Article.objects.get(title=AJ_LIVE)
    data = ok(client, f"/api/articles/{article.pk}/")
    assert data["id"] == article.pk
    assert data["url"] == f"http://testserver{article.get_absolute_url()}"
    assert data["api_url"] == f"http://testserver/api/articles/{article.pk}/"
    assert data["outlet"]["slug"] == "al-jazeera"
    assert data["kind"] == "live" and data["published_at"] == "2022-01-26T00:00:00+00:00"
    sections = list(article.sections.order_by("position"))
    assert [s["anchor"] for s in data["sections"]] == [s.anchor for s in sections]
    assert [s["heading"] for s in data["sections"]] == [s.heading for s in sections]
    assert [s["body"] for s in data["sections"]] == [s.body for s in sections]
    estonia = next(s for s in data["sections"] if s["anchor"].startswith("us-fighter-jets"))
    assert estonia["posted_at"] == "2022-01-26T17:31:00+00:00"
    assert estonia["url"] == f"{data['url']}#us-fighter-jets-arrive-in-estonia-for-training"
    totals = dict(
        Mention.objects.filter(article=article).values_list("entity__slug").annotate(n=Sum("count"))
    )
    assert {e["slug"]: e["mentions"] for e in data["entities"]} == totals
    assert [e["mentions"] for e in data["entities"]] == sorted(totals.values(), reverse=True)
    position = {s.anchor: s.position for s in sections}
    for entity in data["entities"]:
        naming = Section.objects.filter(article=article, mentions__entity__slug=entity["slug"])
        assert entity["sections"] == sorted(
            naming.values_list("anchor", flat=True), key=position.get
        )
    assert [t["slug"] for t in data["topics"]] == list(
        ArticleTopic.objects.filter(article=article, excluded=False)
        .order_by("topic__name")
        .values_list("topic__slug", flat=True)
    )
    provenance = data["provenance"]
    assert provenance["source"]["sha256"] == article.source.sha256
    # The file, not the directories of the machine that loaded it (as the page shows it).
    assert "/" in article.source.origin
    assert provenance["source"]["origin"] == article.source.origin.rsplit("/", 1)[-1]
    assert article.source.origin not in json.dumps(data)
    assert provenance["source"]["loaded_at"] == article.source.loaded_at.isoformat()
    assert provenance["date_source"] == article.date_source
    assert data["cite"]["bib"] == f"http://testserver/articles/{article.pk}/cite.bib"


def test_hostile_text_comes_back_exactly_as_data(client, hostile):
    data = ok(client, f"/api/articles/{hostile.pk}/")
    assert data["title"] == HOSTILE_TITLE
    assert data["byline"] == HOSTILE_BYLINE and data["dek"] == HOSTILE_DEK
    assert data["sections"][0]["heading"] == HOSTILE_HEADING
    assert data["source_url"] == HOSTILE_URL
    assert data["entities"][0]["name"] == "<script>Evil</script> & Co"


def test_an_unknown_or_hidden_article_is_a_json_404(client, hidden):
    assert error(client, "/api/articles/999999/", 404)["message"] == (
        "There is no public article 999999."
    )
    assert error(client, f"/api/articles/{hidden.pk}/", 404)["code"] == "not_found"


# --- Entities ----------------------------------------------------------------------


def test_following_next_lists_every_public_entity_once_in_name_order(client):
    rows = follow(client, "/api/entities/", limit=40)
    named = Entity.objects.filter(mentions__article__is_public=True).distinct()
    assert [r["slug"] for r in rows] == list(
        named.order_by("name", "pk").values_list("slug", flat=True)
    )
    counts = Counter()
    for _article, slug in (
        Mention.objects.filter(article__is_public=True)
        .values_list("article_id", "entity__slug")
        .distinct()
    ):
        counts[slug] += 1
    assert {r["slug"]: r["article_count"] for r in rows} == dict(counts)


def test_previous_goes_back_to_the_same_rows(client):
    first = ok(client, "/api/entities/", limit=10)
    second = ok(client, first["next"])
    assert second["previous"] is not None
    back = ok(client, second["previous"])
    assert back["results"] == first["results"]
    assert back["previous"] is None


def test_an_entity_added_while_paging_neither_shifts_nor_repeats_rows(client):
    first = ok(client, "/api/entities/", limit=10)
    before = ok(client, first["next"])["results"]
    newcomer = Entity.objects.create(name="AAA First Of All", kind="person", slug="aaa-first")
    Mention.objects.create(
        entity=newcomer,
        article=Article.objects.get(title=NYT_LIVE),
        section=Section.objects.filter(article__title=NYT_LIVE).first(),
    )
    assert ok(client, first["next"])["results"] == before


def test_entities_filter_by_kind(client):
    people = follow(client, "/api/entities/", kind="person", limit=200)
    assert people and {r["kind"] for r in people} == {"person"}


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"limit": "0"}, "limit", "Give the limit as a whole number from 1 to 200."),
        ({"limit": "201"}, "limit", "Give the limit as a whole number from 1 to 200."),
        ({"limit": "ten"}, "limit", "Give the limit as a whole number from 1 to 200."),
        (
            {"cursor": "not-a-cursor"},
            "cursor",
            "This cursor was not given by the API: follow the next and previous links.",
        ),
        (
            {"cursor": "WyJ4IiwgMSwgMl0"},  # ["x", 1, 2]
            "cursor",
            "This cursor was not given by the API: follow the next and previous links.",
        ),
        (
            {"kind": "dragon"},
            "kind",
            "Kind is one of “person”, “organisation”, “place”, “group”, “weapon”, “event”.",
        ),
    ],
)
def test_bad_list_parameters_are_a_400(client, params, field, message):
    err = error(client, "/api/entities/", 400, **params)
    assert err["fields"] == {field: [message]}


def test_an_entity_has_aliases_and_mentions_by_month(client):
    data = ok(client, "/api/entities/boris-pistorius/")
    entity = Entity.objects.get(slug="boris-pistorius")
    assert data["name"] == entity.name and data["aliases"] == entity.aliases
    mentions = Mention.objects.filter(entity=entity, article__is_public=True)
    by_month = Counter()
    articles = {}
    for published, count, article_id in mentions.values_list(
        "article__published_at", "count", "article_id"
    ):
        month = published.strftime("%Y-%m")
        by_month[month] += count
        articles.setdefault(month, set()).add(article_id)
    assert data["months"] == [
        {"month": month, "articles": len(articles[month]), "mentions": by_month[month]}
        for month in sorted(by_month)
    ]
    assert data["mention_count"] == sum(by_month.values())
    assert data["article_count"] == mentions.values("article_id").distinct().count()
    assert data["feeds"]["atom"] == "http://testserver/entities/boris-pistorius/feed.atom"


def test_hidden_articles_never_count_and_their_own_entities_are_404(client, hidden):
    before = ok(client, "/api/entities/boris-pistorius/")
    assert "2031-01" not in [m["month"] for m in before["months"]]
    assert error(client, "/api/entities/hidden-person/", 404)["code"] == "not_found"
    assert "hidden-person" not in {r["slug"] for r in follow(client, "/api/entities/")}
    assert error(client, "/api/entities/no-such-one/", 404)["code"] == "not_found"


# --- Outlets and topics ----------------------------------------------------------------


def test_outlets_count_their_public_articles(client, hidden):
    rows = follow(client, "/api/outlets/", limit=2)
    public = Article.objects.public()
    assert {r["slug"]: r["article_count"] for r in rows} == {
        o.slug: public.filter(outlet=o).count()
        for o in Outlet.objects.all()
        if public.filter(outlet=o).exists()
    }
    cnn = next(r for r in rows if r["slug"] == "cnn")
    assert cnn["articles"] == "http://testserver/api/search/?outlet=cnn"
    assert ok(client, cnn["articles"])["count"] == cnn["article_count"]


def test_topics_count_public_articles_without_curators_exclusions(client, hidden):
    aid = Topic.objects.get(slug="military-aid-and-weapons")
    ArticleTopic.objects.create(article=hidden, topic=aid, score=1)
    tag = ArticleTopic.objects.filter(topic=aid, article__is_public=True).first()
    tag.curated, tag.excluded = True, True
    tag.save()
    rows = follow(client, "/api/topics/", limit=3)
    assert [r["slug"] for r in rows] == list(
        Topic.objects.order_by("name").values_list("slug", flat=True)
    )
    row = next(r for r in rows if r["slug"] == aid.slug)
    public = ArticleTopic.objects.filter(topic=aid, excluded=False, article__is_public=True)
    assert row["article_count"] == public.count() > 0
    assert ok(client, row["articles"])["count"] == row["article_count"]
