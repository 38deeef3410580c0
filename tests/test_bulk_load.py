"""load_articles --bulk: the same archive as the normal path, faster."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from articles.bench.snapshot import archive_snapshot
from articles.ingest.bulk import BulkLoader
from articles.ingest.loader import Loader, LoadOptions
from articles.models import (
    Article,
    ArticleTopic,
    Entity,
    Mention,
    Outlet,
    Section,
    SectionTopic,
    SourceDocument,
)

pytestmark = pytest.mark.django_db


def _empty_archive():
    for model in (Mention, SectionTopic, ArticleTopic, Section, Article, Entity, Outlet):
        model.objects.all().delete()
    SourceDocument.objects.all().delete()


@pytest.fixture
def corpus(tmp_path):
    out = tmp_path / "corpus"
    # Seed 3 gives 5 live blogs among 40 articles.
    call_command("build_corpus", "--articles", "40", "--seed", "3", "--out", str(out), verbosity=0)
    return out


def test_it_gives_the_archive_the_normal_path_gives(corpus, tmp_path):
    _empty_archive()
    normal = Loader(LoadOptions()).load([corpus])
    expected = archive_snapshot()
    _empty_archive()
    bulk = BulkLoader(LoadOptions(), ner_cache=tmp_path / "ner.sqlite").load([corpus])
    got = archive_snapshot()
    assert (bulk.created, bulk.sections, bulk.mentions, bulk.topics) == (
        normal.created,
        normal.sections,
        normal.mentions,
        normal.topics,
    )
    assert Article.objects.filter(kind="live").exists()
    assert got["mentions"] and got["topics"] and got["entities"]
    for part in expected:
        assert got[part] == expected[part], part


def test_a_cached_reload_gives_the_same_archive(corpus, tmp_path):
    _empty_archive()
    BulkLoader(LoadOptions(), ner_cache=tmp_path / "ner.sqlite").load([corpus])
    first = archive_snapshot()
    _empty_archive()
    loader = BulkLoader(LoadOptions(), ner_cache=tmp_path / "ner.sqlite")
    loader.load([corpus])
    assert loader.timings["ner_cache_misses"] == 0
    assert archive_snapshot() == first


def test_reloading_changes_nothing(corpus, tmp_path):
    call_command("load_articles", str(corpus), "--bulk", verbosity=0)
    before = archive_snapshot()
    report = BulkLoader(LoadOptions()).load([corpus])
    assert report.created == 0 and report.unchanged == 40
    assert archive_snapshot() == before


def test_a_changed_record_updates_its_article_as_the_normal_path_does(tmp_path):
    first = tmp_path / "a" / "story.jsonl"
    first.parent.mkdir()
    line = (
        '{"title": "Shelling in Kharkiv", "outlet": "Reuters", "date": "2023-02-01", '
        '"url": "https://www.reuters.com/x/1", "body": "Shelling hit Kharkiv on Monday, '
        'officials said. Volodymyr Zelensky visited the city."}\n'
    )
    first.write_text(line)
    BulkLoader(LoadOptions()).load([first])
    article = Article.objects.get(source_url="https://www.reuters.com/x/1")
    Article.objects.filter(pk=article.pk).update(is_public=False)  # a curator's choice
    first.write_text(line.replace("on Monday", "on Tuesday"))
    report = BulkLoader(LoadOptions()).load([first])
    assert report.updated == 1 and report.created == 0
    article.refresh_from_db()
    assert "Tuesday" in article.body and article.is_public is False
