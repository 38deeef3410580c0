"""Small measurement helpers: percentiles, timed runs, sizes."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable

from django.db import connection


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * share
    low, high = int(position), min(int(position) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def timed(run: Callable[[], object], runs: int, warmup: int = 2) -> dict[str, float]:
    """Warm latency in milliseconds: p50, p95, max over `runs` calls after `warmup`."""
    for _ in range(warmup):
        run()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return {
        "p50_ms": percentile(samples, 0.5),
        "p95_ms": percentile(samples, 0.95),
        "max_ms": max(samples),
        "runs": runs,
    }


def speed_check() -> float:
    """Seconds a fixed piece of Python work takes: a million dictionary inserts. The
    host of a virtual machine can slow it with no sign inside it; figures compare
    only between runs where this is about the same."""
    keys = [(i * 2_654_435_761 % 2**32) / 2**32 for i in range(1_000_000)]
    table = {}
    started = time.perf_counter()
    for position, key in enumerate(keys):
        table[key] = position
    return round(time.perf_counter() - started, 3)


_WORD = re.compile(r"[a-z]{5,}")


def pick_terms(records, sample: int = 20000) -> dict[str, tuple[str, float]]:
    """A rare and a medium word (by share of articles) from the first `sample` records."""
    df: Counter[str] = Counter()
    seen = 0
    for record in records:
        df.update(set(_WORD.findall(f"{record['title']} {record['body']}".lower())))
        seen += 1
        if seen >= sample:
            break
    picks = {}
    for name, target in (("rare", 0.0005), ("medium", 0.02), ("medium2", 0.05)):
        word = min(
            (w for w in df if df[w] > 1 or target < 0.001),
            key=lambda w: (abs(df[w] / seen - target), w),
        )
        picks[name] = (word, df[word] / seen)
    picks["said"] = ("said", df["said"] / seen)
    return picks


def database_sizes() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        total = cursor.fetchone()[0]
        cursor.execute(
            """
            SELECT c.relname, pg_table_size(c.oid), pg_indexes_size(c.oid)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relkind = 'r'
              AND c.relname LIKE 'articles_%%'
            """
        )
        sizes = {"database": total}
        for name, table, indexes in cursor.fetchall():
            sizes[f"{name}.table"] = table
            sizes[f"{name}.indexes"] = indexes
        cursor.execute(
            "SELECT indexrelname, pg_relation_size(indexrelid) FROM pg_stat_user_indexes "
            "WHERE relname IN ('articles_article', 'articles_section')"
        )
        for name, size in cursor.fetchall():
            sizes[f"index.{name}"] = size
    return sizes


def full_text_indexes() -> list[str]:
    """The GIN indexes over the stored search vectors of articles and sections."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename IN "
            "('articles_article', 'articles_section') AND indexdef ILIKE %s ORDER BY indexname",
            ["%USING gin (search_vector)%"],
        )
        return [name for (name,) in cursor.fetchall()]


def relation_bytes(names: list[str]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(pg_relation_size(c.oid)), 0) FROM pg_class c "
            "WHERE c.relname = ANY(%s)",
            [names],
        )
        return int(cursor.fetchone()[0])
