"""Caching what public pages compute from many articles: search results (page and
API) and list pages' figures. The content version below also dates the archive's
overview (articles/overview.py), which is kept, not cached.

Entries are keyed by the archive's content version, a number in the database that
every change to the archive's content moves on (`changed()`: the loaders after each
file, curators' saves, deletes and bulk actions). So a load, a hide or a merge is
seen by the next request of every process, and an entry that nothing invalidated
lives at most RESULT_CACHE_SECONDS. The number moves only once the change is
committed, so no entry can hold data older than its version. The cache is a table
in the archive's database (settings.CACHES), shared by every worker and server:
nothing more to run beside the archive.

RESULT_CACHE_SECONDS = 0 turns caching off (tests, and `benchmark`, which
measures the work a cache would hide).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction

T = TypeVar("T")

_VERSION_SQL = "SELECT number FROM articles_contentversion WHERE id = 1"
_BUMP_SQL = "UPDATE articles_contentversion SET number = number + 1 WHERE id = 1"


def content_version() -> int:
    """The version of the database this request reads from: a replica's lags the
    primary's exactly as its data does, so an entry never outruns its data."""
    from articles.models import Article

    with connections[router.db_for_read(Article)].cursor() as cursor:
        cursor.execute(_VERSION_SQL)
        row = cursor.fetchone()
    return row[0] if row else 0


def changed(**_signal) -> None:
    """The archive's content changed: cached pages are out of date once the change
    commits (at once outside a transaction). Also a receiver of model signals."""
    transaction.on_commit(_bump)


def _bump() -> None:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:  # the primary
        cursor.execute(_BUMP_SQL)


def cached(name: str, parts: object, compute: Callable[[], T]) -> T:
    """`compute()`, or its result for the same `name` and `parts` (anything JSON can
    write) at the current content version."""
    seconds = settings.RESULT_CACHE_SECONDS
    if seconds <= 0:
        return compute()
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
    key = f"archive:{name}:{content_version()}:{digest}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, seconds)
    return value
