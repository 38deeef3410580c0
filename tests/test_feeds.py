"""Atom and JSON Feed for any search and for every entity, outlet and topic: valid,
newest first, bounded, each entry saying why it matched, hostile text carried as
text, hidden articles left out, and the feeds announced in the pages' heads."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import feedparser
import pytest

from articles import feeds
from articles.models import Article, ArticleTopic, Outlet
from tests.test_api import HOSTILE_TITLE, hidden, hostile, make_article

pytestmark = pytest.mark.django_db
__all__ = ["hidden", "hostile"]  # fixtures

ATOM = "{http://www.w3.org/2005/Atom}"
AJ_LIVE = "US urges citizens in Ukraine ‘to consider departing now’: Live"


def atom(client, url, **params) -> ElementTree.Element:
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return ElementTree.fromstring(response.content)  # noqa: S314 - our own feed


def json_feed(client, url, **params) -> dict:
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/feed+json; charset=utf-8"
    return response.json()


def entries(root) -> list[dict]:
    return [
        {
            "title": entry.findtext(f"{ATOM}title"),
            "id": entry.findtext(f"{ATOM}id"),
            "link": entry.find(f"{ATOM}link").get("href"),
            "published": entry.findtext(f"{ATOM}published"),
            "updated": entry.findtext(f"{ATOM}updated"),
            "summary": entry.findtext(f"{ATOM}summary"),
            "categories": [c.get("term") for c in entry.findall(f"{ATOM}category")],
        }
        for entry in root.findall(f"{ATOM}entry")
    ]


def test_a_search_feed_is_valid_atom_with_what_atom_requires(client):
    root = atom(client, "/search/feed.atom", q="Estonia")
    assert root.findtext(f"{ATOM}title") == "War-coverage archive: “Estonia”"
    assert root.findtext(f"{ATOM}id") == "http://testserver/search/?q=Estonia"
    assert root.findtext(f"{ATOM}updated")
    assert root.find(f"{ATOM}author/{ATOM}name").text == "War-coverage archive"
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links == {
        "alternate": "http://testserver/search/?q=Estonia",
        "self": "http://testserver/search/feed.atom?q=Estonia",
    }
    found = entries(root)
    assert len(found) == 3
    for entry in found:
        assert entry["id"] == entry["link"] and entry["link"].startswith(
            "http://testserver/articles/"
        )
        assert entry["updated"] and entry["published"]


def test_entries_are_newest_first_and_say_why_they_matched(client):
    found = entries(atom(client, "/search/feed.atom", q="Estonia", sort="oldest"))
    published = [e["published"] for e in found]
    assert published == sorted(published, reverse=True)
    live = next(e for e in found if e["title"] == AJ_LIVE)
    assert "<mark>Estonia</mark>" in live["summary"]
    assert "matching entr" in live["summary"]
    assert (
        'href="http://testserver/articles/' in live["summary"]
        and "#us-fighter-jets-arrive-in-estonia-for-training" in live["summary"]
    )
    article = Article.objects.get(title=AJ_LIVE)
    assert live["categories"] == list(
        ArticleTopic.objects.filter(article=article, excluded=False)
        .order_by("topic__name")
        .values_list("topic__name", flat=True)
    )


def test_a_feed_holds_at_most_fifty_entries(client):
    wire = Outlet.objects.create(name="Feed Wire", slug="feed-wire")
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for n in range(feeds.FEED_SIZE + 5):
        make_article(
            f"Wire report {n}", "Tanks news.", outlet=wire, published_at=start + timedelta(hours=n)
        )
    found = entries(atom(client, "/outlets/feed-wire/feed.atom"))
    assert len(found) == feeds.FEED_SIZE
    assert found[0]["title"] == f"Wire report {feeds.FEED_SIZE + 4}"
    assert found[-1]["title"] == "Wire report 5"
    assert len(json_feed(client, "/outlets/feed-wire/feed.json")["items"]) == feeds.FEED_SIZE


def test_the_json_feed_is_json_feed_1_1(client):
    data = json_feed(client, "/search/feed.json", q="Estonia")
    assert data["version"] == "https://jsonfeed.org/version/1.1"
    assert data["title"] == "War-coverage archive: “Estonia”"
    assert data["home_page_url"] == "http://testserver/search/?q=Estonia"
    assert data["feed_url"] == "http://testserver/search/feed.json?q=Estonia"
    assert len(data["items"]) == 3
    live = next(i for i in data["items"] if i["title"] == AJ_LIVE)
    assert live["id"] == live["url"] and live["url"].startswith("http://testserver/articles/")
    assert live["date_published"] == "2022-01-26T00:00:00+00:00"
    assert "<mark>Estonia</mark>" in live["content_html"]


def test_search_filters_name_the_feed_and_shape_its_entries(client):
    data = json_feed(client, "/search/feed.json", q="tanks", outlet="cnn", kind="article")
    assert data["title"] == "War-coverage archive: “tanks” (Outlet: CNN, only articles)"
    cnn = {a.get_absolute_url() for a in Article.objects.filter(outlet__slug="cnn")}
    assert {i["url"].removeprefix("http://testserver") for i in data["items"]} <= cnn
    everything = json_feed(client, "/search/feed.json")
    assert everything["title"] == "War-coverage archive: newest articles"
    assert len(everything["items"]) == 8


def test_entity_outlet_and_topic_feeds(client):
    entity = entries(atom(client, "/entities/boris-pistorius/feed.atom"))
    assert {e["title"] for e in entity} == set(
        Article.objects.filter(mentions__entity__slug="boris-pistorius").values_list(
            "title", flat=True
        )
    )
    for entry in entity:
        assert "<strong>Mentions Boris Pistorius</strong>" in entry["summary"]
        assert "<mark>" in entry["summary"], "the name is highlighted where the snippet has it"
    outlet = json_feed(client, "/outlets/cnn/feed.json")
    assert len(outlet["items"]) == Article.objects.filter(outlet__slug="cnn").count()
    assert all("Published by CNN" in i["content_html"] for i in outlet["items"])
    topic = json_feed(client, "/topics/military-aid-and-weapons/feed.json")
    tagged = ArticleTopic.objects.filter(topic__slug="military-aid-and-weapons", excluded=False)
    assert len(topic["items"]) == tagged.count() > 0
    assert all("Tagged Military aid and weapons" in i["content_html"] for i in topic["items"])
    atom(client, "/topics/military-aid-and-weapons/feed.atom")
    atom(client, "/outlets/cnn/feed.atom")


def test_unknown_slugs_and_bad_parameters_are_errors(client):
    for url in ("/entities/nope/feed.atom", "/outlets/nope/feed.json", "/topics/nope/feed.atom"):
        assert client.get(url).status_code == 404, url
    response = client.get("/search/feed.atom", {"outlet": "nope"})
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"outlet": ["There is no outlet “nope”."]}


def test_hostile_text_is_escaped_text_in_atom(client, hostile):
    response = client.get("/search/feed.atom", {"q": "zanzibarquux"})
    assert b"<script" not in response.content, "never markup in the XML"
    [entry] = entries(atom(client, "/search/feed.atom", q="zanzibarquux"))
    assert entry["title"] == HOSTILE_TITLE  # the XML parser gives back the text exactly
    # The summary is HTML for a feed reader: the article's markup in it is escaped text.
    summary = entry["summary"]
    assert "<script" not in summary and "<img" not in summary
    assert "&lt;img src=x onerror=alert(1)&gt;" in summary  # the entry heading, as text
    assert set(re.findall(r"</?([a-z]+)", summary)) <= {"p", "strong", "mark", "ul", "li", "a"}
    parsed = feedparser.parse(response.content).entries[0]
    assert "<script" not in parsed.summary and "<img" not in parsed.summary


def test_hostile_text_is_escaped_html_in_the_json_feed(client, hostile):
    [item] = json_feed(client, "/search/feed.json", q="zanzibarquux")["items"]
    assert item["title"] == HOSTILE_TITLE
    assert "<script" not in item["content_html"] and "<img" not in item["content_html"]
    assert item["external_url"].startswith("https://example.org/a?")
    assert item["authors"] == [{"name": hostile.byline}]


def test_control_characters_are_dropped_from_atom_not_an_error(client):
    make_article("Bell\x07 and \x0bvertical tab zanzibarquux", "zanzibarquux text")
    [entry] = entries(atom(client, "/search/feed.atom", q="zanzibarquux"))
    assert entry["title"] == "Bell and vertical tab zanzibarquux"


def test_hidden_articles_are_in_no_feed(client, hidden):
    for url, params in [
        ("/search/feed.json", {"q": "qwertyhidden"}),
        ("/search/feed.json", {}),
        ("/entities/boris-pistorius/feed.json", {}),
        ("/outlets/cnn/feed.json", {}),
        ("/topics/energy/feed.json", {}),
    ]:
        urls = {i["url"] for i in json_feed(client, url, **params)["items"]}
        assert f"http://testserver{hidden.get_absolute_url()}" not in urls, url
    assert client.get("/entities/hidden-person/feed.atom").status_code == 404


def test_pages_announce_their_feeds(client):
    def alternates(url, **params) -> list[tuple[str, str]]:
        page = client.get(url, params).content.decode()
        return re.findall(
            r'<link rel="alternate" type="([^"]+)" title="[^"]*" href="([^"]+)">', page
        )

    assert alternates("/") == [
        ("application/atom+xml", "/search/feed.atom"),
        ("application/feed+json", "/search/feed.json"),
    ]
    assert alternates("/search/", q="tanks", page="1") == [
        ("application/atom+xml", "/search/feed.atom?q=tanks&amp;sort=newest"),
        ("application/feed+json", "/search/feed.json?q=tanks&amp;sort=newest"),
    ]
    for url, prefix in [
        ("/entities/boris-pistorius/", "/entities/boris-pistorius/"),
        ("/outlets/cnn/", "/outlets/cnn/"),
        ("/topics/energy/", "/topics/energy/"),
    ]:
        assert alternates(url) == [
            ("application/atom+xml", f"{prefix}feed.atom"),
            ("application/feed+json", f"{prefix}feed.json"),
        ]
        assert f'href="{prefix}feed.atom" type="application/atom+xml">Atom</a>' in (
            client.get(url).content.decode()
        )
