"""/api/search/ (and the parameters it shares with /search/): the JSON shape,
each parameter, and a clear 400 for every invalid one."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from articles.models import Article, ArticleTopic, Mention, Outlet, Topic
from articles.search.backends import postgres

ISO_ONLY = (
    "Give dates as YYYY-MM-DD (year, month, day), for example 2023-01-20: "
    "a form like 01/02/2023 could be 1 February or 2 January."
)

pytestmark = pytest.mark.django_db

NYT_LIVE = "Allies Fail to Reach Agreement on Providing Western Tanks to Ukraine"
AJ_LIVE = "US urges citizens in Ukraine ‘to consider departing now’: Live"
WAPO_STRIKES = "Ukraine can use US weapons for limited strikes in Russia, Biden says"


def get(client, **params):
    return client.get("/api/search/", params)


def ok(client, **params) -> dict:
    response = get(client, **params)
    assert response.status_code == 200, response.content
    return response.json()


def titles(client, **params) -> set[str]:
    return {r["title"] for r in ok(client, **params)["results"]}


def bad(client, **params) -> dict:
    """The error of a 400: {"error": {"code", "message", "fields"}}, as every API error."""
    response = get(client, **params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == "invalid_parameters"
    return body["error"]


def test_the_response_has_the_documented_shape(client):
    data = ok(client, q="Estonia")
    assert set(data) >= {"query", "count", "page", "results", "facets", "suggestion"}
    assert data["query"] == "Estonia" and data["page"] == 1 and data["suggestion"] is None
    assert data["count"] == len(data["results"]) == 3
    result = next(r for r in data["results"] if r["title"] == AJ_LIVE)
    assert set(result) == {
        "id",
        "title",
        "url",
        "source_url",
        "outlet",
        "published_at",
        "kind",
        "snippet",
        "sections",
        "topics",
        "entities",
        "story",
    }
    article = Article.objects.get(title=AJ_LIVE)
    assert result["id"] == article.pk
    assert result["url"] == f"http://testserver{article.get_absolute_url()}"
    assert result["outlet"] == {"slug": "al-jazeera", "name": "Al Jazeera"}
    assert result["published_at"] == "2022-01-26T00:00:00+00:00"
    assert result["kind"] == "live"
    assert "<mark>Estonia</mark>" in result["snippet"]
    assert set(result["sections"][0]) >= {"anchor", "heading", "posted_at", "snippet"}
    assert result["topics"] == sorted(
        ArticleTopic.objects.filter(article=article, excluded=False).values_list(
            "topic__slug", flat=True
        ),
        key=lambda slug: Topic.objects.get(slug=slug).name,
    )
    assert set(result["entities"]) == set(
        Mention.objects.filter(article=article).values_list("entity__slug", flat=True)
    )
    facets = data["facets"]
    assert set(facets) == {"outlet", "topic", "entity", "month", "kind"}
    assert set(facets["outlet"][0]) == {"slug", "name", "count"}
    assert set(facets["topic"][0]) == {"slug", "name", "count"}
    assert set(facets["entity"][0]) >= {"slug", "name", "count"}
    months = sorted({r["published_at"][:7] for r in data["results"]})
    assert [f["month"] for f in facets["month"]] == months
    assert sum(f["count"] for f in facets["month"]) == 3


def test_without_a_query_it_lists_every_public_article_newest_first(client):
    data = ok(client)
    assert data["count"] == Article.objects.public().count() == 8
    dates = [r["published_at"] for r in data["results"]]
    assert dates == sorted(dates, reverse=True)
    assert data["query"] == "" and data["suggestion"] is None


def test_outlet_filters_and_repeated_outlets_are_alternatives(client):
    assert {r["outlet"]["slug"] for r in ok(client, outlet="cnn")["results"]} == {"cnn"}
    both = ok(client, outlet=["cnn", "guardian"])
    assert {r["outlet"]["slug"] for r in both["results"]} == {"cnn", "guardian"}
    assert both["count"] == Article.objects.filter(outlet__slug__in=["cnn", "guardian"]).count()


def test_topic_filters_and_repeated_topics_must_all_apply(client):
    aid = set(
        ArticleTopic.objects.filter(
            topic__slug="military-aid-and-weapons", excluded=False
        ).values_list("article__title", flat=True)
    )
    diplomacy = set(
        ArticleTopic.objects.filter(
            topic__slug="diplomacy-and-negotiations", excluded=False
        ).values_list("article__title", flat=True)
    )
    assert aid and diplomacy and aid != diplomacy and aid & diplomacy
    assert titles(client, topic="military-aid-and-weapons") == aid
    assert (
        titles(client, topic=["military-aid-and-weapons", "diplomacy-and-negotiations"])
        == aid & diplomacy
    )


def test_a_curators_exclusion_keeps_an_article_out_of_a_topic(client):
    tag = ArticleTopic.objects.filter(topic__slug="military-aid-and-weapons").first()
    tag.curated, tag.excluded = True, True
    tag.save()
    assert tag.article.title not in titles(client, topic="military-aid-and-weapons")


def test_entity_filters_and_repeated_entities_must_all_apply(client):
    def mentioning(slug):
        return set(
            Mention.objects.filter(entity__slug=slug).values_list("article__title", flat=True)
        )

    assert titles(client, entity="boris-pistorius") == mentioning("boris-pistorius")
    both = mentioning("boris-pistorius") & mentioning("antony-blinken")
    assert titles(client, entity=["boris-pistorius", "antony-blinken"]) == both
    tanks = titles(client, q="tanks")
    assert titles(client, q="tanks", entity="boris-pistorius") == tanks & mentioning(
        "boris-pistorius"
    )


def test_dates_are_inclusive_days(client):
    assert titles(client, **{"from": "2024-05-30", "to": "2024-05-30"}) == {WAPO_STRIKES}
    assert WAPO_STRIKES not in titles(client, **{"from": "2024-05-31"})
    assert WAPO_STRIKES not in titles(client, to="2024-05-29")
    assert {r["published_at"][:4] for r in ok(client, to="2022-12-31")["results"]} == {"2022"}


def test_kind_picks_articles_or_live_blogs(client):
    assert {r["kind"] for r in ok(client, kind="live")["results"]} == {"live"}
    assert ok(client, kind="live")["count"] == 2
    assert ok(client, kind="article")["count"] == 6


def test_sort_orders_by_date_either_way(client):
    newest = [r["published_at"] for r in ok(client, q="Ukraine", sort="newest")["results"]]
    oldest = [r["published_at"] for r in ok(client, q="Ukraine", sort="oldest")["results"]]
    assert newest == sorted(newest, reverse=True) and oldest == sorted(newest)
    assert ok(client, q="Ukraine", sort="relevance")["count"] == 8


def test_pages_hold_twenty_results(client):
    wire = Outlet.objects.create(name="Pager Wire", slug="pager-wire")
    Article.objects.bulk_create(
        Article(
            outlet=wire,
            title=f"Tank deliveries, day {day}",
            slug=f"tank-deliveries-{day}",
            body="Germany agreed to send Leopard 2 tanks.",
            content_hash=hashlib.sha256(f"pager {day}".encode()).hexdigest(),
            published_at=datetime(2023, 3, day, tzinfo=UTC),
            date_source="metadata",
        )
        for day in range(1, 22)
    )
    first = ok(client, outlet="pager-wire", sort="newest")
    second = ok(client, outlet="pager-wire", sort="newest", page=2)
    assert first["count"] == 21 and first["num_pages"] == 2
    assert len(first["results"]) == 20 and len(second["results"]) == 1
    assert second["page"] == 2 and second["results"][0]["title"] == "Tank deliveries, day 1"
    assert bad(client, outlet="pager-wire", page=3)["fields"] == {
        "page": ["There is no page 3: the last page is 2."]
    }


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"outlet": "nope"}, "outlet", "There is no outlet “nope”."),
        ({"outlet": "bad slug!"}, "outlet", "There is no outlet “bad slug!”."),
        ({"outlet": "a\x00b"}, "outlet", "There is no outlet “a?b”."),
        ({"topic": "nope"}, "topic", "There is no topic “nope”."),
        ({"entity": "nope"}, "entity", "There is no entity “nope”."),
        ({"from": "2023-13-01"}, "from", ISO_ONLY),
        ({"to": "yesterday"}, "to", ISO_ONLY),
        ({"from": "01/02/2022"}, "from", ISO_ONLY),
        (
            {"from": "2024-01-02", "to": "2024-01-01"},
            "to",
            "“to” is before “from”: give the earlier date first.",
        ),
        ({"kind": "podcast"}, "kind", "Kind is “article” or “live”."),
        ({"sort": "random"}, "sort", "Sort by “relevance”, “newest” or “oldest”."),
        ({"page": "0"}, "page", "Give the page as a whole number, 1 or more."),
        ({"page": "two"}, "page", "Give the page as a whole number, 1 or more."),
        ({"page": "1.5"}, "page", "Give the page as a whole number, 1 or more."),
        ({"page": "501"}, "page", "Pages stop at 500: narrow the search to see further."),
        ({"page": "9"}, "page", "There is no page 9: the last page is 1."),
        ({"q": "x" * 4001}, "q", "The search is too long: use at most 4000 characters."),
        ({"q": "tanks\x00"}, "q", "Null characters are not allowed."),
        (
            {"q": "-tanks"},
            "q",
            "“-tanks” only says what to leave out: add a word to look for, as in “Ukraine -tanks”.",
        ),
        (
            {"q": "Kyiv or -tanks"},
            "q",
            "“-tanks” only says what to leave out: add a word to look for, as in “Ukraine -tanks”.",
        ),
    ],
)
def test_invalid_parameters_are_a_clear_400(client, params, field, message):
    error = bad(client, **params)
    assert error["fields"] == {field: [message]}
    assert error["message"] == f"Invalid parameters. {field}: {message}"
    page = client.get("/search/", params)
    assert page.status_code == 400
    assert f"<strong>{field}</strong>: {message}" in page.content.decode()


def test_every_invalid_parameter_is_reported_at_once(client):
    error = bad(client, outlet="nope", kind="podcast", page="0")
    assert set(error["fields"]) == {"outlet", "kind", "page"}


def test_unknown_parameters_are_ignored(client):
    assert ok(client, q="Estonia", utm_source="newsletter")["count"] == 3


def test_only_get_is_allowed(client):
    assert client.post("/api/search/", {"q": "Kyiv"}).status_code == 405


@pytest.mark.postgres_only
def test_past_the_sample_size_the_count_is_a_floor_and_says_so(client, monkeypatch):
    exact = client.get("/api/search/", {"q": "ukraine", "sort": "newest"}).json()
    assert exact["count"] > 3
    assert exact["count_capped"] is False and exact["facets_sampled"] is False

    monkeypatch.setattr(postgres, "SAMPLE_SIZE", 3)
    monkeypatch.setattr(postgres, "CANDIDATE_LIMIT", 3)
    capped = client.get("/api/search/", {"q": "ukraine", "sort": "newest"}).json()

    assert capped["count"] == 3
    assert capped["count_capped"] is True and capped["facets_sampled"] is True
    newest = [r["id"] for r in exact["results"]][:3]
    assert [r["id"] for r in capped["results"]][:3] == newest
    page = client.get("/search/", {"q": "ukraine"}).content.decode()
    assert "3+ results" in page or "3+ result" in page
