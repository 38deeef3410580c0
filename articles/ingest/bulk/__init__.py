"""The bulk load path (`load_articles --bulk`): the same articles, sections, entities,
mentions and topics as the normal path, written in batches with COPY.

What differs from `loader.Loader`, and why the result does not:

- Everything that depends on one record alone runs in worker processes
  (`workers`), a few thousand records ahead of the batch being written, and
  comes back in input order: parsing, the content hash, slugs and anchors, and
  the article's entity mentions.
- Named-entity recognition runs once per distinct text, cached (`ner`); the
  article-level rules run per article on the cached spans, exactly as
  `enrich.extract_mentions` runs them.
- Entities are resolved in article order, in the main process, against an
  in-memory copy of the entity table with the rules of `save.entity_for`
  (`entities`); new ones are written with the batch.
- Rows are built with the normal path's functions (`rows`); articles, sections,
  mentions and new entities are written with COPY, one transaction per batch,
  which also tags topics and places wire copies in their stories (`writer`).
  Outside a transaction a writer thread with its own connection writes each
  batch while the main thread prepares the next.
- A record that would *update* an article already in the archive (same origin
  and title, or same source URL, with other text) goes through the normal
  `save.save_article`, so curators' fields are kept exactly as there.
- On a large import into a small archive the secondary indexes and foreign keys
  are dropped first and rebuilt once at the end (`indexes`); the story band keys
  are meanwhile looked up in memory (`stories.BandIndex`).

This module orchestrates: files and chunks to the workers, batches to the writer.
"""

from __future__ import annotations

import functools
import multiprocessing
import threading
import time
from collections import Counter, deque
from contextlib import contextmanager
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from articles.ingest import checks, enrich, formats
from articles.ingest.bulk.entities import EntityChanges, EntityIndex
from articles.ingest.bulk.indexes import DEFERRED_TABLES, drop_indexes, ensure_indexes
from articles.ingest.bulk.ner import NerCache
from articles.ingest.bulk.rows import Pending, batch_rows
from articles.ingest.bulk.workers import (
    ChunkResult,
    Prepared,
    WorkerSetup,
    init_worker,
    prepare,
    workers,
)
from articles.ingest.bulk.writer import Writer, next_ids, write_batch
from articles.ingest.loader import FileOutcome, Loader
from articles.ingest.records import ArticleRecord, Extracted, Hints, IngestError
from articles.ingest.save import (
    CREATED,
    REFRESHED_FIELDS,
    UNCHANGED,
    metadata_differs,
    outlet_for,
    refresh_mentions,
    refresh_metadata,
    save_article,
)
from articles.models import Article
from articles.stories import BandIndex

__all__ = ["DEFERRED_TABLES", "BulkLoader", "drop_indexes", "ensure_indexes"]

BATCH_SIZE = 2000  # records per transaction
CHUNK_SIZE = 100  # records per worker task
AHEAD = 2 * BATCH_SIZE  # records parsed ahead of the batch being written
DEFER_BELOW_ROWS = 10_000  # archives smaller than this get their indexes rebuilt
DEFER_FROM_BYTES = 64 * 1024 * 1024  # ... when at least this much input is loaded


class BulkLoader(Loader):
    """`Loader` with parallel per-record work, cached NER and COPY writes."""

    runs_alone = True  # it keeps the entity table in memory and may drop indexes

    def __init__(self, options, progress=None, ner_cache: Path | None = None, on_wait=None):
        super().__init__(options, progress, on_wait)
        self.cache = NerCache(ner_cache, self._aliases)
        self._cache_path = ner_cache
        self._entities: EntityIndex | None = None
        self._outlets: dict[tuple[str, str], int | None] = {}
        self._pool = None
        self._new_spans: dict[str, bytes] = {}  # NER results not yet in the cache file
        self._writer: Writer | None = None
        self._gazetteers: threading.Thread | None = None
        self._bands: BandIndex | None = None  # while the band table's index is dropped
        # Files whose last batch the writer may still be writing, and how they went.
        self._outcomes: list[tuple[object, FileOutcome]] = []
        # What the batch being written (not committed yet) holds: later batches must
        # not load it again, and an update of it must wait for it.
        self._writing: tuple[set[str], set[tuple[str, str]], set[str]] = (set(), set(), set())
        self.timings: dict[str, float] = {}
        self._timings_lock = threading.Lock()

    @contextmanager
    def _timed(self, stage: str):
        started = time.monotonic()
        try:
            yield
        finally:
            self._add(f"{stage}_s", time.monotonic() - started)

    def _add(self, name: str, value: float) -> None:
        with self._timings_lock:  # the writer thread adds its own
            self.timings[name] = self.timings.get(name, 0.0) + value

    @property
    def entities(self) -> EntityIndex:
        if self._entities is None:
            self._entities = EntityIndex()
        return self._entities

    def _load(self, paths) -> object:
        self._entities = EntityIndex()
        enrich.load_nlp()  # loaded before the workers fork, so they share it
        try:
            files = formats.discover_inputs(list(paths))
        except IngestError:
            files = []  # Loader.load reports it
        deferred = self._should_defer(files)
        started = time.monotonic()
        with self._timed("index_rebuild"):
            ensure_indexes()  # what a killed bulk load left dropped
        setup = WorkerSetup(self._cache_path, self.cache.salt, self._aliases)
        context = multiprocessing.get_context("fork")
        with context.Pool(workers(), initializer=init_worker, initargs=(setup,)) as self._pool:
            # The place gazetteers take a second to read: read them while the workers
            # parse the first records, before the first batch's entities need them.
            self._gazetteers = threading.Thread(target=checks.known_place, args=("",))
            self._gazetteers.start()
            with connection.cursor() as cursor:
                # A batch is committed or not; a server crash may lose the last few
                # commits, which the next load then makes again.
                cursor.execute("SET synchronous_commit = off")
            try:
                if deferred:
                    with self._timed("index_drop"):
                        drop_indexes()
                        self._bands = BandIndex.from_archive()
                self._writer = Writer()
                report = super()._load(paths)
            finally:
                if self._writer is not None:
                    self._writer.close()
                self._bands = None
                if deferred:
                    with self._timed("index_rebuild"):
                        ensure_indexes()
                with connection.cursor() as cursor:
                    cursor.execute("RESET synchronous_commit")
        self.report.finished = time.monotonic()
        self.timings["total_s"] = time.monotonic() - started
        self.timings["ner_cache_hits"] = self.cache.hits
        self.timings["ner_cache_misses"] = self.cache.misses
        return report

    def _should_defer(self, files: list[Path]) -> bool:
        if self.options.dry_run:
            return False
        size = sum(path.stat().st_size for path in files)
        if size < DEFER_FROM_BYTES:
            return False
        return Article.objects.count() < DEFER_BELOW_ROWS

    def load_items(self, items, hints: Hints, source, outcome: FileOutcome) -> None:
        """Records in chunks to the workers, a few chunks ahead; their results are
        collected in input order and written in batches."""
        in_flight: deque = deque()  # AsyncResults, and extraction errors in their place
        batch: list[Prepared] = []
        ahead = 0

        def collect() -> None:
            nonlocal batch, ahead
            entry = in_flight.popleft()
            if isinstance(entry, str):
                outcome.errors.append(entry)
                return
            submitted, result = entry
            with self._timed("wait_workers"):
                chunk = result.get()
            ahead -= submitted
            self._absorb(chunk)
            for item in chunk.items:
                if isinstance(item, IngestError):
                    outcome.errors.append(str(item))
                else:
                    batch.extend(item)
            if len(batch) >= BATCH_SIZE:
                outcome.loaded += self._save(batch, source)
                batch = []

        def submit(jobs: list[Extracted]) -> None:
            nonlocal ahead
            if jobs:
                in_flight.append((len(jobs), self._pool.apply_async(prepare, ((jobs, hints),))))
                ahead += len(jobs)

        jobs: list[Extracted] = []
        for item in items:
            if isinstance(item, IngestError):
                submit(jobs)
                jobs = []
                in_flight.append(str(item))
            else:
                jobs.append(item)
                if len(jobs) >= CHUNK_SIZE:
                    submit(jobs)
                    jobs = []
            while ahead > AHEAD:
                collect()
        submit(jobs)
        while in_flight:
            collect()
        outcome.loaded += self._save(batch, source)

    def _absorb(self, chunk: ChunkResult) -> None:
        self.cache.hits += chunk.hits
        self.cache.misses += chunk.misses
        for stage, seconds in chunk.seconds.items():
            self._add(f"worker_{stage}_cpu_s", seconds)
        self._new_spans.update(chunk.new_spans)

    # -- writing --------------------------------------------------------------------

    def _save(self, prepared: list[Prepared], source) -> int:
        if self._new_spans:
            # Once a batch: each write to the cache file waits for the disk.
            with self._timed("ner_store"):
                self.cache.store(self._new_spans)
            self._new_spans = {}
        if not prepared:
            return 0
        source_id = source.pk if source is not None else None
        if self.options.dry_run:
            for item in prepared:
                self.report.count(CREATED)
                self.report.sections += len(item.record.sections)
                self.report.mentions += sum(len(found) for found in item.mentions)
            return len(prepared)
        with self._timed("lookup"):
            digests = [item.digest for item in prepared]
            saved = {
                row["content_hash"]: row
                for row in Article.objects.filter(content_hash__in=set(digests)).values(
                    "content_hash", "pk", "entity_rules", *REFRESHED_FIELDS
                )
            }
            existing = set(saved)
            # Loaded before under older entity rules: the mentions are found anew.
            stale = {
                digest: row["pk"]
                for digest, row in saved.items()
                if row["entity_rules"] != checks.RULES_VERSION
            }
            updates = self._previous_versions([item.record for item in prepared])
        pending: list[Pending] = []
        writing_digests, writing_origins, writing_urls = self._writing
        seen: set[str] = set()
        seen_origins: set[tuple[str, str]] = set()
        seen_urls: set[str] = set()
        for item in prepared:
            record, digest = item.record, item.digest
            row = saved.pop(digest, None)  # once: the same text twice in a batch
            if digest in stale:
                self._write(pending)
                pending = []
                self._refresh(stale.pop(digest), item)
                continue
            if row is not None and metadata_differs(row, record, self._outlet_id(record)):
                self.report.count(refresh_metadata(record))  # a better outlet or date found
                continue
            if digest in existing or digest in seen or digest in writing_digests:
                self.report.count(UNCHANGED)
                continue
            origin_key = (record.origin, record.title)
            if (
                record.origin and origin_key in updates["origins"] | seen_origins | writing_origins
            ) or (
                record.source_url
                and record.source_url in updates["urls"] | seen_urls | writing_urls
            ):
                # An update of an article already there: the normal path, after what came before.
                self._write(pending)
                pending = []
                self._save_one(item, source)
                existing.add(digest)
                continue
            seen.add(digest)
            if record.origin:
                seen_origins.add(origin_key)
            if record.source_url:
                seen_urls.add(record.source_url)
            pending.append(Pending(item, source_id))
        self._write(pending)
        return len(prepared)

    def _previous_versions(self, records: list[ArticleRecord]) -> dict[str, set]:
        origins = {r.origin for r in records if r.origin}
        urls = {r.source_url for r in records if r.source_url}
        found_origins = set(
            Article.objects.filter(origin__in=origins).values_list("origin", "title")
        )
        # The only article from an origin is the record's earlier version whatever
        # its title was (save._previous_version): a reload may have found a better one.
        per_origin = Counter(origin for origin, _ in found_origins)
        found_origins |= {
            (r.origin, r.title)
            for r in records
            if r.origin and per_origin[r.origin] == 1 and not r.one_of_several
        }
        found_urls = set(
            Article.objects.filter(source_url__in=urls).values_list("source_url", flat=True)
        )
        return {"origins": found_origins, "urls": found_urls}

    def _save_one(self, item: Prepared, source) -> None:
        self._wait_for_writer()  # it may be writing the article this record updates
        self.entities.save_changes()
        result = save_article(item.record, item.entity_mentions(), source)
        self.report.count(result.outcome)
        self.report.sections += result.sections
        self.report.mentions += result.mentions
        self.report.topics += result.topics
        self._entities = None  # the normal path may have made or changed entities

    def _refresh(self, article_id: int, item: Prepared) -> None:
        """`Loader._load_record` on an article loaded under older entity rules."""
        self._wait_for_writer()
        self.entities.save_changes()
        self.report.count(refresh_metadata(item.record))
        self.report.mentions += refresh_mentions(article_id, item.entity_mentions())
        self._entities = None  # the normal path may have made or changed entities

    def _write(self, pending: list[Pending]) -> None:
        """Rows for the batch here; written by the writer while the next is prepared."""
        if not pending:
            return
        if self._gazetteers is not None:
            with self._timed("wait_gazetteers"):
                self._gazetteers.join()
        article_rows, section_rows, mention_rows = self._rows(pending, timezone.now())
        entities = self.entities.take_changes()
        self._wait_for_writer()
        records = [p.item.record for p in pending]
        self._writing = (
            {p.item.digest for p in pending},
            {(r.origin, r.title) for r in records if r.origin},
            {r.source_url for r in records if r.source_url},
        )
        self.report.created += len(pending)
        self.report.sections += len(section_rows)
        self.report.mentions += len(mention_rows)
        rows = (article_rows, section_rows, mention_rows)
        # The article rows are in the order of `pending`.
        signed = {row[0]: p.item.story_bands for row, p in zip(article_rows, pending, strict=True)}
        job = functools.partial(self._write_batch, entities, *rows, signed, self._bands)
        try:
            self._writer.submit(job)
        except BaseException:  # written inline, and failed
            self._entities = None
            raise

    def note_outcome(self, source, outcome: FileOutcome) -> None:
        """Noted once the writer has committed the file's last batch: the next file's
        records are parsed meanwhile."""
        self._outcomes.append((source, outcome))

    def finish_writing(self) -> None:
        self._wait_for_writer()

    def _wait_for_writer(self) -> None:
        with self._timed("wait_writer"):
            try:
                self._writer.wait()
            except BaseException:
                self._entities = None  # forget the entities the rollback took back
                raise
        # Every batch submitted so far is committed, those of these files with them.
        outcomes, self._outcomes = self._outcomes, []
        for source, outcome in outcomes:
            super().note_outcome(source, outcome)

    def _write_batch(
        self, entities: EntityChanges, articles, sections, mentions, signed, bands
    ) -> None:
        """One transaction: new entities and aliases, articles, sections, mentions, tags."""
        with transaction.atomic():
            topics = write_batch(entities, articles, sections, mentions, signed, bands, self._timed)
            commit_started = time.monotonic()
        self._add("commit_s", time.monotonic() - commit_started)
        self.report.topics += topics  # the main thread reads it once the writer is done

    def _rows(self, pending: list[Pending], now) -> tuple[list, list, list]:
        started = time.monotonic()
        article_ids = next_ids("articles_article", len(pending))
        section_count = sum(len(p.item.record.sections) for p in pending)
        section_ids = iter(next_ids("articles_section", section_count))
        self._add("ids_s", time.monotonic() - started)
        started = time.monotonic()
        rows = batch_rows(
            pending, article_ids, section_ids, self._outlet_id, self.entities.entity_for, now
        )
        self._add("rows_s", time.monotonic() - started)
        return rows

    def _outlet_id(self, record: ArticleRecord) -> int | None:
        key = (record.outlet, record.outlet_domain)
        if key not in self._outlets:
            outlet = outlet_for(record)
            self._outlets[key] = outlet.pk if outlet else None
        return self._outlets[key]
