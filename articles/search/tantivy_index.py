"""The tantivy index of the public articles: its schema, its documents (built from
PostgreSQL, the record), and writing to it.

One document per public article. Text fields (title; kicker and dek; entry
headings; body) go through `archive_en`, an analyzer that does what the
database's `archive_english` configuration does: words lower-cased, accents
dropped (`unaccent`), PostgreSQL's English stop words left out, English Snowball
stems. Fast fields hold what filters,
sorts and facets read: publication time and month, outlet, kind, topics,
entities (all of them, and per entity kind for the facets), visibility, and the
story of an article that has other public copies (what counting stories needs)."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import tantivy
from django.conf import settings
from django.db.models import Count
from django.db.models.functions import Left
from django.utils import timezone

from articles.models import Article, ArticleTopic, Entity, Mention, Section
from articles.search.ordering import ids_param
from articles.search.stopwords import ENGLISH_STOP_WORDS
from articles.search_vectors import MAX_INDEXED_CHARS

ANALYZER = "archive_en"
TEXT_FIELDS = ("title", "kicker_dek", "headings", "body")
# Title A > kicker/dek and entry headings B > body C, in the proportions of the
# database's weights (articles/ranking.py: 1.0, 0.4, 0.2). tantivy adds up one BM25
# per field; boosts nearer 1 rank the judged collections better but no longer put
# a title match above a heading match above a body match (docs/benchmarks.md).
BOOSTS = {"title": 5.0, "kicker_dek": 2.0, "headings": 2.0, "body": 1.0}
ENTITY_KINDS = tuple(kind for kind, _ in Entity.Kind.choices)
BATCH = 2000  # articles read from PostgreSQL at a time
WRITER_HEAP = 64 * 1024 * 1024  # a catch-up's few articles
REBUILD_HEAP = 512 * 1024 * 1024
# A second writer (another load, a rebuild) waits this long for the first one's lock.
WRITER_WAIT_SECONDS = 600
# The date sort keys: undated articles after every dated one, either way, by id.
_UNDATED = 1 << 62


def entity_field(kind: str) -> str:
    return f"entities_{kind}"


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
    for kind in ENTITY_KINDS:
        builder.add_unsigned_field(entity_field(kind), fast=True)
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


def index_dir() -> Path:
    return Path(settings.SEARCH_INDEX_DIR)


_open: dict[Path, tantivy.Index] = {}


def open_index(*, replacing: bool = False) -> tantivy.Index:
    """This process's handle on the index (created empty when missing). An index
    with other fields (made by an earlier version) is refused, unless `replacing`
    it: then it is started again, empty (tantivy removes the old files)."""
    path = index_dir()
    if path not in _open:
        path.mkdir(parents=True, exist_ok=True)
        try:
            index = tantivy.Index(SCHEMA, path=str(path), reuse=True)
        except ValueError as exc:
            if "schema does not match" not in str(exc):
                raise
            if not replacing:
                raise ValueError(
                    f"{exc} (an earlier version made it): run manage.py rebuild_search_index"
                ) from exc
            (path / "meta.json").unlink()
            index = tantivy.Index(SCHEMA, path=str(path), reuse=True)
        index.register_tokenizer(ANALYZER, analyzer())
        _open[path] = index
    return _open[path]


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
    threads: int = 1,
    replacing: bool = False,
) -> Iterator[tantivy.IndexWriter]:
    """The index's single writer. tantivy allows one per index (a lock file): a
    second process waits for the first, up to `wait` seconds, then raises
    IndexBusy. Committed when the block ends without an error. `replacing`: see
    `open_index`."""
    index = open_index(replacing=replacing)
    deadline = time.monotonic() + wait
    while True:
        try:
            handle = index.writer(heap_size=heap, num_threads=threads)
            break
        except ValueError as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                raise IndexBusy(str(exc)) from exc
            time.sleep(0.2)
    try:
        yield handle
        handle.commit()
        handle.wait_merging_threads()
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
        for document in documents(batch):
            handle.add_document(document)
            added += 1
    return added


def with_copies(ids: set[int]) -> set[int]:
    """`ids` and the public articles sharing a story with one of them."""
    stories = Article.objects.filter(pk__in=ids_param(ids), story__isnull=False).values("story")
    copies = Article.objects.public().filter(story__in=stories).values_list("pk", flat=True)
    return ids | set(copies)


def documents(ids: list[int]) -> list[tantivy.Document]:
    """The index documents of the public articles among `ids` (six queries)."""
    rows = (
        Article.objects.public()
        .filter(pk__in=ids)
        .values_list(
            "pk",
            "title",
            "kicker",
            "dek",
            Left("body", MAX_INDEXED_CHARS),
            "published_at",
            "outlet_id",
            "kind",
            "story_id",
        )
    )
    headings = _grouped(
        Section.objects.filter(article_id__in=ids)
        .exclude(heading="")
        .order_by("position")
        .values_list("article_id", "heading")
    )
    topics = _grouped(
        ArticleTopic.objects.filter(article_id__in=ids, excluded=False).values_list(
            "article_id", "topic_id"
        )
    )
    entities = _grouped(
        Mention.objects.filter(article_id__in=ids)
        .values_list("article_id", "entity_id", "entity__kind")
        .distinct()
        .order_by()
    )
    rows = list(rows)
    shared = _shared_stories({row[-1] for row in rows if row[-1] is not None})
    return [
        _document(
            row,
            headings.get(row[0], []),
            topics.get(row[0], []),
            entities.get(row[0], []),
            row[-1] in shared,
        )
        for row in rows
    ]


def _shared_stories(story_ids: set[int]) -> set[int]:
    """Those of these stories that have more than one public copy."""
    return set(
        Article.objects.public()
        .filter(story__in=ids_param(story_ids))
        .order_by()
        .values("story_id")
        .annotate(copies=Count("pk"))
        .filter(copies__gt=1)
        .values_list("story_id", flat=True)
    )


def _grouped(rows) -> dict[int, list]:
    found = defaultdict(list)
    for article_id, *rest in rows:
        found[article_id].append(rest[0] if len(rest) == 1 else tuple(rest))
    return found


def _document(row, headings, topics, entities, shared_story: bool) -> tantivy.Document:
    pk, title, kicker, dek, body, published_at, outlet_id, kind, story_id = row
    document = tantivy.Document()
    document.add_unsigned("id", pk)
    document.add_text("title", title)
    document.add_text("kicker_dek", f"{kicker}\n{dek}")
    document.add_text("headings", "\n".join(headings))
    document.add_text("body", body)
    document.add_boolean("public", True)
    document.add_text("kind", kind)
    if published_at is None:
        document.add_integer("newest", -_UNDATED + pk)
        document.add_integer("oldest", _UNDATED + pk)
    else:
        moment = microseconds(published_at)
        document.add_integer("published", moment)
        document.add_integer("newest", moment)
        document.add_integer("oldest", moment)
        local = timezone.localtime(published_at)
        document.add_unsigned("month", local.year * 100 + local.month)
    if outlet_id is not None:
        document.add_unsigned("outlet", outlet_id)
    for topic_id in topics:
        document.add_unsigned("topics", topic_id)
    for entity_id, entity_kind in entities:
        document.add_unsigned("entities", entity_id)
        if entity_kind in ENTITY_KINDS:
            document.add_unsigned(entity_field(entity_kind), entity_id)
    if shared_story:
        document.add_unsigned("story", story_id)
    return document


def microseconds(moment: datetime) -> int:
    """Microseconds since 1970 (exact, unlike a float timestamp)."""
    delta = moment - datetime(1970, 1, 1, tzinfo=moment.tzinfo)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def public_ids(after: int = 0) -> Iterator[list[int]]:
    """Every public article's id, in batches, by id."""
    while True:
        batch = list(
            Article.objects.public()
            .filter(pk__gt=after)
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH]
        )
        if not batch:
            return
        yield batch
        after = batch[-1]
