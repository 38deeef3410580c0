"""How the search index follows PostgreSQL, the system of record.

Triggers put the id of every changed article in the outbox (SearchOutbox) in the
same transaction as the change (migration 0012; 0026: the articles of an entity
filed under another kind). `catch_up` indexes what the outbox names and then
removes those rows: a load calls it before it reports success (`index_load`), the
tantivy backend before it answers a search, so a curator's edit is searchable at
the next search once committed. A catch-up that dies half-way
leaves its rows in place, and the next one does them again (indexing an article
twice gives the same document). With the postgres backend there is no index to
keep and the rows are simply dropped."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection

from articles import cache
from articles.models import Article, SearchOutbox

BATCH = 20_000  # outbox rows taken at a time


def external_index() -> bool:
    """Whether the backend keeps an index of its own that must follow the database."""
    return settings.SEARCH_BACKEND == "tantivy"


def catch_up(*, wait: bool = True, most: int | None = None) -> int:
    """Index the articles the outbox names, then remove their rows. Returns how many
    rows were done. Without `wait`, gives up at once when another process is writing
    the index (it is catching up itself). `most`: stop after about this many rows
    (a search does a bounded share; a load does everything)."""
    from articles.search import tantivy_index

    if not external_index():
        return _drop_all()
    done = 0
    while (most is None or done < most) and (rows := _pending(most)):
        try:
            seconds = tantivy_index.WRITER_WAIT_SECONDS if wait else 0
            with tantivy_index.writer(wait=seconds) as w:
                tantivy_index.replace(w, {article_id for _, article_id in rows})
        except tantivy_index.IndexBusy:
            if wait:
                raise
            return done
        # Only the rows read: a transaction committing meanwhile keeps its own.
        _drain([pk for pk, _ in rows])
        done += len(rows)
    return done


def index_load() -> int:
    """What a load calls before it reports success: the outbox caught up, or, when it
    names at least as many articles as the index holds (a first load, a reload of
    everything), the index rebuilt instead: about the same work, written as one
    segment, where facets are counted fastest (docs/benchmarks.md). Returns how many
    outbox rows or articles were done."""
    from articles.search import tantivy_index

    if external_index() and _pending_articles() >= max(1, tantivy_index.document_count()):
        return rebuild()
    return catch_up()


def _pending_articles() -> int:
    """How many articles the outbox names (a change writes a row for each of the
    article's rows it touches: sections, mentions, topics)."""
    return SearchOutbox.objects.using(DEFAULT_DB_ALIAS).values("article_id").distinct().count()


def _drop_all() -> int:
    """With no index to keep, the rows are only dropped: in one statement, whoever
    committed them."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM articles_searchoutbox")
        return cursor.rowcount


def _pending(most: int | None) -> list[tuple[int, int]]:
    return list(
        SearchOutbox.objects.using(DEFAULT_DB_ALIAS)
        .order_by("pk")
        .values_list("pk", "article_id")[: min(BATCH, most or BATCH)]
    )


def pending_count() -> int:
    return SearchOutbox.objects.using(DEFAULT_DB_ALIAS).count()


def rebuild(progress: Callable[[int], None] = lambda n: None) -> int:
    """Index every public article again from the database; `progress(n)` after each
    batch of n. Changes made meanwhile stay in the outbox for the next catch-up."""
    from articles.search import tantivy_index

    # The rows committed before the articles are read, which the rebuild covers; a
    # row committed later may be for a change the rebuild missed, so it stays.
    covered = list(SearchOutbox.objects.using(DEFAULT_DB_ALIAS).values_list("pk", flat=True))
    tantivy_index.open_index(replace_outdated=True)  # an earlier version's is rebuilt anew
    indexed = 0
    build = tantivy_index.new_build()
    tantivy_index.record_one_segment_build(None)
    with tantivy_index.writer(heap=tantivy_index.REBUILD_HEAP) as w:
        w.delete_all_documents()
        # One pass over every public article; committed once, at the end, so searches
        # see the old index until the new one is whole.
        everything = Article.objects.using(DEFAULT_DB_ALIAS)
        for document in tantivy_index.documents(everything, read_ahead=True, build=build):
            w.add_document(document)
            indexed += 1
            if indexed % tantivy_index.BATCH == 0:
                progress(tantivy_index.BATCH)
        progress(indexed % tantivy_index.BATCH)
    tantivy_index.mark_built()
    # One segment now holds every document of this build (a catch-up committed since
    # would add one: then this is not known, and searches count as for several).
    if tantivy_index.searcher().num_segments == 1:
        tantivy_index.record_one_segment_build(build)
    for start in range(0, len(covered), BATCH):
        _drain(covered[start : start + BATCH])
    cache.changed()  # the whole index is new
    return indexed


def _drain(pks: list[int]) -> None:
    """Remove these outbox rows (their articles are indexed). Searches may show more
    now: a page cached before the index caught up (by a search that found the writer
    busy) must not outlive it."""
    SearchOutbox.objects.using(DEFAULT_DB_ALIAS).filter(pk__in=pks).delete()
    cache.changed()


def disagreement() -> str | None:
    """What is wrong when the index does not hold exactly the public articles
    (their number), or None. Only for a backend with an index of its own."""
    if not external_index():
        return None
    from articles.search import tantivy_index

    try:
        in_index = tantivy_index.document_count()
    except (OSError, ValueError) as exc:
        return f"the search index at {tantivy_index.index_dir()} cannot be read: {exc}"
    if (built := tantivy_index.built_version()) != tantivy_index.DOCUMENTS_VERSION:
        return (
            f"the search index was built by an older version of the archive (documents "
            f"version {built or 1}, this one writes {tantivy_index.DOCUMENTS_VERSION}): "
            "run manage.py rebuild_search_index"
        )
    public = Article.objects.using(DEFAULT_DB_ALIAS).public().count()
    if in_index != public:
        waiting = pending_count()
        return (
            f"the search index holds {in_index:,} articles, the database {public:,} public "
            f"ones ({waiting:,} changes waiting): run manage.py rebuild_search_index"
        )
    return None
