"""A search result shows a live blog's best few matching entries; the rest are one
link away: the article, given the search, lists every entry matching it."""

from __future__ import annotations

import html
import re

import pytest

from articles.models import Article
from tests.test_api import make_article
from tests.test_exports import csv_rows

pytestmark = pytest.mark.django_db


def test_a_result_with_more_matching_entries_than_it_shows_links_to_all_of_them(client):
    page = client.get("/search/?q=Biden").content.decode()
    blog = Article.objects.get(kind="live", outlet__slug="new-york-times")
    hit = page[page.index(blog.get_absolute_url()) :]
    hit = hit[: hit.index('<li class="hit">') if '<li class="hit">' in hit else None]
    assert "4 matching entries, the best 3 shown" in hit
    assert hit.count('class="section-hit"') == 3
    link = f'href="{blog.get_absolute_url()}?q=Biden#matching-entries"'
    assert f"{link}>All 4 matching entries</a>" in hit


def test_the_article_given_a_search_lists_every_entry_matching_it(client):
    blog = Article.objects.get(kind="live", outlet__slug="new-york-times")
    page = client.get(f"{blog.get_absolute_url()}?q=Biden").content.decode()
    listing = re.search(r'<nav class="toc matches" id="matching-entries".*?</nav>', page, re.S)
    assert listing is not None
    listing = listing.group(0)
    assert "4 entries matching “Biden”" in html.unescape(listing)
    anchors = re.findall(r'href="#([^"]+)"', listing)
    assert len(anchors) == 4
    expected = blog.sections.filter(body__icontains="Biden") | blog.sections.filter(
        heading__icontains="Biden"
    )
    assert set(anchors) == set(expected.values_list("anchor", flat=True))
    assert all(f'id="{anchor}"' in page for anchor in anchors)


def test_the_article_without_a_search_or_with_a_bad_one_lists_nothing(client):
    blog = Article.objects.get(kind="live", outlet__slug="new-york-times")
    for query in ("", "?q=", '?q="unclosed', "?q=" + "x" * 400):
        response = client.get(blog.get_absolute_url() + query)
        assert response.status_code == 200
        assert 'id="matching-entries"' not in response.content.decode()


def _plain(article: Article) -> bool:
    """One section without a heading: an article with no entries of its own."""
    sections = list(article.sections.values_list("heading", flat=True))
    return sections == [""]


def test_a_plain_article_lists_no_entry_and_a_live_blog_its_matching_ones(client):
    """The API, the feeds, the exports and the page list matching entries for a live
    blog, and none for an article of one unheaded section, whose snippet is its own
    text."""
    results = client.get("/api/search/", {"q": "Biden"}).json()["results"]
    by_id = {
        article.pk: article for article in Article.objects.filter(pk__in=[r["id"] for r in results])
    }
    plain = [r for r in results if _plain(by_id[r["id"]])]
    live = [r for r in results if r["kind"] == "live"]
    assert plain and live
    assert all(r["sections"] == [] and "<mark>" in r["snippet"] for r in plain)
    assert all(r["sections"] for r in live)

    feed = client.get("/search/feed.json", {"q": "Biden"}).json()["items"]
    why = {item["url"]: item["content_html"] for item in feed}
    for result in plain:
        assert "matching entr" not in why[result["url"]]
    for result in live:
        assert "matching entr" in why[result["url"]]

    page = client.get("/search/", {"q": "Biden"}).content.decode()
    hits = page.split('<li class="hit">')[1:]
    for result in plain:
        hit = next(h for h in hits if by_id[result["id"]].get_absolute_url() in h)
        assert 'class="section-hits"' not in hit
    for result in live:
        hit = next(h for h in hits if by_id[result["id"]].get_absolute_url() in h)
        assert 'class="section-hits"' in hit

    exported = {row["id"]: row for row in csv_rows(client, q="Biden")}
    for result in plain:
        assert exported[str(result["id"])]["matching_sections"] == ""
    for result in live:
        assert exported[str(result["id"])]["matching_sections"]


def test_an_unheaded_entry_is_named_by_its_place_in_the_live_blog(client):
    blog = make_article(
        "Riverside live",
        "Morning briefing. Qwlark herons sighted over the river.",
        kind="live",
        sections=[
            ("Morning briefing", "Calm so far."),
            ("", "Qwlark herons sighted over the river."),
        ],
    )
    page = client.get("/search/", {"q": "qwlark"}).content.decode()
    hit = page[page.index(blog.get_absolute_url()) :]
    assert re.search(r'href="[^"]*#part-2">Entry 2</a>', hit)
    assert ">Entry 1</a>" not in hit
    feed = client.get("/search/feed.json", {"q": "qwlark"}).json()["items"]
    assert ">Entry 2</a>" in feed[0]["content_html"]
    article_page = client.get(f"{blog.get_absolute_url()}?q=qwlark").content.decode()
    assert 'href="#part-2">Entry 2</a>' in article_page
