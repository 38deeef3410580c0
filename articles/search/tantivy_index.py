"""The tantivy index of the public articles: its schema, its documents (built from
PostgreSQL, the record), and writing to it.

One document per public article. Two text fields, `weighted` (the article's own
text: title, kicker and dek, body, which the database's article vector holds) and
`headings` (its entries' headings, in the sections' vectors only), go through
`archive_en`, an analyzer that does what the database's `archive_english`
configuration does: words lower-cased, accents dropped (`unaccent`), PostgreSQL's
English stop words left out, English Snowball stems, after the text is read as the
database's parser reads it (`parsing.as_parsed`: no tags, hyphenated words whole and
then in parts). Fast fields hold what filters, sorts and facets read: publication
time and month, outlet, kind, topics, entities (all of them, and per entity kind
for the facets), visibility, and the
story of an article that has other public copies (what counting stories needs)."""

from __future__ import annotations

import itertools
import os
import queue
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import NamedTuple, TypeVar

import tantivy
from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.db.models.functions import Left
from django.utils import timezone

from articles.models import Article, ArticleTopic, Entity, Mention, Section
from articles.search.ordering import ids_param
from articles.search.parsing import as_parsed_all, compounds
from articles.search.stopwords import ENGLISH_STOP_WORDS
from articles.search_vectors import MAX_INDEXED_CHARS

ANALYZER = "archive_en"
# The article's own text, what a search matches in and relevance is scored on: its
# words as one bag, as the database's BM25 counts them (articles/ranking.py: a title
# occurrence counts 5, a kicker or dek one 2, a body one 1), so tantivy's one-field
# BM25 has the archive's term frequencies and document frequencies. Summing one BM25
# per field instead ranked the judged collections worse (docs/benchmarks.md).
WEIGHTED = "weighted"
REPEATS = {"title": 5, "kicker_dek": 2, "body": 1}
HEADINGS = "headings"
TEXT_FIELDS = (WEIGHTED, HEADINGS)
# Before each further repeat of a title or kicker/dek in the weighted field: stop
# words, left out but counted as positions, so that no phrase a reader types spans a
# repeat's edge, which the database's vector does not have.
REPEAT_GAP = "\n" + "a " * 8
ENTITY_KINDS = tuple(kind for kind, _ in Entity.Kind.choices)
BATCH = 2000  # articles read from PostgreSQL at a time
WRITER_HEAP = 64 * 1024 * 1024  # a catch-up's few articles
# A rebuild indexes in one thread with room for about a million articles, so that it
# writes them as one segment, which every search and facet count then reads once
# (docs/benchmarks.md: six segments at 1M made facet counts dearer). tantivy
# takes the memory as it needs it (docs/benchmarks.md has it at 1M); it allows under 4 GB.
REBUILD_HEAP = 3 * 1024 * 1024 * 1024
# A second writer (another load, a rebuild) waits this long for the first one's lock.
WRITER_WAIT_SECONDS = 600
T = TypeVar("T")
# The date sort keys: undated articles after every dated one, either way, by id.
_UNDATED = 1 << 62


def entity_field(kind: str) -> str:
    return f"entities_{kind}"


# Every entity an article names (but KINDS_COUNTED_ALONE) once more, its kind in the
# value (`entity_key`): a search counts the leading entities of those kinds over one
# column. A rebuild's documents hold them in ENTITY_KEYS, documents indexed since (a
# load's, an edit's) in ENTITY_KEYS_ADDED: a rebuild writes one segment, later commits
# others, and a column of one segment's documents can be asked for its leaders alone.
# A rebuild's documents also hold the entities mentioned LEADING_MENTIONS times or more
# in ENTITY_KEYS_LEADING (a mention: a section naming the entity): a search that
# matches many articles counts those alone when no other can reach its places
# (`Build.rare_most`).
ENTITY_KEYS = "entity_keys"
ENTITY_KEYS_LEADING = "entity_keys_leading"
ENTITY_KEYS_ADDED = "entity_keys_added"
LEADING_MENTIONS = 1000
# Kinds of few entities, cheap to count on their own (at 1M: 8 groups, 58 weapons, 814
# events, 8% of the mentions), which a search counts so: their keys would only be read.
# Changing them changes the documents: raise DOCUMENTS_VERSION with it.
KINDS_COUNTED_ALONE = ("group", "weapon", "event")
# The rebuild that wrote a document (a random number; none on documents indexed since).
BUILD = "build"
# Room for this many kinds in a key. A kind added (or their order changed) changes
# the keys: raise DOCUMENTS_VERSION with it.
_KIND_SLOTS = 8


def entity_key(entity_id: int, kind: str) -> int:
    return entity_id * _KIND_SLOTS + ENTITY_KINDS.index(kind)


def entity_of_key(key: int) -> tuple[int, str]:
    """(entity id, kind) of an `entity_key`."""
    entity_id, kind = divmod(key, _KIND_SLOTS)
    return entity_id, ENTITY_KINDS[kind]


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("id", stored=True, indexed=True, fast=True)
    for name in TEXT_FIELDS:
        builder.add_text_field(name, tokenizer_name=ANALYZER, index_option="position")
    builder.add_boolean_field("public", indexed=True, fast=True)
    builder.add_integer_field("published", indexed=True, fast=True)  # µs since 1970
    builder.add_integer_field("newest", fast=True)  # sorted descending
    builder.add_integer_field("oldest", fast=True)  # sorted ascending
    builder.add_unsigned_field("month", indexed=True, fast=True)  # YYYYMM
    builder.add_unsigned_field("outlet", indexed=True, fast=True)
    builder.add_text_field("kind", tokenizer_name="raw", fast=True, index_option="basic")
    builder.add_unsigned_field("topics", indexed=True, fast=True)
    builder.add_unsigned_field("entities", indexed=True, fast=True)
    # How many sections (live-blog entries) the article has: the archive's BM25 adds a
    # little for each matching one, which tantivy's score does not see.
    builder.add_unsigned_field("sections", indexed=True, fast=True)
    for kind in ENTITY_KINDS:
        builder.add_unsigned_field(entity_field(kind), fast=True)
    for keys in (ENTITY_KEYS, ENTITY_KEYS_LEADING, ENTITY_KEYS_ADDED):
        builder.add_unsigned_field(keys, fast=True)
    builder.add_unsigned_field(BUILD, indexed=True)
    # Only on articles whose story had other public copies when they were indexed:
    # an article without it is a story of its own, so the stories of a search are
    # counted from its copies alone (backends/tantivy.py, `story_count`). A story
    # left with one copy may keep it; that counts the same.
    builder.add_unsigned_field("story", fast=True)
    return builder.build()


SCHEMA = _schema()


def analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.custom_stopword(ENGLISH_STOP_WORDS))
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


ANALYZE = analyzer()


# What a document holds, as this code writes it. Raise it when that changes (a
# field, how text is read): an index built before then reports that it needs
# `rebuild_search_index` (outbox.disagreement), whatever its count.
# 2: words in tags left out, as the database does; 3: hyphenated words also whole;
# 4: the parser's compound tokens (paths, abbreviations, hosts, numbers) whole;
# 5: the article's own text in one field, matched and scored there; 6: every entity
# once more with its kind (ENTITY_KEYS); 7: a rebuild's apart from those indexed since;
# 8: a rebuild's leading entities once more (ENTITY_KEYS_LEADING), no keys for the
# KINDS_COUNTED_ALONE.
DOCUMENTS_VERSION = 8
VERSION_FILE = "archive-documents-version"
GENERATION_FILE = "archive-commit-generation"
ONE_SEGMENT_BUILD_FILE = "archive-one-segment-build"


def index_dir() -> Path:
    return Path(settings.SEARCH_INDEX_DIR)


def built_version() -> int | None:
    """The DOCUMENTS_VERSION the index was built with (None: before there was one)."""
    try:
        return int((index_dir() / VERSION_FILE).read_text())
    except (OSError, ValueError):
        return None


def mark_built() -> None:
    """Record that every document in the index is as this code writes it."""
    (index_dir() / VERSION_FILE).write_text(f"{DOCUMENTS_VERSION}\n")


@dataclass
class Build:
    """A rebuild writing documents: its number (BUILD, never 0), and how many of its
    documents name each entity not in ENTITY_KEYS_LEADING (by key), counted as they
    are written."""

    number: int
    rare: Counter = field(default_factory=Counter)

    @property
    def rare_most(self) -> int:
        """The most documents of this build naming an entity not in ENTITY_KEYS_LEADING."""
        return max(self.rare.values(), default=0)


def new_build() -> Build:
    return Build(secrets.randbits(62) + 1)


class OneSegmentBuild(NamedTuple):
    number: int
    rare_most: int  # `Build.rare_most`


def one_segment_build() -> OneSegmentBuild | None:
    """The rebuild whose documents were written as one segment, as it recorded once
    committed (its documents stay together: segments are only ever merged), or None."""
    try:
        number, rare_most = (
            int(n) for n in (index_dir() / ONE_SEGMENT_BUILD_FILE).read_text().split()
        )
    except (OSError, ValueError):
        return None
    return OneSegmentBuild(number, rare_most)


def record_one_segment_build(build: Build | None) -> None:
    """Record that the documents of rebuild `build` lie in one segment; None: forget
    any such record (a rebuild does before it commits, so that none outlives its index)."""
    path = index_dir() / ONE_SEGMENT_BUILD_FILE
    if build is None:
        path.unlink(missing_ok=True)
    else:
        path.write_text(f"{build.number} {build.rare_most}\n")


def commit_generation() -> int | None:
    """A number every commit moves on: odd while a commit is under way, even once it
    is done (a sequence lock). Read before a searcher is taken and again after using
    it, the same even number both times means that searcher saw exactly the content
    of that commit. A new index starts at a random number, so one deleted and built
    again never repeats what a running process saw. None when the index has no
    record of it."""
    try:
        return int((index_dir() / GENERATION_FILE).read_text())
    except (OSError, ValueError):
        return None


def _record_generation(value: int) -> None:
    path = index_dir() / GENERATION_FILE
    written = path.with_name(f"{GENERATION_FILE}.new")
    written.write_text(f"{value}\n")
    os.replace(written, path)  # a reader sees the old number or the new one, never part


_open: dict[Path, tantivy.Index] = {}


def open_index(*, replace_outdated: bool = False) -> tantivy.Index:
    """This process's handle on the index (created empty when missing). An index
    built with another schema (by an earlier version) raises OutdatedIndex, or with
    `replace_outdated` (a rebuild) is replaced by an empty one."""
    path = index_dir()
    if path not in _open:
        path.mkdir(parents=True, exist_ok=True)
        created = not tantivy.Index.exists(str(path))
        try:
            index = tantivy.Index(SCHEMA, path=str(path), reuse=True)
        except ValueError as exc:
            if "schema does not match" not in str(exc):
                raise
            if not replace_outdated:
                raise OutdatedIndex(
                    f"the search index at {path} was built with another schema: "
                    "run manage.py rebuild_search_index"
                ) from exc
            index = tantivy.Index(SCHEMA, path=str(path), reuse=False)
        if created:  # empty: what is added to it is written by this code
            mark_built()
        index.register_tokenizer(ANALYZER, analyzer())
        _open[path] = index
    return _open[path]


class OutdatedIndex(ValueError):
    """The index on disk has another schema than this code's."""


def searcher() -> tantivy.Searcher:
    """A searcher on the last commit, whichever process made it: gunicorn workers
    see a load's or a curator's changes without a restart."""
    index = open_index()
    index.reload()
    return index.searcher()


def document_count() -> int:
    return searcher().num_docs


@contextmanager
def writer(
    *,
    wait: float = WRITER_WAIT_SECONDS,
    heap: int = WRITER_HEAP,
) -> Iterator[tantivy.IndexWriter]:
    """The index's single writer, indexing in one thread (one segment a flush).
    tantivy allows one per index (a lock file): a second process waits for the
    first, up to `wait` seconds, then raises IndexBusy. Committed when the block
    ends without an error."""
    index = open_index()
    deadline = time.monotonic() + wait
    while True:
        try:
            handle = index.writer(heap_size=heap, num_threads=1)
            break
        except ValueError as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                raise IndexBusy(str(exc)) from exc
            time.sleep(0.2)
    try:
        yield handle
        generation = commit_generation()
        if generation is None:  # a new index: a number no process may have kept
            generation = 2 * secrets.randbits(48)
        committing = generation if generation % 2 else generation + 1
        _record_generation(committing)
        handle.commit()
        _record_generation(committing + 1)
        handle.wait_merging_threads()  # merges change segments, not what they hold
    except BaseException:
        handle.rollback()
        raise
    finally:
        del handle  # releases the lock file


class IndexBusy(RuntimeError):
    """Another process holds the index's writer lock."""


def replace(handle: tantivy.IndexWriter, ids: Iterable[int]) -> int:
    """Bring the documents of these articles up to date: removed, then added back
    when public, with the other copies of their stories (a story's first copy gets
    its `story` field when a second one joins). Returns how many were added."""
    ids = sorted(with_copies(set(ids)))
    added = 0
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        # By query, which types the ids by the schema (a plain term would be i64).
        handle.delete_documents_by_query(tantivy.Query.term_set_query(SCHEMA, "id", batch))
        for document in documents(Article.objects.using(DEFAULT_DB_ALIAS).filter(pk__in=batch)):
            handle.add_document(document)
            added += 1
    return added


def with_copies(ids: set[int]) -> set[int]:
    """`ids` and the public articles sharing a story with one of them."""
    stories = Article.objects.filter(pk__in=ids_param(ids), story__isnull=False).values("story")
    copies = Article.objects.public().filter(story__in=stories).values_list("pk", flat=True)
    return ids | set(copies)


def documents(
    articles: QuerySet, *, read_ahead: bool = False, build: Build | None = None
) -> Iterator[tantivy.Document]:
    """The index documents of the public articles among `articles`, read in one pass
    (a server-side cursor inside a transaction: rows stream as they are indexed),
    the parser's compound tokens of each BATCH of them in one query. With
    `read_ahead` (a rebuild), the rows are read by a thread of their own, a batch
    ahead (`_read_ahead`). `build`: the rebuild writing them (`new_build`), if one is."""
    articles = articles.public()
    batches = partial(_batches, articles)
    for named, chunk in _read_ahead(batches, articles.db) if read_ahead else batches():
        texts = [_texts(row) for row in chunk]
        parsed = iter(
            as_parsed_all(
                [text for fields in texts for text in fields.values()],
                partial(compounds, using=articles.db),
            )
        )
        for row, fields in zip(chunk, texts, strict=True):
            entities = [(pk, *named.get(pk, (None, 0))) for pk in row.entity_ids]
            yield _document(row, entities, {name: next(parsed) for name in fields}, build)


def _batches(articles: QuerySet) -> Iterator[tuple[dict[int, tuple[str, int]], list]]:
    """The rows of `articles` (`_rows`), BATCH at a time, each with the entities they
    name (`_named_entities`, the same for every batch), all read in one transaction."""
    with transaction.atomic(using=articles.db):
        named = _named_entities(articles)
        rows = _rows(articles).iterator(chunk_size=BATCH)
        while chunk := list(itertools.islice(rows, BATCH)):
            yield named, chunk


def _read_ahead(produce: Callable[[], Iterator[T]], using: str) -> Iterator[T]:
    """What `produce()` yields, computed by a thread one item ahead of the caller:
    PostgreSQL reads the next batch of rows while this one is made into documents
    (a rebuild otherwise waits for it on every batch). The thread reads through a
    connection of its own, which sees committed rows only: inside a transaction (a
    test's) the items are produced here instead."""
    if connections[using].in_atomic_block:
        yield from produce()
        return
    ready: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def hand_over(item) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        items = produce()
        try:
            for item in items:
                if not hand_over((item, None)):
                    return
            hand_over((_DONE, None))
        except BaseException as exc:  # raised again in the caller
            hand_over((_DONE, exc))
        finally:
            items.close()  # ends its transaction
            connections.close_all()  # this thread's

    reader = threading.Thread(target=run, name="index-read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            item, error = ready.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        reader.join()


_DONE = object()


def _rows(articles: QuerySet) -> QuerySet:
    """One row per article: its columns, with its headings, topics and entities
    gathered by PostgreSQL (an index lookup each), so Python groups nothing."""
    return (
        articles.order_by("pk")
        .annotate(
            indexed_body=Left("body", MAX_INDEXED_CHARS),
            shared_story=Exists(
                Article.objects.public()
                .filter(story_id=OuterRef("story_id"))
                .exclude(pk=OuterRef("pk"))
            ),
            # Of every section, "" when it has none: the sections are counted too.
            headings=ArraySubquery(
                Section.objects.filter(article=OuterRef("pk"))
                .order_by("position")
                .values("heading")
            ),
            topic_ids=ArraySubquery(
                ArticleTopic.objects.filter(article=OuterRef("pk"), excluded=False).values(
                    "topic_id"
                )
            ),
            # From the (article, entity) index alone; their kinds from _named_entities.
            entity_ids=ArraySubquery(
                Mention.objects.filter(article=OuterRef("pk"))
                .order_by()
                .values("entity_id")
                .distinct()
            ),
        )
        .values_list(
            "pk",
            "title",
            "kicker",
            "dek",
            "indexed_body",
            "published_at",
            "outlet_id",
            "kind",
            "story_id",
            "shared_story",
            "headings",
            "topic_ids",
            "entity_ids",
            named=True,
        )
    )


def _named_entities(articles: QuerySet) -> dict[int, tuple[str, int]]:
    """The kind of every entity these articles name and how many mentions of it they
    hold, read once: looking each up per article cost PostgreSQL more than everything
    else the documents need. Grouped, not a semi-join: for a rebuild's millions of
    mentions PostgreSQL hashed those to disk (docs/benchmarks.md, thirty-fourth session)."""
    rows = (
        Mention.objects.filter(article__in=articles.values("pk"))
        .order_by()
        .values_list("entity_id", "entity__kind")
        .annotate(mentions=Count("*"))
    )
    return {pk: (kind, mentions) for pk, kind, mentions in rows}


def _document(
    row, entities: list[tuple[int, str | None, int]], parsed: dict[str, str], build: Build | None
) -> tantivy.Document:
    """The document of the article in `row` (`_rows`) naming `entities` (id, kind, the
    mentions of it among the articles indexed with this one);
    `parsed`: its text fields (`_texts`) as `as_parsed_all` reads them; `build`: the
    rebuild writing it, if one is."""
    document = tantivy.Document()
    document.add_unsigned("id", row.pk)
    if build is not None:
        document.add_unsigned(BUILD, build.number)
    document.add_unsigned("sections", len(row.headings))
    # Title, kicker, dek and body in a row, as the database's vector holds them (a
    # phrase may run from one into the next there), then the further repeats.
    own = "\n".join(parsed[name] for name in REPEATS)
    repeats = [part for name, times in REPEATS.items() for part in [parsed[name]] * (times - 1)]
    document.add_text(WEIGHTED, REPEAT_GAP.join([own, *repeats]))
    document.add_text(HEADINGS, parsed[HEADINGS])
    document.add_boolean("public", True)
    document.add_text("kind", row.kind)
    if row.published_at is None:
        document.add_integer("newest", -_UNDATED + row.pk)
        document.add_integer("oldest", _UNDATED + row.pk)
    else:
        moment = microseconds(row.published_at)
        document.add_integer("published", moment)
        document.add_integer("newest", moment)
        document.add_integer("oldest", moment)
        local = timezone.localtime(row.published_at)
        document.add_unsigned("month", local.year * 100 + local.month)
    if row.outlet_id is not None:
        document.add_unsigned("outlet", row.outlet_id)
    for topic_id in row.topic_ids:
        document.add_unsigned("topics", topic_id)
    for entity_id, entity_kind, mentions in entities:
        document.add_unsigned("entities", entity_id)
        if entity_kind in ENTITY_KINDS:
            document.add_unsigned(entity_field(entity_kind), entity_id)
            if entity_kind not in KINDS_COUNTED_ALONE:
                key = entity_key(entity_id, entity_kind)
                _add_key(document, key, mentions >= LEADING_MENTIONS, build)
    if row.shared_story:
        document.add_unsigned("story", row.story_id)
    return document


def _add_key(document: tantivy.Document, key: int, leading: bool, build: Build | None) -> None:
    """An entity's key in the columns of ENTITY_KEYS and the others that hold it."""
    if build is None:
        document.add_unsigned(ENTITY_KEYS_ADDED, key)
        return
    document.add_unsigned(ENTITY_KEYS, key)
    if leading:
        document.add_unsigned(ENTITY_KEYS_LEADING, key)
    else:
        build.rare[key] += 1


def _texts(row) -> dict[str, str]:
    """The text fields of the article in `row` (`_rows`), as the index holds them."""
    return {
        "title": row.title,
        "kicker_dek": f"{row.kicker}\n{row.dek}",
        HEADINGS: "\n".join(h for h in row.headings if h),
        "body": row.indexed_body,
    }


def microseconds(moment: datetime) -> int:
    """Microseconds since 1970 (exact, unlike a float timestamp)."""
    delta = moment - datetime(1970, 1, 1, tzinfo=moment.tzinfo)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
