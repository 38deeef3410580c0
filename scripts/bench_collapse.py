"""What showing each story once costs a search (docs/benchmarks.md, "Stories").

    .venv/bin/python scripts/bench_collapse.py CORPUS_DIR BACKEND RUNS

On the archive the settings point at (PGDATA_DIR; load CORPUS_DIR into it first),
times `/api/search/` for each query class of `manage.py benchmark` (terms picked
from CORPUS_DIR the same way), each story once (the default) against every copy
(`copies=all`), alternating, RUNS times each after a warm-up, and prints p50 and p95
per class and what collapsing adds. BACKEND: postgres or tantivy (its index is
rebuilt from the database first).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "archive.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402

from articles.bench import measure, peer  # noqa: E402
from articles.management.commands.benchmark import query_classes, use_backend  # noqa: E402
from articles.models import Article  # noqa: E402
from articles.search import outbox  # noqa: E402

WARMUP = 2


def timings(client: Client, params: dict, runs: int) -> dict[str, list[float]]:
    """Milliseconds per request, collapsed and every copy, taken in turn."""
    found = {"collapsed": [], "every_copy": []}
    every = {**params, "copies": "all"}
    for run in range(WARMUP + runs):
        for name, asked in (("collapsed", params), ("every_copy", every)):
            started = time.perf_counter()
            response = client.get("/api/search/", asked)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, (name, asked, response.status_code)
            if run >= WARMUP:
                found[name].append(elapsed)
    return found


def main(corpus: Path, backend: str, runs: int) -> None:
    settings.RESULT_CACHE_SECONDS = 0  # measure the work, not the result cache
    use_backend(backend)
    if backend == "tantivy":
        outbox.rebuild()
    classes = query_classes(measure.pick_terms(peer.read_jsonl(corpus)))
    client = Client(SERVER_NAME="localhost")
    rows = {}
    for name, params in classes.items():
        data = client.get("/api/search/", params).json()
        found = timings(client, params, runs)
        p95 = {key: measure.percentile(values, 0.95) for key, values in found.items()}
        p50 = {key: measure.percentile(values, 0.5) for key, values in found.items()}
        rows[name] = {
            "count": data["count"],
            "story_count": data["story_count"],
            "p50_ms": {key: round(value, 1) for key, value in p50.items()},
            "p95_ms": {key: round(value, 1) for key, value in p95.items()},
            "p95_added_ms": round(p95["collapsed"] - p95["every_copy"], 1),
        }
        print(
            f"{name:28} {data['count']:>7} articles {data['story_count'] or 0:>7} stories  "
            f"p95 {p95['every_copy']:7.1f} -> {p95['collapsed']:7.1f} ms",
            file=sys.stderr,
        )
    print(
        json.dumps(
            {
                "backend": backend,
                "articles": Article.objects.count(),
                "runs": runs,
                "load_average": os.getloadavg(),
                "classes": rows,
                "worst_p95_added_ms": max(row["p95_added_ms"] for row in rows.values()),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]))
