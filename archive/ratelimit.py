"""Counting requests per client: the public search and API limits and the
admin login throttle.

Counts live in one small UNLOGGED PostgreSQL table (archive/migrations/0001):
a single ``INSERT ... ON CONFLICT ... RETURNING`` per request counts atomically
across every gunicorn worker and every host sharing the database. A per-process
LocMemCache would let each worker grant the full limit, and Django's
DatabaseCache increments with a read then a write, so concurrent requests lose
counts. UNLOGGED: counters write no WAL; a database crash empties the table,
which only forgets recent counts.

Windows are fixed: the first request starts one, and it lasts `period` seconds.
When the database cannot be reached the limiter lets the request through: the
view then fails cleanly with a 503 (archive/middleware.py), and an outage never
turns into rate-limit errors.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import random
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)

TABLE = "archive_ratelimit"
# One request in this many also deletes counters whose window ended a day ago.
_PURGE_ONE_IN = 1000
_PURGE_AFTER_SECONDS = 86_400


@dataclass(frozen=True)
class Count:
    hits: int
    retry_after: int  # seconds until the window ends


def hit(key: str, period: int) -> Count | None:
    """Count one request for `key` in its current window; None if the database failed."""
    sql = f"""
        INSERT INTO {TABLE} AS r (key, window_start, hits)
        VALUES (%(key)s, clock_timestamp(), 1)
        ON CONFLICT (key) DO UPDATE SET
            hits = CASE
                WHEN r.window_start > excluded.window_start - make_interval(secs => %(period)s)
                THEN r.hits + 1 ELSE 1 END,
            window_start = CASE
                WHEN r.window_start > excluded.window_start - make_interval(secs => %(period)s)
                THEN r.window_start ELSE excluded.window_start END
        RETURNING hits,
            EXTRACT(EPOCH FROM window_start + make_interval(secs => %(period)s) - clock_timestamp())
    """  # noqa: S608 - TABLE is a constant; values are parameters
    # excluded.window_start is this request's clock_timestamp(), read once, so
    # both CASEs agree on whether the window has ended.
    row = _fetch(sql, {"key": key, "period": period})
    if row is None:
        return None
    if random.randrange(_PURGE_ONE_IN) == 0:
        _purge()
    return Count(hits=row[0], retry_after=max(1, math.ceil(row[1])))


def peek(key: str, period: int) -> Count:
    """The count for `key` in its current window, without adding to it (0 if none)."""
    sql = f"""
        SELECT hits,
            EXTRACT(EPOCH FROM window_start + make_interval(secs => %(period)s) - clock_timestamp())
        FROM {TABLE}
        WHERE key = %(key)s
          AND window_start > clock_timestamp() - make_interval(secs => %(period)s)
    """  # noqa: S608 - TABLE is a constant; values are parameters
    row = _fetch(sql, {"key": key, "period": period})
    if row is None:
        return Count(hits=0, retry_after=0)
    return Count(hits=row[0], retry_after=max(1, math.ceil(row[1])))


def forget(key: str) -> None:
    _execute(f"DELETE FROM {TABLE} WHERE key = %s", [key])  # noqa: S608 - constant table


def _purge() -> None:
    _execute(
        f"DELETE FROM {TABLE} WHERE window_start < clock_timestamp() - make_interval(secs => %s)",  # noqa: S608
        [_PURGE_AFTER_SECONDS],
    )


def _fetch(sql: str, params) -> tuple | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    except DatabaseError as exc:
        logger.debug("rate limiter skipped: %s", exc.__class__.__name__)
        return None


def _execute(sql: str, params) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError as exc:
        logger.debug("rate limiter skipped: %s", exc.__class__.__name__)


def client_address(request) -> str:
    """The address limits are counted for.

    REMOTE_ADDR, unless TRUSTED_PROXY_COUNT reverse proxies stand in front: then
    the address the outermost trusted proxy saw, which is that many entries from
    the right of X-Forwarded-For (entries further left are whatever the client
    sent, so never trusted). An IPv6 client usually holds a whole /64, so it is
    counted as one."""
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            address = hops[-proxies]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:100] or "unknown"
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))


def key_for(scope: str, *parts: str) -> str:
    """A counter key that stores no address or user name in clear."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8", "replace")).hexdigest()[:40]
    return f"{scope}:{digest}"


def describe(limit: int, period: int) -> str:
    """ "60 a minute", "5 in 15 minutes"."""
    for seconds, unit in ((86_400, "day"), (3600, "hour"), (60, "minute"), (1, "second")):
        if period % seconds == 0:
            count = period // seconds
            return f"{limit} a {unit}" if count == 1 else f"{limit} in {count} {unit}s"
    return f"{limit} in {period} seconds"  # pragma: no cover - every period divides by 1
