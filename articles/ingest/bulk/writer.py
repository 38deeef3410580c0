"""Writing a batch: new entities, articles, sections and mentions with COPY, then
topics and stories, in one transaction, on a writer thread of its own.

Topics are tagged per batch by the statements the normal path runs
(`topics.tag_articles_with`); copies and updates of wire stories are placed in
their stories by `stories.place` (the bulk path's story-detection hook, in
`write_batch`), from the band keys the workers made, before the article rows are
copied, so that they are written with their story.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

from django.db import connection

from articles.models import Topic
from articles.stories import place
from articles.topics import tag_articles_with

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
    "has_entries",
    "content_hash",
    "entity_rules",
    "is_public",
    "needs_review",
    "review_reasons",
    "curated_fields",
    "created_at",
    "updated_at",
)
_TITLE, _BODY = ARTICLE_COLUMNS.index("title"), ARTICLE_COLUMNS.index("body")
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


def next_ids(table: str, count: int) -> list[int]:
    """`count` ids from the table's sequence, for rows written with COPY."""
    if not count:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, count],
        )
        return [row[0] for row in cursor.fetchall()]


def copy_rows(cursor, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    if not rows:
        return
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def write_batch(
    entities, articles: list, sections: list, mentions: list, signed: dict, bands, timed
) -> int:
    """The statements of one batch, inside the caller's transaction: new entities and
    aliases (`entities.EntityChanges`), articles, sections, mentions, topic tags and
    stories (`signed`: each article's band keys, by id; `bands`: the band keys
    held in memory while the band table's index is dropped, else None). `timed(stage)`
    times each. Returns the article tags made."""
    with connection.cursor() as cursor:
        with timed("copy_entities"):
            entities.save()
        with timed("stories"):
            texts = {row[0]: (row[_BODY], row[_TITLE]) for row in articles}
            placement = place(cursor, signed, texts, bands)
            stories = placement.stories
            articles = [(*row, stories.get(row[0])) for row in articles]
        with timed("copy_articles"):
            copy_rows(cursor, "articles_article", (*ARTICLE_COLUMNS, "story_id"), articles)
        with timed("copy_sections"):
            copy_rows(cursor, "articles_section", SECTION_COLUMNS, sections)
        with timed("copy_mentions"):
            copy_rows(cursor, "articles_mention", MENTION_COLUMNS, mentions)
        with timed("topics"):
            topics = tag_new(cursor, [row[0] for row in articles])
        with timed("stories"):
            placement.store_signatures(cursor, replace=False)  # new articles: ids just drawn
    return topics


def tag_new(cursor, article_ids: list[int]) -> int:
    """Tag new articles and their sections with every topic, by the normal path's rule
    and statements. Returns the article tags made."""
    return tag_articles_with(cursor, article_ids, list(Topic.objects.all()))


class Writer:
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
        # A batch is committed or not; a server crash may lose the last few commits,
        # which the next load then makes again.
        cursor.execute("SET synchronous_commit = off")


def _close_writer_connection() -> None:
    connection.close()  # the writer thread's own: `connection` is per thread
