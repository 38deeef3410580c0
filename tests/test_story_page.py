"""/stories/<id>/ and /api/stories/<id>/: every copy in publication order, and what
changed between versions, from the stored text (real BBC text and copies of it)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from articles.bench.story_pairs import Corpora, derive
from articles.ingest.loader import Loader, LoadOptions
from articles.models import Article
from tests.conftest import CORPORA

pytestmark = pytest.mark.django_db

ORIGINAL = "bbc:politics/081.txt"  # "Tory backing for ID cards"
OTHER_COVERAGE = "bbc:politics/049.txt"  # ID cards too, another article


def _load(tmp_path: Path, records: list[dict], name: str = "story") -> None:
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    Loader(LoadOptions()).load([path])


@pytest.fixture
def story(tmp_path):
    original = Corpora(CORPORA).text(ORIGINAL)
    copy = derive(original, "aggregator", 4)
    updated = (
        original.body
        + "\n\nMr Howard said the party would review its position <script>alert(1)</script>."
    )
    _load(
        tmp_path,
        [
            # Loaded out of order: the page orders by publication.
            {
                "title": copy.title,
                "body": copy.body,
                "outlet": "NewsNow Aggregated",
                "published": "2005-02-02",
            },
            {
                "title": original.title,
                "body": original.body,
                "outlet": "BBC News",
                "published": "2005-02-01",
            },
            {
                "title": original.title,
                "body": updated,
                "outlet": "The Courier",
                "published": "2005-02-03",
            },
        ],
    )
    first = Article.objects.get(outlet__name="BBC News", title=original.title)
    assert Article.objects.filter(story_id=first.story_id).count() == 3
    return first.story_id


def test_it_lists_every_copy_in_publication_order(client, story):
    page = client.get(f"/stories/{story}/").content.decode()
    order = [page.index(name) for name in ("BBC News", "NewsNow Aggregated", "The Courier")]
    assert order == sorted(order)
    assert "First run by BBC News" in page
    assert "3 copies from 3 outlets" in page


def test_it_shows_what_changed_between_versions(client, story):
    page = client.get(f"/stories/{story}/").content.decode()
    copy = Article.objects.get(outlet__name="NewsNow Aggregated")
    assert f"<del>Tory backing for ID cards</del> → <ins>{copy.title}</ins>" in page
    assert "<strong>Added:</strong> <ins>This post appeared first on" in page
    assert "<strong>Removed:</strong>" in page  # the aggregator trimmed paragraphs
    assert "Same text" not in page


def test_article_text_is_escaped(client, story):
    page = client.get(f"/stories/{story}/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_story_without_public_copies_is_not_found(client, story):
    Article.objects.filter(story_id=story).update(is_public=False)
    assert client.get(f"/stories/{story}/").status_code == 404
    assert client.get(f"/api/stories/{story}/").status_code == 404


def test_the_api_gives_the_copies_and_their_changes(client, story):
    data = client.get(f"/api/stories/{story}/").json()
    outlets = [copy["outlet"]["name"] for copy in data["copies"]]
    assert outlets == ["BBC News", "NewsNow Aggregated", "The Courier"]
    first, copy, updated = data["copies"]
    assert first["previous"] is None
    assert copy["previous"] == first["id"] and copy["headline_changed"]
    assert copy["paragraphs_added"] >= 1 and copy["paragraphs_removed"] >= 1
    assert updated["headline_changed"]  # back to the original headline
    assert data["url"].endswith(f"/stories/{story}/")


def test_the_article_page_links_its_story_and_relates_other_coverage(client, story, tmp_path):
    coverage = Corpora(CORPORA).text(OTHER_COVERAGE)  # the same subject, not a copy
    record = {"title": coverage.title, "body": coverage.body, "outlet": "BBC News"}
    _load(tmp_path, [{**record, "published": "2005-02-02"}], name="other")
    article = Article.objects.get(outlet__name="BBC News", story_id=story)
    other = Article.objects.get(title=coverage.title)
    assert other.story_id != story
    page = client.get(article.get_absolute_url()).content.decode()
    assert "3 copies from 3 outlets" in page
    assert f'href="/stories/{story}/"' in page
    related = re.search(r"<h2>Related coverage</h2>(.*?)</section>", page, re.DOTALL).group(1)
    assert other.get_absolute_url() in related
    for copy in Article.objects.filter(story_id=story).exclude(pk=article.pk):
        assert copy.get_absolute_url() not in related
