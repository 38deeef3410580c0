"""The worker processes: everything that depends on one record alone.

Parsing (clean, split, identify), the content hash, slugs and anchors, the
article's entity mentions (cached NER spans, then the article-level rules) and its
story signature (the MinHash band keys of its shingles, articles/stories.py) run
here, a few thousand records ahead of the batch being written, and come back in
input order.
"""

from __future__ import annotations

import functools
import os
import pickle
import time
from dataclasses import dataclass, replace
from pathlib import Path

from articles.ingest import enrich, gazetteer, pipeline
from articles.ingest.bulk.ner import NerCache, recognise, texts_of
from articles.ingest.records import ArticleRecord, EntityMention, Extracted, Hints, IngestError
from articles.ingest.save import article_title, content_hash, unique_anchor
from articles.models import article_slug
from articles.stories import signatures

# Worker-side memory bounds (entries); the NER cache file has everything.
WORKER_CACHE_ENTRIES = 100_000


def workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


@dataclass
class Prepared:
    """One record, ready to write: all the per-record work done in a worker."""

    record: ArticleRecord
    digest: str
    slug: str
    anchors: list[str]
    # One list per section of (name, kind, count, surfaces): EntityMentions as plain
    # tuples, which cross between processes ten times faster.
    mentions: list[list[tuple[str, str, int, tuple[str, ...]]]]
    story_bands: tuple[int, ...]  # its band keys, what finding its copies needs

    def entity_mentions(self) -> list[list[EntityMention]]:
        return [
            [
                EntityMention(name, kind, count, set(surfaces))
                for name, kind, count, surfaces in found
            ]
            for found in self.mentions
        ]


@dataclass
class ChunkResult:
    items: list[list[Prepared] | IngestError]  # one per input item, in order
    new_spans: dict[str, bytes]  # NER cache entries this worker computed (pickled)
    hits: int
    misses: int
    seconds: dict[str, float]


@dataclass
class WorkerSetup:
    cache_path: Path | None
    salt: str
    aliases: dict[str, tuple[str, str]]


_worker: _WorkerState | None = None


class _WorkerState:
    def __init__(self, setup: WorkerSetup):
        self.aliases = setup.aliases
        self.cache = NerCache(setup.cache_path, setup.aliases, setup.salt)
        # A text's cached spans, placed in the title (-1) or in a later section.
        self.placed: dict[tuple[str, int], list] = {}

    def prepare(self, jobs: list[Extracted], hints: Hints) -> ChunkResult:
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
        titles = [article_title(record) for record in records]
        # One call for the chunk: a body alone costs more in array calls than in work.
        signed = signatures(
            [(record.body, title) for record, title in zip(records, titles, strict=True)]
        )
        prepared = iter(
            self._prepared(*parts)
            for parts in zip(records, titles, record_keys, signed, strict=True)
        )
        out = [
            item if isinstance(item, IngestError) else [next(prepared) for _ in item]
            for item in items
        ]
        seconds["resolve"] = time.process_time() - started
        hits = len(keyed) - len(missing)
        return ChunkResult(out, new_spans, hits, len(missing), seconds)

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

    def _prepared(
        self, record: ArticleRecord, title: str, keys: list[str], story_bands: tuple[int, ...]
    ) -> Prepared:
        occurrences = [
            o for section, key in enumerate(keys, start=-1) for o in self._spans(key, section)
        ]
        mentions = enrich.finish_article(occurrences, len(record.sections), self.aliases)
        anchors: set[str] = set()
        return Prepared(
            record=record,
            digest=content_hash(record),
            slug=article_slug(title),
            anchors=[
                unique_anchor(section.heading, position, anchors)
                for position, section in enumerate(record.sections, start=1)
            ],
            # save.save_article zips without strict: sections beyond the list get none.
            mentions=[
                [(m.name, m.kind, m.count, tuple(m.surfaces)) for m in found]
                for found in _padded(mentions, len(record.sections))
            ],
            story_bands=story_bands,
        )


def _padded(mentions: list, length: int) -> list:
    return (mentions + [[] for _ in range(length)])[:length]


def init_worker(setup: WorkerSetup) -> None:
    global _worker
    # spelling_key is a pure function of its text that the article rules call millions
    # of times on a few thousand names; remembered here, in the worker processes only.
    remembered = functools.lru_cache(maxsize=1 << 16)(gazetteer.spelling_key)
    enrich.spelling_key = remembered
    gazetteer.spelling_key = remembered
    _worker = _WorkerState(setup)


def prepare(job: tuple[list[Extracted], Hints]) -> ChunkResult:
    """One chunk of extracted items, parsed and prepared in this worker process."""
    return _worker.prepare(*job)
