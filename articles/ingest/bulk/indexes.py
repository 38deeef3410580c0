"""Deferred indexes and foreign keys of a large import.

On a large import into a small archive the secondary indexes (full-text, trigram
and the plain b-trees the loader does not look up by) and the foreign keys of
articles, sections and mentions are dropped first and rebuilt once at the end,
also when the load fails, and at the start of the next bulk load should a load be
killed half way. Unique indexes stay, so reloading and concurrent loads still
meet in them; the one exception is the story band table's primary key
(`DEFERRED_PRIMARY_KEYS`).
"""

from __future__ import annotations

import re
from contextlib import contextmanager

from django.db import connection

# Tables whose secondary indexes and foreign keys a large import drops and rebuilds.
# The story band keys' index is one the loader looks up by: meanwhile it holds the
# keys in memory (`stories.BandIndex`).
DEFERRED_TABLES = ("articles_article", "articles_section", "articles_mention", "articles_storyband")
# Indexes the loader itself looks up by while loading (besides the unique ones).
KEPT_INDEXES = ("articles_article_origin_hash", "articles_article_url_hash")
# Primary keys dropped as well. Nothing meets in the band table's: the loader writes
# the keys of articles it has just made (an update, by the normal path, deletes the
# old keys by a scan meanwhile), and keeping it up took most of what storing a
# batch's keys cost (docs/benchmarks.md, "Twelfth session").
DEFERRED_PRIMARY_KEYS = ("articles_storyband",)
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
    """Drop the deferred indexes, foreign keys and primary keys, remembering their
    definitions in a table so that `ensure_indexes` can rebuild them even after a
    crash."""
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
            "WHERE (contype = 'f' AND conrelid = ANY(%s::regclass[])) "
            "OR (contype = 'p' AND conrelid = ANY(%s::regclass[])) ON CONFLICT DO NOTHING",
            [list(DEFERRED_TABLES), list(DEFERRED_PRIMARY_KEYS)],
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
    """Rebuild any index or constraint a bulk load dropped, then refresh the planner's
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
