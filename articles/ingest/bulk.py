"""The bulk load path (`load_articles --bulk`): the same articles, sections, entities,
mentions and topics as the normal path, written in batches with COPY.

What differs from `loader.Loader`, and why the result does not:

- Parsing (clean, split, identify) runs in worker processes, in input order.
- Named-entity recognition runs once per distinct text (a title, or a section's
  heading and body): spaCy's entity spans for one text do not depend on the
  other texts of the article, so they are cached, keyed by the text's hash, the
  model and the alias table in force. The article-level rules that need the
  whole article (kind vote, surname expansion, display spelling: see
  `enrich.resolve_article`) run per article on the cached spans, exactly as
  `enrich.extract_mentions` runs them. A persistent cache (`--ner-cache FILE`)
  makes a re-load, or a corpus that repeats texts, nearly free of NER.
- Entities are resolved in article order against an in-memory copy of the
  entity table (name, kind, aliases, slugs), with the rules of `save.entity_for`.
- Articles, sections and mentions are written with COPY, one transaction per
  batch; topics are tagged per batch (`topics.tag_articles`, per-article scores).
- A record that would *update* an article already in the archive (same origin
  and title, or same source URL, with other text) goes through the normal
  `save.save_article`, so curators' fields are kept exactly as there.
- On a large import into a small archive the full-text and trigram indexes are
  dropped first and rebuilt once at the end (and rebuilt at the start of the
  next bulk load should a load die half way).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import pickle
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from articles.ingest import enrich, formats, pipeline
from articles.ingest.loader import FileOutcome, Loader
from articles.ingest.records import ArticleRecord, EntityMention, Extracted, Hints, IngestError
from articles.ingest.save import (
    CREATED,
    UNCHANGED,
    _unique_anchor,
    content_hash,
    outlet_for,
    save_article,
)
from articles.models import Article, Entity
from articles.topics import tag_articles

BATCH_SIZE = 2000
# Indexes rebuilt after a large import rather than updated row by row.
DEFERRED_INDEXES = (
    "articles_article_search_gin",
    "articles_section_search_gin",
    "articles_article_title_trgm",
    "articles_article_rank_gin",
)
DEFER_BELOW_ROWS = 10_000  # archives smaller than this get their indexes rebuilt
DEFER_FROM_BYTES = 64 * 1024 * 1024  # ... when at least this much input is loaded


def workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


# --- NER cache ---------------------------------------------------------------------


class NerCache:
    """text -> the Occurrences enrich finds in it (section 0). In memory, optionally
    backed by an SQLite file so later loads reuse it."""

    def __init__(self, path: Path | None, aliases: dict[str, tuple[str, str]]):
        from articles.ingest.nlp import installed_model_package

        fingerprint = repr((installed_model_package(), sorted(aliases.items())))
        self.salt = hashlib.sha256(fingerprint.encode()).hexdigest()[:16]
        self.memory: dict[str, list] = {}
        self.db = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path)
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
        if self.db is not None and items:
            self.db.executemany(
                "INSERT OR REPLACE INTO ner VALUES (?, ?)",
                [(k, pickle.dumps(v)) for k, v in items.items()],
            )
            self.db.commit()


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
    texts = [(-1, record.title)] + [
        (i, enrich._section_text(s)) for i, s in enumerate(record.sections)
    ]
    occurrences = [
        replace(o, section=section)
        for section, text in texts
        for o in cache.memory[cache.key(text)]
    ]
    occurrences = enrich.resolve_article(occurrences)
    occurrences = [enrich._apply_alias_to_name(o, aliases) for o in occurrences]
    return enrich._count_by_section(occurrences, len(record.sections))


def texts_of(record: ArticleRecord) -> list[str]:
    return [record.title] + [enrich._section_text(s) for s in record.sections]


# --- worker processes --------------------------------------------------------------

_worker_aliases: dict = {}


def _parse(job: tuple[Extracted, Hints]) -> list[ArticleRecord] | IngestError:
    extracted, hints = job
    try:
        return pipeline.parse_extracted(extracted, hints)
    except IngestError as exc:
        return exc


def _recognise(texts: list[str]) -> list[list]:
    return recognise(texts, _worker_aliases)


# --- entities ----------------------------------------------------------------------


class EntityIndex:
    """The entity table in memory, resolved with the rules of `save.entity_for`."""

    def __init__(self):
        self.by_name: dict[tuple[str, str], list[Entity]] = {}
        self.by_alias: dict[str, list[Entity]] = {}
        self.slugs: set[str] = set()
        self.changed: dict[int, Entity] = {}
        for entity in Entity.objects.order_by("name", "pk"):
            self._index(entity)

    def _index(self, entity: Entity) -> None:
        self.by_name.setdefault((entity.name.lower(), entity.kind), []).append(entity)
        for alias in entity.aliases:
            self.by_alias.setdefault(alias, []).append(entity)
        self.slugs.add(entity.slug)

    def entity_for(self, mention: EntityMention) -> Entity:
        candidates = self.by_name.get((mention.name.lower(), mention.kind)) or self.by_alias.get(
            mention.name
        )
        entity = candidates[0] if candidates else self._create(mention)
        known = {entity.name.lower(), *(a.lower() for a in entity.aliases)}
        new = {s[:200] for s in mention.surfaces if s.lower() not in known}
        if new:
            entity.aliases = sorted({*entity.aliases, *new}, key=str.lower)
            for alias in new:
                self.by_alias.setdefault(alias, []).append(entity)
            self.changed[entity.pk] = entity
        return entity

    def _create(self, mention: EntityMention) -> Entity:
        name = mention.name[:200]
        entity = Entity.objects.create(
            name=name, kind=mention.kind, slug=self._slug(mention.name, mention.kind)
        )
        self._index(entity)
        return entity

    def _slug(self, name: str, qualifier: str) -> str:
        """`save.unique_slug(Entity, name, qualifier)` against the in-memory slugs."""
        base = slugify(name)[:180]
        for candidate in (base, f"{base}-{qualifier}" if base and qualifier else ""):
            if candidate and candidate not in self.slugs:
                return candidate
        digest = hashlib.sha1(f"{name}\x1f{qualifier}".encode()).hexdigest()[:10]  # noqa: S324
        return f"{base}-{digest}" if base else f"{qualifier or 'x'}-{digest}"

    def save_changes(self) -> None:
        if self.changed:
            Entity.objects.bulk_update(list(self.changed.values()), ["aliases"], batch_size=500)
            self.changed.clear()


# --- the loader --------------------------------------------------------------------


@dataclass
class _Pending:
    record: ArticleRecord
    digest: str
    source_id: int | None


class BulkLoader(Loader):
    """`Loader` with batched, parallel parsing, cached NER and COPY writes."""

    def __init__(self, options, progress=None, ner_cache: Path | None = None):
        super().__init__(options, progress)
        self.cache = NerCache(ner_cache, self._aliases)
        self.entities: EntityIndex | None = None
        self._outlets: dict[tuple[str, str], int | None] = {}
        self._pool = None
        self.timings: dict[str, float] = {}

    def load(self, paths) -> object:
        import time

        self.entities = EntityIndex()
        enrich.load_nlp()  # loaded before the workers fork, so they share it
        global _worker_aliases
        _worker_aliases = self._aliases
        try:
            files = formats.discover_inputs(list(paths))
        except IngestError:
            files = []  # Loader.load reports it
        deferred = self._should_defer(files)
        started = time.monotonic()
        ensure_indexes()
        context = multiprocessing.get_context("fork")
        with context.Pool(workers()) as self._pool:
            if deferred:
                drop_indexes()
            try:
                report = super().load(paths)
            finally:
                if deferred:
                    rebuilt = time.monotonic()
                    ensure_indexes()
                    self.timings["index_rebuild_s"] = time.monotonic() - rebuilt
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
        """Records in batches: parsed in worker processes, saved with COPY."""
        batch: list[tuple[Extracted, Hints]] = []
        for item in items:
            if isinstance(item, IngestError):
                outcome.loaded += self._flush(batch, source, outcome.errors)
                batch = []
                outcome.errors.append(str(item))
                continue
            batch.append((item, hints))
            if len(batch) >= BATCH_SIZE:
                outcome.loaded += self._flush(batch, source, outcome.errors)
                batch = []
        outcome.loaded += self._flush(batch, source, outcome.errors)

    def _flush(self, batch: list[tuple[Extracted, Hints]], source, errors: list[str]) -> int:
        if not batch:
            return 0
        chunk = max(1, len(batch) // (4 * workers()))
        parsed = self._pool.map(_parse, batch, chunksize=chunk)
        records: list[ArticleRecord] = []
        for result in parsed:
            if isinstance(result, IngestError):
                errors.append(str(result))
            else:
                records.extend(result)
        self._recognise_missing(records)
        self._save(records, source)
        return len(records)

    def _recognise_missing(self, records: list[ArticleRecord]) -> None:
        keys = {}
        for record in records:
            for text in texts_of(record):
                keys.setdefault(self.cache.key(text), text)
        self.cache.get_many(keys)
        missing = {k: t for k, t in keys.items() if k not in self.cache.memory}
        self.cache.hits += len(keys) - len(missing)
        self.cache.misses += len(missing)
        if not missing:
            return
        items = sorted(missing.items(), key=lambda kv: len(kv[1]), reverse=True)
        texts = [text for _, text in items]
        parts = max(1, min(len(texts), 4 * workers()))
        groups = [texts[i::parts] for i in range(parts)]
        found = self._pool.map(_recognise, groups, chunksize=1)
        results = {}
        for i, group_found in enumerate(found):
            for j, occurrences in enumerate(group_found):
                results[self.cache.key(groups[i][j])] = occurrences
        self.cache.put_many(results)

    # -- writing --------------------------------------------------------------------

    def _save(self, records: list[ArticleRecord], source) -> None:
        source_id = source.pk if source is not None else None
        if self.options.dry_run:
            for record in records:
                mentions = mentions_from(record, self.cache, self._aliases)
                self.report.count(CREATED)
                self.report.sections += len(record.sections)
                self.report.mentions += sum(len(found) for found in mentions)
            return
        digests = [content_hash(record) for record in records]
        existing = set(
            Article.objects.filter(content_hash__in=set(digests)).values_list(
                "content_hash", flat=True
            )
        )
        updates = self._previous_versions(records)
        pending: list[_Pending] = []
        seen: set[str] = set()
        seen_origins: set[tuple[str, str]] = set()
        seen_urls: set[str] = set()
        for record, digest in zip(records, digests, strict=True):
            if digest in existing or digest in seen:
                self.report.count(UNCHANGED)
                continue
            origin_key = (record.origin, record.title)
            if (record.origin and origin_key in updates["origins"] | seen_origins) or (
                record.source_url and record.source_url in updates["urls"] | seen_urls
            ):
                # An update of an article already there: the normal path, after what came before.
                self._write(pending)
                pending = []
                self._save_one(record, source)
                existing.add(digest)
                continue
            seen.add(digest)
            if record.origin:
                seen_origins.add(origin_key)
            if record.source_url:
                seen_urls.add(record.source_url)
            pending.append(_Pending(record, digest, source_id))
        self._write(pending)

    def _previous_versions(self, records: list[ArticleRecord]) -> dict[str, set]:
        origins = {r.origin for r in records if r.origin}
        urls = {r.source_url for r in records if r.source_url}
        found_origins = set(
            Article.objects.filter(origin__in=origins).values_list("origin", "title")
        )
        found_urls = set(
            Article.objects.filter(source_url__in=urls).values_list("source_url", flat=True)
        )
        return {"origins": found_origins, "urls": found_urls}

    def _save_one(self, record: ArticleRecord, source) -> None:
        self.entities.save_changes()
        mentions = mentions_from(record, self.cache, self._aliases)
        result = save_article(record, mentions, source)
        self.report.count(result.outcome)
        self.report.sections += result.sections
        self.report.mentions += result.mentions
        self.report.topics += result.topics
        self.entities = EntityIndex()  # the normal path may have made or changed entities

    def _write(self, pending: list[_Pending]) -> None:
        if not pending:
            return
        now = timezone.now()
        with transaction.atomic():
            article_ids = _next_ids("articles_article", len(pending))
            section_count = sum(len(p.record.sections) for p in pending)
            section_ids = iter(_next_ids("articles_section", section_count))
            article_rows, section_rows, mention_rows = [], [], []
            for article_id, item in zip(article_ids, pending, strict=True):
                record = item.record
                article_rows.append(self._article_row(article_id, item, now))
                mentions = mentions_from(record, self.cache, self._aliases)
                anchors: set[str] = set()
                for position, (section, found) in enumerate(
                    zip(record.sections, _padded(mentions, len(record.sections)), strict=True),
                    start=1,
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
                            _unique_anchor(section.heading, position, anchors),
                        )
                    )
                    counts: dict[int, int] = {}
                    for mention in found:
                        entity = self.entities.entity_for(mention)
                        counts[entity.pk] = counts.get(entity.pk, 0) + mention.count
                    mention_rows += [
                        (pk, section_id, article_id, count) for pk, count in counts.items()
                    ]
            self.entities.save_changes()
            with connection.cursor() as cursor:
                _copy(cursor, "articles_article", ARTICLE_COLUMNS, article_rows)
                _copy(cursor, "articles_section", SECTION_COLUMNS, section_rows)
                _copy(cursor, "articles_mention", MENTION_COLUMNS, mention_rows)
            topics = tag_articles(article_ids)
        self.report.created += len(pending)
        self.report.sections += len(section_rows)
        self.report.mentions += len(mention_rows)
        self.report.topics += topics

    def _article_row(self, article_id: int, item: _Pending, now) -> tuple:
        record = item.record
        title = record.title[:2000] or "(untitled)"
        return (
            article_id,
            self._outlet_id(record),
            item.source_id,
            record.origin,
            title,
            slugify(title)[:120] or "article",
            record.kicker[:300],
            record.dek,
            record.byline[:500],
            record.dateline[:100],
            record.source_url[:2000],
            record.published_at,
            record.date_source if record.published_at else Article.DateSource.UNKNOWN,
            record.kind,
            record.body,
            item.digest,
            True,
            bool(record.review_reasons),
            "; ".join(record.review_reasons),
            now,
            now,
        )

    def _outlet_id(self, record: ArticleRecord) -> int | None:
        key = (record.outlet, record.outlet_domain)
        if key not in self._outlets:
            outlet = outlet_for(record)
            self._outlets[key] = outlet.pk if outlet else None
        return self._outlets[key]


def _padded(mentions: list, length: int) -> list:
    # save._save_mentions zips without strict: sections beyond the list get none.
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
    "is_public",
    "needs_review",
    "review_reasons",
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


# --- deferred indexes -----------------------------------------------------------------

_INDEX_TABLE = "articles_bulk_deferred_index"


def drop_indexes() -> None:
    """Drop the deferred indexes, remembering their definitions in a table so that
    `ensure_indexes` can rebuild them even after a crash."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {_INDEX_TABLE} (name text PRIMARY KEY, definition text)"
        )
        cursor.execute(
            f"INSERT INTO {_INDEX_TABLE} SELECT indexname, indexdef FROM pg_indexes "  # noqa: S608
            "WHERE schemaname = current_schema() AND indexname = ANY(%s) ON CONFLICT DO NOTHING",
            [list(DEFERRED_INDEXES)],
        )
        cursor.execute(f"SELECT name FROM {_INDEX_TABLE}")  # noqa: S608
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')


def ensure_indexes() -> None:
    """Rebuild any index a bulk load dropped."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [_INDEX_TABLE])
        if cursor.fetchone()[0] is None:
            return
        cursor.execute(f"SELECT name, definition FROM {_INDEX_TABLE}")  # noqa: S608
        rows = cursor.fetchall()
        cursor.execute("SET maintenance_work_mem = '1GB'")
        for name, definition in rows:
            cursor.execute("SELECT to_regclass(%s)", [name])
            if cursor.fetchone()[0] is None:
                cursor.execute(definition)
        cursor.execute(f"DROP TABLE {_INDEX_TABLE}")
        cursor.execute("RESET maintenance_work_mem")
