"""Which loads may run at once on one database.

A bulk load resolves entities against its own copy of the entity table and may
drop indexes while it runs (articles/ingest/bulk), so it runs alone: two of them
side by side each made the same new entities, and the second failed on their
slugs. Normal loads look everything up in the database and meet in its unique
indexes, so they run side by side. The recheck of every entity at the end of
`load_articles` merges and drops entities, so it runs alone too. A PostgreSQL
advisory lock, exclusive for those and shared for a normal load, holds them
apart; it goes with the session, so a killed load leaves nothing held.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connection

LOCK_NAME = "articles.load"  # hashtext(LOCK_NAME) is the lock's key


@contextmanager
def load_lock(*, alone: bool, on_wait: Callable[[str], None]) -> Iterator[None]:
    """Held while a load runs: by a bulk load `alone`, by a normal one shared.
    `on_wait(message)` is called when another load has to finish first."""
    mode = "" if alone else "_shared"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_try_advisory_lock{mode}(hashtext(%s))", [LOCK_NAME])
        if not cursor.fetchone()[0]:
            on_wait(_WAITING[alone])
            cursor.execute(f"SELECT pg_advisory_lock{mode}(hashtext(%s))", [LOCK_NAME])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT pg_advisory_unlock{mode}(hashtext(%s))", [LOCK_NAME])


_WAITING = {
    True: "Another load is running on this database: waiting for it to finish.",
    False: "A bulk load is running on this database: waiting for it to finish.",
}
