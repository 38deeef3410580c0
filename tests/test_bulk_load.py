"""load_articles --bulk: the same archive as the normal path, faster."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from articles.bench.snapshot import archive_snapshot
from articles.ingest import bulk
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
    StoryBand,
    Topic,
)
from articles.search import outbox, tantivy_index
from articles.stories import fingerprint
from tests.conftest import BASE_DIR
from tests.test_models import entries_by_their_sections

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
    entries = set(Article.objects.filter(has_entries=True).values_list("pk", flat=True))
    assert entries == entries_by_their_sections() != set()


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


def _load_topics() -> None:
    """For a transactional test: one before it may have emptied the topics."""
    if not Topic.objects.exists():
        call_command("loaddata", str(BASE_DIR / "fixtures" / "topics.json"), verbosity=0)


def _indexes_and_foreign_keys() -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
            "UNION SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = ANY(%s::regclass[])",
            [list(bulk.DEFERRED_TABLES)] * 2,
        )
        return set(cursor.fetchall())


def test_a_large_import_drops_and_rebuilds_indexes_and_foreign_keys(corpus, tmp_path, monkeypatch):
    _empty_archive()
    BulkLoader(LoadOptions(), ner_cache=tmp_path / "ner.sqlite").load([corpus])
    expected = archive_snapshot()
    schema = _indexes_and_foreign_keys()
    _empty_archive()
    monkeypatch.setattr(bulk, "DEFER_FROM_BYTES", 0)  # the corpus counts as large
    during = []
    write = BulkLoader._write

    def look_and_write(self, pending):
        during.append(_indexes_and_foreign_keys())
        write(self, pending)

    monkeypatch.setattr(BulkLoader, "_write", look_and_write)
    BulkLoader(LoadOptions(), ner_cache=tmp_path / "ner.sqlite").load([corpus])
    dropped = {name for name, _ in schema - during[0]}
    assert "articles_article_search_gin" in dropped
    assert "articles_mention_entity_id_97027ad7_fk_articles_entity_id" in dropped
    assert any(name.startswith("articles_storyband_band") for name in dropped)
    # What the loader looks up by while loading stays, and so does every unique index
    # but the band table's primary key, which nothing meets in while loading.
    assert {"articles_article_hash_uniq", "articles_article_origin_hash"}.isdisjoint(dropped)
    unique = {name for name, sql in schema - during[0] if sql.startswith("CREATE UNIQUE")}
    assert unique == {"articles_storyband_pkey"}
    assert _indexes_and_foreign_keys() == schema
    assert archive_snapshot() == expected


def test_a_failed_or_killed_large_import_gets_its_indexes_back(corpus, tmp_path, monkeypatch):
    schema = _indexes_and_foreign_keys()
    _empty_archive()
    monkeypatch.setattr(bulk, "DEFER_FROM_BYTES", 0)

    def fail(self, pending):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(BulkLoader, "_write", fail)
    with pytest.raises(RuntimeError):
        BulkLoader(LoadOptions()).load([corpus])
    assert _indexes_and_foreign_keys() == schema  # rebuilt on the way out

    bulk.drop_indexes()  # a load killed with SIGKILL gets no way out
    assert _indexes_and_foreign_keys() != schema
    monkeypatch.undo()
    BulkLoader(LoadOptions(), ner_cache=tmp_path / "ner.sqlite").load([corpus])
    assert _indexes_and_foreign_keys() == schema  # the next bulk load puts them back


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_batches_are_written_while_the_next_is_prepared(
    corpus, tmp_path, monkeypatch
):
    """The writer thread (its own connection, so only outside a transaction), with
    records that repeat, or update, one in the batch still being written; and a large
    import's indexes dropped and rebuilt for real."""
    _load_topics()
    lines = (corpus / "corpus-00001.jsonl").read_text().splitlines()
    changed = json.loads(lines[1])
    changed["body"] += "\n\nA later paragraph the first version did not have."
    # Batches of 5: the second repeats three records of the first, then changes one.
    inputs = tmp_path / "inputs" / "corpus.jsonl"
    inputs.parent.mkdir()
    inputs.write_text("\n".join([*lines[:5], *lines[:3], json.dumps(changed), *lines[5:]]) + "\n")
    _empty_archive()
    normal = Loader(LoadOptions()).load([inputs])
    expected = archive_snapshot()
    schema = _indexes_and_foreign_keys()

    _empty_archive()
    monkeypatch.setattr(bulk, "DEFER_FROM_BYTES", 0)
    monkeypatch.setattr(bulk, "BATCH_SIZE", 5)
    monkeypatch.setattr(bulk, "CHUNK_SIZE", 2)
    monkeypatch.setattr(bulk, "AHEAD", 6)
    write_batch = BulkLoader._write_batch

    def slow_write_batch(self, *args):
        time.sleep(0.5)  # still writing when the next batch is looked at
        write_batch(self, *args)

    monkeypatch.setattr(BulkLoader, "_write_batch", slow_write_batch)
    loader = BulkLoader(LoadOptions(), ner_cache=tmp_path / "ner.sqlite")
    report = loader.load([inputs])
    assert not loader._writer._inline
    assert (report.created, report.updated, report.unchanged) == (40, 1, 3)
    assert (report.created, report.updated, report.unchanged, report.topics) == (
        normal.created,
        normal.updated,
        normal.unchanged,
        normal.topics,
    )
    assert archive_snapshot() == expected
    assert _indexes_and_foreign_keys() == schema
    # The updated article's old keys went (by a scan, the primary key being dropped):
    # each article holds the keys of its text, once.
    assert _stored_band_keys() == _band_keys_of_the_texts()


def _stored_band_keys() -> list[tuple[int, int]]:
    return sorted(StoryBand.objects.values_list("article_id", "band"))


def _band_keys_of_the_texts() -> list[tuple[int, int]]:
    return sorted(
        (pk, band)
        for pk, title, body in Article.objects.values_list("pk", "title", "body")
        for band in fingerprint(body, title).bands
    )


@pytest.mark.django_db(transaction=True)
def test_a_files_outcome_is_noted_once_its_last_batch_is_written(corpus, tmp_path, monkeypatch):
    """The writer commits a file's last batch while the next file is parsed: a file is
    noted as loaded only once its batch is in, and one whose batch failed is not."""
    _load_topics()
    lines = (corpus / "corpus-00001.jsonl").read_text().splitlines()
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "a.jsonl").write_text("\n".join(lines[:5]) + "\n")
    (inputs / "b.jsonl").write_text("\n".join([*lines[5:10], "{not json"]) + "\n")
    (inputs / "c.jsonl").write_text("\n".join(lines[10:15]) + "\n")
    _empty_archive()
    write_batch = BulkLoader._write_batch
    noted_while_writing = []

    def slow_and_failing_on_the_third(self, *args):
        time.sleep(0.5)  # the next file is parsed meanwhile
        noted_while_writing.append(_statuses())
        if len(noted_while_writing) == 3:
            raise RuntimeError("the disk is full")
        write_batch(self, *args)

    monkeypatch.setattr(BulkLoader, "_write_batch", slow_and_failing_on_the_third)
    loader = BulkLoader(LoadOptions(), ner_cache=tmp_path / "ner.sqlite")
    with pytest.raises(RuntimeError, match="the disk is full"):
        loader.load([inputs])
    assert not loader._writer._inline
    for file, noted in zip("abc", noted_while_writing, strict=True):
        assert noted[f"{file}.jsonl"][0] == SourceDocument.Status.FAILED  # not noted yet
    status = _statuses()
    assert status["a.jsonl"] == (SourceDocument.Status.LOADED, "")
    assert status["b.jsonl"][0] == SourceDocument.Status.PARTIAL
    assert "b.jsonl" in status["b.jsonl"][1]
    assert status["c.jsonl"][0] == SourceDocument.Status.FAILED  # as stored, interrupted
    assert Article.objects.count() == 10


def _statuses() -> dict[str, tuple[str, str]]:
    return {Path(s.origin).name: (s.status, s.error) for s in SourceDocument.objects.all()}


@pytest.mark.django_db(transaction=True)
def test_a_bulk_load_of_several_files_leaves_the_search_index_in_agreement(
    corpus, tmp_path, settings, monkeypatch
):
    """With the tantivy backend, the writer a batch behind: the load reports success
    only once the index holds every article it wrote, the last file's too."""
    _load_topics()
    settings.SEARCH_BACKEND = "tantivy"
    settings.SEARCH_INDEX_DIR = tmp_path / "search-index"
    lines = (corpus / "corpus-00001.jsonl").read_text().splitlines()
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for number, start in enumerate(range(0, 30, 10)):
        (inputs / f"{number}.jsonl").write_text("\n".join(lines[start : start + 10]) + "\n")
    _empty_archive()
    outbox.rebuild()
    write_batch = BulkLoader._write_batch

    def slow_write_batch(self, *args):
        time.sleep(0.5)  # the last file's batch is still being written when its file ends
        write_batch(self, *args)

    monkeypatch.setattr(BulkLoader, "_write_batch", slow_write_batch)
    loader = BulkLoader(LoadOptions(), ner_cache=tmp_path / "ner.sqlite")
    report = loader.load([inputs])
    assert report.created == 30 and not loader._writer._inline
    assert outbox.pending_count() == 0
    assert outbox.disagreement() is None
    assert tantivy_index.document_count() == Article.objects.public().count() > 0
