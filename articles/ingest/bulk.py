"""The bulk load path (`load_articles --bulk`): the same articles, sections, entities,
mentions and topics as the normal path, written in batches with COPY.

What differs from `loader.Loader`, and why the result does not:

- Everything that depends on one record alone runs in worker processes, a few
  thousand records ahead of the batch being written, and comes back in input
  order: parsing (clean, split, identify), the content hash, slugs and anchors,
  and the article's entity mentions.
- Named-entity recognition runs once per distinct text (a title, or a section's
  heading and body): spaCy's entity spans for one text do not depend on the
  other texts of the article, so they are cached, keyed by the text's hash, the
  model and the alias table in force. The article-level rules that need the
  whole article (kind vote, surname expansion, display spelling: see
  `enrich.resolve_article`) run per article on the cached spans, exactly as
  `enrich.extract_mentions` runs them. A persistent cache (`--ner-cache FILE`)
  makes a re-load, or a corpus that repeats texts, nearly free of NER.
- Entities are resolved in article order, in the main process, against an
  in-memory copy of the entity table (name, kind, aliases, slugs), with the rules
  of `save.entity_for`; new ones are written with the batch.
- Articles, sections, mentions and new entities are written with COPY, one
  transaction per batch; topics are tagged per batch by the statements the
  normal path runs (`topics.tag_articles_with`). Outside a transaction a writer thread with its own
  connection writes each batch while the main thread prepares the next.
- A record that would *update* an article already in the archive (same origin
  and title, or same source URL, with other text) goes through the normal
  `save.save_article`, so curators' fields are kept exactly as there.
- On a large import into a small archive the secondary indexes (full-text,
  trigram and the plain b-trees the loader does not look up by) and the foreign
  keys of articles, sections and mentions are dropped first and rebuilt once at
  the end, also when the load fails, and at the start of the next bulk load
  should a load be killed half way. Unique indexes stay, so reloading and
  concurrent loads still meet in them.
"""

from __future__ import annotations

import functools
import hashlib
import multiprocessing
import os
import pickle
import re
import sqlite3
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from articles.ingest import checks, enrich, formats, gazetteer, pipeline
from articles.ingest.checks import checked_mention, in_byline
from articles.ingest.loader import FileOutcome, Loader
from articles.ingest.records import ArticleRecord, EntityMention, Extracted, Hints, IngestError
from articles.ingest.save import (
    CREATED,
    REFRESHED_FIELDS,
    UNCHANGED,
    article_fields,
    content_hash,
    curated_stop_words,
    metadata_differs,
    outlet_for,
    refresh_mentions,
    refresh_metadata,
    save_article,
    unique_anchor,
)
from articles.models import Article, Entity, Topic
from articles.search import outbox
from articles.stories import place_copied
from articles.topics import tag_articles_with

BATCH_SIZE = 2000  # records per transaction
CHUNK_SIZE = 100  # records per worker task
AHEAD = 2 * BATCH_SIZE  # records parsed ahead of the batch being written
DEFER_BELOW_ROWS = 10_000  # archives smaller than this get their indexes rebuilt
DEFER_FROM_BYTES = 64 * 1024 * 1024  # ... when at least this much input is loaded
# Tables whose secondary indexes and foreign keys a large import drops and rebuilds.
DEFERRED_TABLES = ("articles_article", "articles_section", "articles_mention")
# Indexes the loader itself looks up by while loading (besides the unique ones).
KEPT_INDEXES = ("articles_article_origin_hash", "articles_article_url_hash")
# Worker-side memory bounds (entries); the NER cache file has everything.
WORKER_CACHE_ENTRIES = 100_000


def workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


# --- NER cache ---------------------------------------------------------------------


def _cache_salt(aliases: dict[str, tuple[str, str]]) -> str:
    from articles.ingest.nlp import installed_model_package

    fingerprint = repr((installed_model_package(), checks.RULES_VERSION, sorted(aliases.items())))
    return hashlib.sha256(fingerprint.encode()).hexdigest()[:16]


class NerCache:
    """text -> the Occurrences enrich finds in it (section 0). In memory, optionally
    backed by an SQLite file so later loads reuse it. The main process writes the
    file; each worker process reads it through its own connection."""

    def __init__(self, path: Path | None, aliases: dict[str, tuple[str, str]], salt: str = ""):
        self.salt = salt or _cache_salt(aliases)
        self.memory: dict[str, list] = {}
        self.db = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, timeout=60)
            self.db.execute("CREATE TABLE IF NOT EXISTS ner (key TEXT PRIMARY KEY, value BLOB)")
        self.hits = self.misses = 0

    def key(self, text: str) -> str:
        return hashlib.sha1(f"{self.salt}\x1f{text}".encode()).hexdigest()  # noqa: S324

    def get_many(self, keys: Iterable[str]) -> None:
        """Load what the file has for these keys into memory."""
        if self.db is None:
            return
        wanted = [k for k in set(keys) if k not in self.memory]
        for start in range(0, len(wanted), 900):
            chunk = wanted[start : start + 900]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(f"SELECT key, value FROM ner WHERE key IN ({marks})", chunk)  # noqa: S608
            for key, value in rows:
                self.memory[key] = pickle.loads(value)  # noqa: S301 - our own file

    def put_many(self, items: dict[str, list]) -> None:
        self.memory.update(items)
        self.store({k: pickle.dumps(v) for k, v in items.items()})

    def store(self, pickled: dict[str, bytes]) -> None:
        """Write already pickled entries to the file (not to memory)."""
        if self.db is not None and pickled:
            self.db.executemany("INSERT OR REPLACE INTO ner VALUES (?, ?)", pickled.items())
            self.db.commit()

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None


def recognise(texts: list[str], aliases) -> list[list]:
    """The Occurrences of each text, as `enrich._occurrences` yields them for a section."""
    nlp_texts = [
        (number, chunk) for number, text in enumerate(texts) for chunk in enrich._chunks(text)
    ]
    found: list[list] = [[] for _ in texts]
    docs = enrich.load_nlp().pipe((chunk for _, chunk in nlp_texts), batch_size=64)
    for (number, _), doc in zip(nlp_texts, docs, strict=True):
        for span in enrich.entity_spans(doc):
            occurrence = enrich.classify_span(span, 0, aliases)
            if occurrence is not None:
                found[number].append(occurrence)
    return found


def mentions_from(record: ArticleRecord, cache: NerCache, aliases) -> list[list[EntityMention]]:
    """`enrich.extract_mentions(record.sections, record.title, aliases)`, from cached spans."""
    keys = [cache.key(text) for text in texts_of(record)]
    return _resolve(record, keys, cache.memory, aliases)


def _resolve(record: ArticleRecord, keys: list[str], spans: dict[str, list], aliases):
    occurrences = [
        replace(o, section=section)
        for section, key in enumerate(keys, start=-1)
        for o in spans[key]
    ]
    return _resolve_occurrences(occurrences, len(record.sections), aliases)


def _resolve_occurrences(occurrences: list, sections: int, aliases) -> list[list[EntityMention]]:
    """The end of `enrich.extract_mentions`, on the occurrences of a whole article."""
    occurrences = enrich.resolve_article(occurrences)
    occurrences = [enrich._apply_alias_to_name(o, aliases) for o in occurrences]
    return enrich._count_by_section(occurrences, sections)


def texts_of(record: ArticleRecord) -> list[str]:
    return [record.title] + [enrich._section_text(s) for s in record.sections]


# --- worker processes --------------------------------------------------------------


@dataclass
class _Prepared:
    """One record, ready to write: all the per-record work done in a worker."""

    record: ArticleRecord
    digest: str
    slug: str
    anchors: list[str]
    # One list per section of (name, kind, count, surfaces): EntityMentions as plain
    # tuples, which cross between processes ten times faster.
    mentions: list[list[tuple[str, str, int, tuple[str, ...]]]]

    def entity_mentions(self) -> list[list[EntityMention]]:
        return [
            [
                EntityMention(name, kind, count, set(surfaces))
                for name, kind, count, surfaces in found
            ]
            for found in self.mentions
        ]


@dataclass
class _ChunkResult:
    items: list[list[_Prepared] | IngestError]  # one per input item, in order
    new_spans: dict[str, bytes]  # NER cache entries this worker computed (pickled)
    hits: int
    misses: int
    seconds: dict[str, float]


@dataclass
class _WorkerSetup:
    cache_path: Path | None
    salt: str
    aliases: dict[str, tuple[str, str]]


_worker: _WorkerState | None = None


class _WorkerState:
    def __init__(self, setup: _WorkerSetup):
        self.aliases = setup.aliases
        self.cache = NerCache(setup.cache_path, setup.aliases, setup.salt)
        # A text's cached spans, placed in the title (-1) or in a later section.
        self.placed: dict[tuple[str, int], list] = {}

    def prepare(self, jobs: list[Extracted], hints: Hints) -> _ChunkResult:
        seconds = dict.fromkeys(("parse", "ner_lookup", "ner", "resolve"), 0.0)
        started = time.process_time()
        items: list[list[ArticleRecord] | IngestError] = []
        for extracted in jobs:
            try:
                items.append(pipeline.parse_extracted(extracted, hints))
            except IngestError as exc:
                items.append(exc)
        records = [r for item in items if not isinstance(item, IngestError) for r in item]
        keyed = {}
        record_keys = []
        for record in records:
            keys = []
            for text in texts_of(record):
                key = self.cache.key(text)
                keyed.setdefault(key, text)
                keys.append(key)
            record_keys.append(keys)
        seconds["parse"] = time.process_time() - started

        started = time.process_time()
        if len(self.cache.memory) > WORKER_CACHE_ENTRIES:
            self.cache.memory.clear()
        self.cache.get_many(keyed)
        missing = {k: t for k, t in keyed.items() if k not in self.cache.memory}
        seconds["ner_lookup"] = time.process_time() - started
        new_spans: dict[str, bytes] = {}
        if missing:
            started = time.process_time()
            found = recognise(list(missing.values()), self.aliases)
            for key, occurrences in zip(missing, found, strict=True):
                self.cache.memory[key] = occurrences
                new_spans[key] = pickle.dumps(occurrences)
            seconds["ner"] = time.process_time() - started

        started = time.process_time()
        if len(self.placed) > WORKER_CACHE_ENTRIES:
            self.placed.clear()
        prepared = iter(
            self._prepared(record, keys) for record, keys in zip(records, record_keys, strict=True)
        )
        out = [
            item if isinstance(item, IngestError) else [next(prepared) for _ in item]
            for item in items
        ]
        seconds["resolve"] = time.process_time() - started
        hits = len(keyed) - len(missing)
        return _ChunkResult(out, new_spans, hits, len(missing), seconds)

    def _spans(self, key: str, section: int) -> list:
        """The cached spans of a text, as found in `section` of an article. Occurrences
        are never changed in place (the article rules `replace` them), so they are
        shared."""
        spans = self.cache.memory[key]
        if section == 0 or not spans:  # the cache keeps them as found in section 0
            return spans
        placed = self.placed.get((key, section))
        if placed is None:
            placed = self.placed[key, section] = [replace(o, section=section) for o in spans]
        return placed

    def _prepared(self, record: ArticleRecord, keys: list[str]) -> _Prepared:
        occurrences = [
            o for section, key in enumerate(keys, start=-1) for o in self._spans(key, section)
        ]
        mentions = _resolve_occurrences(occurrences, len(record.sections), self.aliases)
        anchors: set[str] = set()
        title = record.title[:2000] or "(untitled)"
        return _Prepared(
            record=record,
            digest=content_hash(record),
            slug=slugify(title)[:120] or "article",
            anchors=[
                unique_anchor(section.heading, position, anchors)
                for position, section in enumerate(record.sections, start=1)
            ],
            # save._save_mentions zips without strict: sections beyond the list get none.
            mentions=[
                [(m.name, m.kind, m.count, tuple(m.surfaces)) for m in found]
                for found in _padded(mentions, len(record.sections))
            ],
        )


def _init_worker(setup: _WorkerSetup) -> None:
    global _worker
    # spelling_key is a pure function of its text that the article rules call millions
    # of times on a few thousand names; remembered here, in the worker processes only.
    remembered = functools.lru_cache(maxsize=1 << 16)(gazetteer.spelling_key)
    enrich.spelling_key = remembered
    gazetteer.spelling_key = remembered
    _worker = _WorkerState(setup)


def _prepare(job: tuple[list[Extracted], Hints]) -> _ChunkResult:
    return _worker.prepare(*job)


# --- entities ----------------------------------------------------------------------


class EntityIndex:
    """The entity table in memory, resolved with the rules of `save.entity_for`.
    New entities get their ids here and are written with `save_changes`."""

    def __init__(self):
        self.by_name: dict[tuple[str, str], list[Entity]] = {}
        self.by_alias: dict[str, list[Entity]] = {}
        self.known: dict[int, set[str]] = {}  # pk -> lower-cased name and aliases
        self.slugs: set[str] = set()
        self.changed: dict[int, Entity] = {}
        self.new: dict[int, Entity] = {}
        self._ids: deque[int] = deque()
        self.stop_words = curated_stop_words()
        for entity in Entity.objects.order_by("name", "pk"):
            self._index(entity)

    def _index(self, entity: Entity) -> None:
        self.by_name.setdefault((entity.name.lower(), entity.kind), []).append(entity)
        for alias in entity.aliases:
            self.by_alias.setdefault(alias, []).append(entity)
        self.known[entity.pk] = {entity.name.lower(), *(a.lower() for a in entity.aliases)}
        self.slugs.add(entity.slug)

    def _is_curated(self, name: str, kind: str) -> bool:
        return any(e.curated for e in self.by_name.get((name.lower(), kind), ()))

    def entity_for(self, name: str, kind: str, surfaces: Iterable[str]) -> Entity | None:
        """The entity a mention (name, kind, surfaces) names, noting new aliases; None
        when the name is no entity."""
        checked = checked_mention(name, kind, self.stop_words, self._is_curated)
        if checked is None:
            return None
        name, kind = checked
        candidates = self.by_name.get((name.lower(), kind)) or self.by_alias.get(name)
        entity = candidates[0] if candidates else self._create(name, kind)
        known = self.known[entity.pk]
        new = {s[:200] for s in surfaces if s.lower() not in known}
        if new:
            entity.aliases = sorted({*entity.aliases, *new}, key=str.lower)
            for alias in new:
                self.by_alias.setdefault(alias, []).append(entity)
            known.update(alias.lower() for alias in new)
            if entity.pk not in self.new:
                self.changed[entity.pk] = entity
        return entity

    def _create(self, name: str, kind: str) -> Entity:
        if not self._ids:
            self._ids.extend(_next_ids("articles_entity", 500))
        entity = Entity(
            pk=self._ids.popleft(),
            name=name[:200],
            kind=kind,
            slug=self._slug(name, kind),
            aliases=[],
            description="",
        )
        self._index(entity)
        self.new[entity.pk] = entity
        return entity

    def _slug(self, name: str, qualifier: str) -> str:
        """`save.unique_slug(Entity, name, qualifier)` against the in-memory slugs."""
        base = slugify(name)[:180]
        for candidate in (base, f"{base}-{qualifier}" if base and qualifier else ""):
            if candidate and candidate not in self.slugs:
                return candidate
        digest = hashlib.sha1(f"{name}\x1f{qualifier}".encode()).hexdigest()[:10]  # noqa: S324
        return f"{base}-{digest}" if base else f"{qualifier or 'x'}-{digest}"

    def take_changes(self) -> _EntityChanges:
        """The entities made and the aliases added since the last call, as they are now."""
        changes = _EntityChanges(
            [
                (e.pk, e.name, e.kind, e.slug, list(e.aliases), e.description, e.curated)
                for e in self.new.values()
            ],
            [Entity(pk=e.pk, aliases=list(e.aliases)) for e in self.changed.values()],
        )
        self.new.clear()
        self.changed.clear()
        return changes

    def save_changes(self) -> None:
        self.take_changes().save()


@dataclass
class _EntityChanges:
    new: list[tuple]  # ENTITY_COLUMNS
    aliased: list[Entity]  # pk and aliases

    def save(self) -> None:
        if self.new:
            with connection.cursor() as cursor:
                _copy(cursor, "articles_entity", ENTITY_COLUMNS, self.new)
        if self.aliased:
            Entity.objects.bulk_update(self.aliased, ["aliases"], batch_size=500)


# --- the writer --------------------------------------------------------------------


class _Writer:
    """Writes one batch at a time on a thread of its own, with its own database
    connection, while the main thread prepares the next batch: PostgreSQL's work on a
    batch (the stored search vectors, indexes, topic tags) then overlaps the
    loader's. Inside a caller's transaction (tests) it writes in the calling thread,
    on that transaction's connection, since another connection would not see it."""

    def __init__(self):
        self._inline = connection.in_atomic_block
        self._executor = None  # started with the first batch, so it has a connection
        self._pending: Future | None = None

    def submit(self, job) -> None:
        self.wait()
        if self._inline:
            job()
            return
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, "bulk-writer", initializer=_writer_session)
        self._pending = self._executor.submit(job)

    def wait(self) -> None:
        """Wait for the batch being written; raise what writing it raised."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        """Wait for the batch being written (its error, if any, is the caller's to
        raise with `wait`), and close the writer's connection."""
        if self._executor is not None:
            if self._pending is not None:
                self._pending.exception()  # waits
            self._executor.submit(_close_writer_connection).result()
            self._executor.shutdown()
            self._executor = None


def _writer_session() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")  # see BulkLoader.load


def _close_writer_connection() -> None:
    connection.close()  # the writer thread's own: `connection` is per thread


# --- the loader --------------------------------------------------------------------


@dataclass
class _Pending:
    item: _Prepared
    source_id: int | None


class BulkLoader(Loader):
    """`Loader` with parallel per-record work, cached NER and COPY writes."""

    def __init__(self, options, progress=None, ner_cache: Path | None = None):
        super().__init__(options, progress)
        self.cache = NerCache(ner_cache, self._aliases)
        self._cache_path = ner_cache
        self._entities: EntityIndex | None = None
        self._outlets: dict[tuple[str, str], int | None] = {}
        self._pool = None
        self._new_spans: dict[str, bytes] = {}  # NER results not yet in the cache file
        self._writer: _Writer | None = None
        self._gazetteers: threading.Thread | None = None
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

    def load(self, paths) -> object:
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
        setup = _WorkerSetup(self._cache_path, self.cache.salt, self._aliases)
        context = multiprocessing.get_context("fork")
        with context.Pool(workers(), initializer=_init_worker, initargs=(setup,)) as self._pool:
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
                self._writer = _Writer()
                report = super().load(paths)
            finally:
                if self._writer is not None:
                    self._writer.close()
                if deferred:
                    with self._timed("index_rebuild"):
                        ensure_indexes()
                with connection.cursor() as cursor:
                    cursor.execute("RESET synchronous_commit")
        if not self.options.dry_run:
            with self._timed("search_index"):
                outbox.catch_up()  # the batches the writer committed after Loader.load
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
        batch: list[_Prepared] = []
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
                in_flight.append((len(jobs), self._pool.apply_async(_prepare, ((jobs, hints),))))
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
        self._wait_for_writer()  # before the file's outcome is recorded

    def _absorb(self, chunk: _ChunkResult) -> None:
        self.cache.hits += chunk.hits
        self.cache.misses += chunk.misses
        for stage, seconds in chunk.seconds.items():
            self._add(f"worker_{stage}_cpu_s", seconds)
        self._new_spans.update(chunk.new_spans)

    # -- writing --------------------------------------------------------------------

    def _save(self, prepared: list[_Prepared], source) -> int:
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
        pending: list[_Pending] = []
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
            pending.append(_Pending(item, source_id))
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

    def _save_one(self, item: _Prepared, source) -> None:
        self._wait_for_writer()  # it may be writing the article this record updates
        self.entities.save_changes()
        result = save_article(item.record, item.entity_mentions(), source)
        self.report.count(result.outcome)
        self.report.sections += result.sections
        self.report.mentions += result.mentions
        self.report.topics += result.topics
        self._entities = None  # the normal path may have made or changed entities

    def _refresh(self, article_id: int, item: _Prepared) -> None:
        """`Loader._load_record` on an article loaded under older entity rules."""
        self._wait_for_writer()
        self.entities.save_changes()
        self.report.count(refresh_metadata(item.record))
        self.report.mentions += refresh_mentions(article_id, item.entity_mentions())
        self._entities = None  # the normal path may have made or changed entities

    def _write(self, pending: list[_Pending]) -> None:
        """Rows for the batch here; written by the writer while the next is prepared."""
        if not pending:
            return
        if self._gazetteers is not None:
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
        job = functools.partial(self._write_batch, entities, *rows)
        try:
            self._writer.submit(job)
        except BaseException:  # written inline, and failed
            self._entities = None
            raise

    def _wait_for_writer(self) -> None:
        with self._timed("wait_writer"):
            try:
                self._writer.wait()
            except BaseException:
                self._entities = None  # forget the entities the rollback took back
                raise

    def _write_batch(self, entities: _EntityChanges, articles, sections, mentions) -> None:
        """One transaction: new entities and aliases, articles, sections, mentions, tags."""
        with transaction.atomic():
            with connection.cursor() as cursor:
                with self._timed("copy_entities"):
                    entities.save()
                with self._timed("copy_articles"):
                    _copy(cursor, "articles_article", ARTICLE_COLUMNS, articles)
                with self._timed("copy_sections"):
                    _copy(cursor, "articles_section", SECTION_COLUMNS, sections)
                with self._timed("copy_mentions"):
                    _copy(cursor, "articles_mention", MENTION_COLUMNS, mentions)
                with self._timed("topics"):
                    topics = _tag_new(cursor, [r[0] for r in articles])
                with self._timed("stories"):
                    place_copied(cursor, ARTICLE_COLUMNS, articles)
            commit_started = time.monotonic()
        self._add("commit_s", time.monotonic() - commit_started)
        self.report.topics += topics  # the main thread reads it once the writer is done

    def _rows(self, pending: list[_Pending], now) -> tuple[list, list, list]:
        started = time.monotonic()
        article_ids = _next_ids("articles_article", len(pending))
        section_count = sum(len(p.item.record.sections) for p in pending)
        section_ids = iter(_next_ids("articles_section", section_count))
        self._add("ids_s", time.monotonic() - started)
        started = time.monotonic()
        entity_for = self.entities.entity_for
        article_rows, section_rows, mention_rows = [], [], []
        for article_id, pending_item in zip(article_ids, pending, strict=True):
            item = pending_item.item
            record = item.record
            article_rows.append(self._article_row(article_id, pending_item, now))
            for position, (section, anchor, found) in enumerate(
                zip(record.sections, item.anchors, item.mentions, strict=True), start=1
            ):
                section_id = next(section_ids)
                section_rows.append(
                    (
                        section_id,
                        article_id,
                        position,
                        section.heading,
                        section.posted_at,
                        section.body,
                        section.captions,
                        anchor,
                    )
                )
                counts: dict[int, int] = {}
                for name, kind, count, surfaces in found:
                    if in_byline(name, kind, record.byline):
                        continue
                    entity = entity_for(name, kind, surfaces)
                    if entity is not None:
                        counts[entity.pk] = counts.get(entity.pk, 0) + count
                mention_rows += [(pk, section_id, article_id, n) for pk, n in counts.items()]
        self._add("rows_s", time.monotonic() - started)
        return article_rows, section_rows, mention_rows

    def _article_row(self, article_id: int, pending: _Pending, now) -> tuple:
        record = pending.item.record
        row = {
            **article_fields(record, pending.item.digest),
            "id": article_id,
            "outlet_id": self._outlet_id(record),
            "source_id": pending.source_id,
            "slug": pending.item.slug,
            "entity_rules": checks.RULES_VERSION,
            "is_public": True,
            "curated_fields": [],  # no curator has edited a new article
            "created_at": now,
            "updated_at": now,
        }
        return tuple(row[column] for column in ARTICLE_COLUMNS)

    def _outlet_id(self, record: ArticleRecord) -> int | None:
        key = (record.outlet, record.outlet_domain)
        if key not in self._outlets:
            outlet = outlet_for(record)
            self._outlets[key] = outlet.pk if outlet else None
        return self._outlets[key]


def _padded(mentions: list, length: int) -> list:
    return (mentions + [[] for _ in range(length)])[:length]


ARTICLE_COLUMNS = (
    "id",
    "outlet_id",
    "source_id",
    "origin",
    "title",
    "slug",
    "kicker",
    "dek",
    "byline",
    "dateline",
    "source_url",
    "published_at",
    "date_source",
    "kind",
    "body",
    "content_hash",
    "entity_rules",
    "is_public",
    "needs_review",
    "review_reasons",
    "curated_fields",
    "created_at",
    "updated_at",
)
SECTION_COLUMNS = (
    "id",
    "article_id",
    "position",
    "heading",
    "posted_at",
    "body",
    "captions",
    "anchor",
)
MENTION_COLUMNS = ("entity_id", "section_id", "article_id", "count")
ENTITY_COLUMNS = ("id", "name", "kind", "slug", "aliases", "description", "curated")


def _next_ids(table: str, count: int) -> list[int]:
    if not count:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _copy(cursor, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    if not rows:
        return
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


# --- topics ---------------------------------------------------------------------------


def _tag_new(cursor, article_ids: list[int]) -> int:
    """Tag new articles and their sections with every topic, by the normal path's rule
    and statements. Returns the article tags made."""
    return tag_articles_with(cursor, article_ids, list(Topic.objects.all()))


# --- deferred indexes and foreign keys ------------------------------------------------

_INDEX_TABLE = "articles_bulk_deferred_index"
_ADD_CONSTRAINT = re.compile(r"ALTER TABLE (\S+) ADD CONSTRAINT (\S+) ")


@contextmanager
def _schema_cursor():
    """A cursor for ALTER TABLE. Inside a caller's transaction (tests), PostgreSQL
    refuses to alter a table with foreign-key checks still deferred to the commit:
    those run now, and later changes are deferred again as Django's constraints are."""
    with connection.cursor() as cursor:
        if connection.in_atomic_block:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        yield cursor
        if connection.in_atomic_block:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def drop_indexes() -> None:
    """Drop the deferred indexes and foreign keys, remembering their definitions in a
    table so that `ensure_indexes` can rebuild them even after a crash."""
    with _schema_cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {_INDEX_TABLE} (name text PRIMARY KEY, definition text)"
        )
        cursor.execute(
            f"INSERT INTO {_INDEX_TABLE} "  # noqa: S608
            "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = ANY(%s::regclass[]) AND NOT x.indisunique "
            "AND NOT x.indisprimary AND NOT i.relname = ANY(%s) "
            "ON CONFLICT DO NOTHING",
            [list(DEFERRED_TABLES), list(KEPT_INDEXES)],
        )
        cursor.execute(
            f"INSERT INTO {_INDEX_TABLE} "  # noqa: S608
            "SELECT conname, format('ALTER TABLE %%I ADD CONSTRAINT %%I %%s', "
            "conrelid::regclass, conname, pg_get_constraintdef(oid)) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ON CONFLICT DO NOTHING",
            [list(DEFERRED_TABLES)],
        )
        cursor.execute(f"SELECT name, definition FROM {_INDEX_TABLE}")  # noqa: S608
        for name, definition in cursor.fetchall():
            constraint = _ADD_CONSTRAINT.match(definition)
            if constraint:
                cursor.execute(
                    f"ALTER TABLE {constraint[1]} DROP CONSTRAINT IF EXISTS {constraint[2]}"
                )
            else:
                cursor.execute(f'DROP INDEX IF EXISTS "{name}"')


def ensure_indexes() -> None:
    """Rebuild any index or foreign key a bulk load dropped, then refresh the planner's
    statistics of the tables it filled."""
    with _schema_cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [_INDEX_TABLE])
        if cursor.fetchone()[0] is None:
            return
        cursor.execute(f"SELECT name, definition FROM {_INDEX_TABLE}")  # noqa: S608
        rows = cursor.fetchall()
        cursor.execute("SET maintenance_work_mem = '1GB'")
        # Indexes first: the foreign keys' checks are joins that can use them.
        rows.sort(key=lambda row: bool(_ADD_CONSTRAINT.match(row[1])))
        for name, definition in rows:
            constraint = _ADD_CONSTRAINT.match(definition)
            if constraint:
                cursor.execute(
                    "SELECT 1 FROM pg_constraint WHERE conname = %s AND conrelid = %s::regclass",
                    [name, constraint[1]],
                )
                exists = cursor.fetchone() is not None
            else:
                cursor.execute("SELECT to_regclass(%s)", [name])
                exists = cursor.fetchone()[0] is not None
            if not exists:
                cursor.execute(definition)
        cursor.execute(f"DROP TABLE {_INDEX_TABLE}")
        cursor.execute("RESET maintenance_work_mem")
        for table in DEFERRED_TABLES:
            cursor.execute(f"ANALYZE {table}")
