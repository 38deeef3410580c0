"""Search shows each story once by default: the best-ranked copy, how many other
outlets ran it and when it first ran, a link to the story and a switch to every
copy; counts say articles and stories; facets and exports count every copy."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles import stories
from articles.bench.story_pairs import Corpora, derive
from articles.ingest.loader import Loader, LoadOptions
from articles.models import Article
from articles.search import TextQuery, parse_query, run_search
from articles.search.backends import get_backend
from tests.conftest import CORPORA

pytestmark = pytest.mark.django_db

ORIGINAL = "bbc:politics/081.txt"  # "Tory backing for ID cards"
QUERY = '"shadow cabinet" "ID cards"'


@pytest.fixture
def three_copies(tmp_path: Path) -> int:
    original = Corpora(CORPORA).text(ORIGINAL)
    records = [
        (original, "BBC News", "2005-02-01"),
        (derive(original, "credits", 3), "Global Desk", "2005-02-02"),
        (derive(original, "reorder", 8), "The Conflict Monitor", "2005-02-03"),
    ]
    path = tmp_path / "copies.jsonl"
    lines = [
        json.dumps({"title": t.title, "body": t.body, "outlet": o, "published": d}) + "\n"
        for t, o, d in records
    ]
    path.write_text("".join(lines), encoding="utf-8")
    Loader(LoadOptions()).load([path])
    story = Article.objects.get(outlet__name="BBC News", title=original.title).story_id
    assert Article.objects.filter(story_id=story).count() == 3
    return story


def test_the_api_shows_each_story_once_with_its_copies(client, three_copies):
    data = client.get("/api/search/", {"q": QUERY}).json()
    assert data["count"] == 3 and data["story_count"] == 1 and data["collapsed"]
    (hit,) = data["results"]
    assert hit["story"]["id"] == three_copies
    assert hit["story"]["copies"] == 3 and hit["story"]["outlets"] == 3
    assert hit["story"]["first_published_at"].startswith("2005-02-01")
    assert hit["story"]["url"].endswith(f"/stories/{three_copies}/")


def test_every_copy_on_request(client, three_copies):
    data = client.get("/api/search/", {"q": QUERY, "copies": "all"}).json()
    assert not data["collapsed"]
    assert len(data["results"]) == 3
    assert {hit["story"]["id"] for hit in data["results"]} == {three_copies}


def test_the_kept_copy_is_the_best_ranked_in_the_sort(client, three_copies):
    oldest = client.get("/api/search/", {"q": QUERY, "sort": "oldest"}).json()["results"]
    newest = client.get("/api/search/", {"q": QUERY, "sort": "newest"}).json()["results"]
    assert [hit["outlet"]["name"] for hit in oldest] == ["BBC News"]
    assert [hit["outlet"]["name"] for hit in newest] == ["The Conflict Monitor"]


def test_facets_keep_counting_articles(client, three_copies):
    facets = client.get("/api/search/", {"q": QUERY}).json()["facets"]
    assert {(f["name"], f["count"]) for f in facets["outlet"]} == {
        ("BBC News", 1),
        ("Global Desk", 1),
        ("The Conflict Monitor", 1),
    }


def test_the_page_says_both_counts_and_links_the_story(client, three_copies):
    page = client.get("/search/", {"q": QUERY}).content.decode()
    assert "3 results in 1 story" in page
    assert "Also run by 2 outlets" in page
    assert f'href="/stories/{three_copies}/"' in page
    assert "Show every copy" in page
    every = client.get("/search/", {"q": QUERY, "copies": "all"}).content.decode()
    assert every.count('class="hit"') == 3 and "Show each story once" in every


def test_exports_carry_the_story_id(client, three_copies):
    response = client.get("/search/export.csv", {"q": QUERY})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 3
    assert {row["story_id"] for row in rows} == {str(three_copies)}
    response = client.get("/search/export.jsonl", {"q": QUERY})
    lines = b"".join(response.streaming_content).decode().splitlines()[1:]
    assert {json.loads(line)["story_id"] for line in lines} == {three_copies}


def test_a_bad_copies_value_is_refused(client):
    response = client.get("/api/search/", {"q": "tanks", "copies": "some"})
    assert response.status_code == 400
    assert "copies" in response.json()["error"]["fields"]


def test_a_curators_split_and_merge_reach_the_story_count(client, three_copies):
    copy = Article.objects.get(story_id=three_copies, outlet__name="Global Desk")
    apart = stories.split_off([copy.pk])
    data = client.get("/api/search/", {"q": QUERY}).json()
    assert data["count"] == 3 and data["story_count"] == 2
    assert {hit["story"]["id"] for hit in data["results"]} == {three_copies, apart}

    stories.merge([three_copies, apart])
    data = client.get("/api/search/", {"q": QUERY}).json()
    assert data["count"] == 3 and data["story_count"] == 1
    assert [hit["story"]["copies"] for hit in data["results"]] == [3]


def test_a_copy_loaded_later_joins_the_story_in_the_count(client, tmp_path):
    original = Corpora(CORPORA).text(ORIGINAL)
    for name, text, outlet in [
        ("first.jsonl", original, "BBC News"),
        ("later.jsonl", derive(original, "credits", 3), "Global Desk"),
    ]:
        path = tmp_path / name
        record = {"title": text.title, "body": text.body, "outlet": outlet}
        path.write_text(json.dumps({**record, "published": "2005-02-01"}) + "\n")
        Loader(LoadOptions()).load([path])
        data = client.get("/api/search/", {"q": QUERY}).json()
    assert data["count"] == 2 and data["story_count"] == 1


def test_a_relaxed_search_is_not_searched_again_to_collapse_it(client, three_copies):
    params = {"q": "shadow cabinet identity cards xylophone"}  # no article has every word
    queries = {}
    for copies in ("story", "all"):
        with CaptureQueriesContext(connection) as searched:
            data = client.get("/api/search/", {**params, "copies": copies}).json()
        assert data["relaxed"] is not None
        queries[copies] = len(searched)
    assert data["count"] >= 3
    # Collapsing reads the stories of the matches (before and after relaxing), no more.
    assert queries["story"] <= queries["all"] + 2


def test_a_relaxed_search_longer_than_a_page_is_not_searched_again_to_collapse_it(
    three_copies, monkeypatch
):
    backend = get_backend()
    asked = []
    search_for_real = backend.search
    monkeypatch.setattr(
        backend, "search", lambda request: asked.append(request) or search_for_real(request)
    )
    text_query = TextQuery(parse_query("shadow cabinet identity cards xylophone"))
    public = Article.objects.filter(is_public=True)
    searches = {}
    for collapse in (False, True):
        asked.clear()
        results = run_search(public, text_query=text_query, per_page=1, collapse=collapse)
        assert results.relaxation is not None and results.count >= 3  # more than a page
        searches[collapse] = len(asked)
    assert searches[True] == searches[False]
