"""Reads from read replicas, everything else on the primary (docs/scaling.md).

With DATABASE_REPLICA_URLS set, settings add the aliases replica1, replica2, ...
(``settings.DATABASE_REPLICAS``) and install ``PrimaryReplicaRouter``. Replicas
are streaming standbys: they replay the primary's WAL a little later (typically
milliseconds, more under a heavy load), so a read from one may not yet see a
write just committed. The archive therefore reads from a replica only where that
cannot matter, and opts in rather than out:

- ``ReplicaReadsMiddleware`` picks one replica per request for anonymous GET and
  HEAD requests outside the admin: the public site and API, nearly all traffic.
- Everything else reads from the primary: any request that writes (POST ...),
  the admin, anyone with a session cookie (signed-in staff see their own edits
  at once on public pages too), management commands (``load_articles`` reads
  what it has just written to find duplicates), the shell, migrations.
- Inside ``transaction.atomic()`` on the primary, reads stay there, so a
  transaction sees its own writes.

Writes always go to the primary, even for an object read from a replica, and so
do reads of the database cache (its table is UNLOGGED: a standby cannot read it).
Raw SQL through ``django.db.connection`` is always the primary's (so the rate
limiter's UNLOGGED table is read and written there): to read raw SQL from the
request's replica, open ``connections[queryset.db]`` (or
``connections[router.db_for_read(Model)]``) instead.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import StreamingHttpResponse

# The replica this request (thread or task) reads from; None: the primary.
_reading_from: ContextVar[str | None] = ContextVar("archive_read_replica", default=None)

# Django's database cache (its model's app label): the archive's cache table is
# UNLOGGED (archive/migrations/0002_cache_table.py), and a standby has no rows of
# an UNLOGGED table; it refuses to read one.
_PRIMARY_ONLY_APPS = {"django_cache"}


class PrimaryReplicaRouter:
    """Django's documented primary/replica router, reading from a replica only
    inside ``replica_reads()``."""

    def db_for_read(self, model, **hints):
        replica = _reading_from.get()
        if (
            replica is None
            or model._meta.app_label in _PRIMARY_ONLY_APPS
            or connections[DEFAULT_DB_ALIAS].in_atomic_block
        ):
            return DEFAULT_DB_ALIAS
        return replica

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # Every alias holds the same rows (the replicas copy the primary).
        same_data = {DEFAULT_DB_ALIAS, *settings.DATABASE_REPLICAS}
        if obj1._state.db in same_data and obj2._state.db in same_data:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # A standby is read-only and replays the primary's schema changes.
        return db == DEFAULT_DB_ALIAS


@contextmanager
def replica_reads(alias: str | None = None) -> Iterator[str | None]:
    """Within it, ORM reads go to `alias`, by default a replica chosen at random
    (the primary when there is none). Yields the alias chosen."""
    if alias is None and settings.DATABASE_REPLICAS:
        # Random, not round-robin: no state shared between gunicorn workers or
        # hosts, and over many requests each replica gets an even share. One
        # choice for the whole request, so its count, facets and page all come
        # from one replica (replicas can lag by different amounts).
        alias = random.choice(settings.DATABASE_REPLICAS)
    token = _reading_from.set(alias)
    try:
        yield alias
    finally:
        _reading_from.reset(token)


def _may_read_from_replica(request) -> bool:
    """Whether a lagging replica is harmless here: an anonymous read outside the
    admin. A POST, the admin or a signed-in curator must see the latest writes."""
    return (
        request.method in {"GET", "HEAD"}
        and not request.path.startswith("/admin/")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


class ReplicaReadsMiddleware:
    """Reads of anonymous public GET requests go to one replica (none configured:
    nothing changes). A streamed response (an export) reads from the same replica
    while it is sent, after this middleware has returned."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not settings.DATABASE_REPLICAS or not _may_read_from_replica(request):
            return self.get_response(request)
        with replica_reads() as alias:
            response = self.get_response(request)
        # Not a FileResponse (it reads a file, and wrapping it would lose sendfile).
        if type(response) is StreamingHttpResponse and not response.is_async:
            response.streaming_content = _streamed_from(alias, response.streaming_content)
        return response


def _streamed_from(alias: str, content: Iterator[bytes]) -> Iterator[bytes]:
    with replica_reads(alias):
        yield from content
