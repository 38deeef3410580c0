"""Loading a batch of inputs: the loop behind `manage.py load_articles`.

For each file: keep its raw bytes, extract records, parse them into articles,
skip articles already in the archive (content hash) before paying for NER,
then enrich and save each article in its own transaction. A bad file or record
is reported with its name and reason; the rest of the batch still loads.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from articles import cache
from articles.ingest import enrich, formats, pipeline
from articles.ingest.checks import RULES_VERSION
from articles.ingest.lock import load_lock
from articles.ingest.records import ArticleRecord, Extracted, Hints, IngestError
from articles.ingest.save import (
    CREATED,
    UNCHANGED,
    UPDATED,
    content_hash,
    known_aliases,
    record_outcome,
    refresh_mentions,
    refresh_metadata,
    save_article,
    store_source,
)
from articles.models import Article
from articles.ranking import refresh_term_statistics, statistics_are_stale
from articles.search import outbox
from articles.topics import retag_stale

# A file over the size limit is still kept verbatim, as every input is, up to this
# size; a larger one is refused unread: the loader reads a file whole, and
# PostgreSQL's bytea holds less than 1 GiB.
KEEP_OVERSIZED_UP_TO = 256 * 1024 * 1024


@dataclass
class LoadOptions:
    format: str = "auto"
    outlet: str = ""
    published_at: datetime | None = None
    dry_run: bool = False
    max_bytes: int = 50 * 1024 * 1024
    columns: formats.ColumnMap | None = None


@dataclass
class LoadReport:
    files: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    sections: int = 0
    mentions: int = 0
    topics: int = 0
    retagged: list[str] = field(default_factory=list)  # topics re-run over the archive
    entities_before: int = 0
    entities_after: int = 0
    failures: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    @property
    def articles(self) -> int:
        return self.created + self.updated + self.unchanged

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    @property
    def rate(self) -> float:
        return self.articles / self.elapsed if self.elapsed else 0.0

    def count(self, outcome: str) -> None:
        if outcome == CREATED:
            self.created += 1
        elif outcome == UPDATED:
            self.updated += 1
        elif outcome == UNCHANGED:
            self.unchanged += 1


@dataclass
class FileOutcome:
    """What became of one input file: its errors and how many articles it gave."""

    errors: list[str] = field(default_factory=list)
    loaded: int = 0


class Loader:
    runs_alone = False  # a normal load runs side by side with others (articles/ingest/lock.py)

    def __init__(
        self,
        options: LoadOptions,
        progress: Callable[[Path], None] | None = None,
        on_wait: Callable[[str], None] | None = None,
    ):
        self.options = options
        self.progress = progress or (lambda path: None)
        self.on_wait = on_wait or (lambda message: None)  # another load must finish first
        self.report = LoadReport()
        self._manifests: dict[Path, dict[str, Hints]] = {}
        self._aliases = known_aliases()

    def load(self, paths: Iterable[Path]) -> LoadReport:
        with load_lock(alone=self.runs_alone, on_wait=self.on_wait):
            return self._load(paths)

    def _load(self, paths: Iterable[Path]) -> LoadReport:
        from articles.models import Entity

        self.report.entities_before = Entity.objects.count()
        if not self.options.dry_run:
            # Before loading: what this load adds is tagged by today's topics already.
            self._retag_changed_topics()
        try:
            files = formats.discover_inputs(list(paths))
        except IngestError as exc:
            self.report.failures.append(str(exc))
            files = []
        for path in files:
            self.load_file(path)
            cache.changed()  # pages show what each file added without waiting
            self.progress(path)
        self.finish_writing()
        if not self.options.dry_run:
            outbox.index_load()  # the search index holds what was loaded before we report
        changed = self.report.created or self.report.updated
        if not self.options.dry_run and (changed or statistics_are_stale()):
            refresh_term_statistics()  # what BM25 ranks by: ~0.5 s per 10,000 articles
        cache.changed()
        self.report.entities_after = Entity.objects.count()
        self.report.finished = time.monotonic()
        return self.report

    def _retag_changed_topics(self) -> None:
        """A topic whose query, or the tagging rule, changed since its tags were made is
        re-run over the whole archive, so a reload applies it to what was loaded before."""
        self.report.retagged = [topic.name for topic in retag_stale()]

    def load_file(self, path: Path) -> None:
        """Keep the file's bytes, load its records, and note how it went."""
        self.report.files += 1
        origin = str(path)
        try:
            size = path.stat().st_size
            if size > max(self.options.max_bytes, KEEP_OVERSIZED_UP_TO):
                error = formats.too_large(origin, size, self.options.max_bytes, kept=False)
                self.report.failures.append(str(error))
                return
            raw = path.read_bytes()
        except OSError as exc:
            self.report.failures.append(f"{origin}: cannot read it ({exc.strerror})")
            return
        fmt = self._format_of(path, raw)
        source = None if self.options.dry_run else store_source(origin, raw, fmt)
        outcome = FileOutcome()
        try:
            items = formats.extract_records(
                raw, fmt, origin, self.options.columns, max_bytes=self.options.max_bytes
            )
            self.load_items(items, self._hints_for(path), source, outcome)
        except IngestError as exc:
            outcome.errors.append(str(exc))
        self.report.failures.extend(outcome.errors)
        if source is not None:
            self.note_outcome(source, outcome)

    def note_outcome(self, source, outcome: FileOutcome) -> None:
        """Note on the kept input how its file went, once its articles are written."""
        record_outcome(source, outcome.errors, outcome.loaded)

    def finish_writing(self) -> None:
        """Whatever was loaded and not written yet is written (the normal path writes
        each record as it goes; the bulk loader's writer runs a batch behind)."""

    def load_items(self, items, hints: Hints, source, outcome: FileOutcome) -> None:
        """One file's records, one article at a time (the bulk loader batches them)."""
        for item in items:
            if isinstance(item, IngestError):
                outcome.errors.append(str(item))
                continue
            outcome.loaded += self._load_extracted(item, hints, source, outcome.errors)

    def _load_extracted(self, extracted: Extracted, hints: Hints, source, errors) -> int:
        try:
            records = pipeline.parse_extracted(extracted, hints)
        except IngestError as exc:
            errors.append(str(exc))
            return 0
        loaded = 0
        for record in records:
            try:
                self._load_record(record, source)
                loaded += 1
            except IngestError as exc:
                errors.append(str(exc))
        return loaded

    def _load_record(self, record: ArticleRecord, source) -> None:
        existing = (
            Article.objects.filter(content_hash=content_hash(record))
            .values_list("pk", "entity_rules")
            .first()
        )
        if existing and existing[1] == RULES_VERSION:
            # Skip NER for what the archive already has; its outlet and date may
            # still be found better now.
            outcome = UNCHANGED if self.options.dry_run else refresh_metadata(record)
            self.report.count(outcome)
            return
        mentions = enrich.extract_mentions(record.sections, record.title, self._aliases)
        if existing:  # loaded before under older entity rules: find its entities anew
            if self.options.dry_run:
                self.report.count(UNCHANGED)
                return
            self.report.count(refresh_metadata(record))
            self.report.mentions += refresh_mentions(existing[0], mentions)
            return
        if self.options.dry_run:
            self.report.count(CREATED)
            self.report.sections += len(record.sections)
            self.report.mentions += sum(len(found) for found in mentions)
            return
        result = save_article(record, mentions, source)
        self.report.count(result.outcome)
        self.report.sections += result.sections
        self.report.mentions += result.mentions
        self.report.topics += result.topics

    def _format_of(self, path: Path, raw: bytes) -> str:
        if self.options.format != "auto":
            return self.options.format
        return formats.detect_format(path, raw[:4096])

    def _hints_for(self, path: Path) -> Hints:
        """The operator's options, overridden by the file's own manifest entry."""
        directory = path.parent
        if directory not in self._manifests:
            self._manifests[directory] = pipeline.load_manifest(directory)
        base = Hints(outlet=self.options.outlet, published_at=self.options.published_at)
        specific = self._manifests[directory].get(path.name)
        if specific is None:
            return base
        return replace(
            specific,
            outlet=specific.outlet or base.outlet,
            published_at=specific.published_at or base.published_at,
        )
