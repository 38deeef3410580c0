"""What questions typed as sentences cost (docs/benchmarks.md): for each query, its
matches, whether relaxed matching answered it, how many searches the backend ran
(those only counted apart) and the time of `/api/search/` in this process, result
cache off, median and slowest of RUNS after a warm-up.

    SEARCH_BACKEND=postgres|tantivy PGDATA_DIR=... [SEARCH_INDEX_DIR=...] \\
        .venv/bin/python scripts/typed_queries.py [QUERY ...]
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "archive.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402

from articles.search.backends import get_backend  # noqa: E402

RUNS = 10
QUERIES = (
    "what did the government say about the grain deal with Turkey",
    "how many tanks has germany sent to ukraine",
    "Zelensky visit Washington aid package",
    "why did oil prices rise after the sanctions",
    "intends continued",  # two words, the benchmark's
)


def main(queries: list[str]) -> None:
    settings.RESULT_CACHE_SECONDS = 0
    settings.ALLOWED_HOSTS = ["*"]
    backend = type(get_backend())
    asked = []
    search = backend.search

    def recording(self, request):
        asked.append(request.count_only)
        return search(self, request)

    backend.search = recording
    client = Client()
    print(f"{settings.SEARCH_BACKEND} backend, {RUNS} runs a query")
    for q in queries:
        data = client.get("/api/search/", {"q": q}).json()
        asked.clear()
        client.get("/api/search/", {"q": q})
        searches, counted = asked.count(False), asked.count(True)
        times = []
        for _ in range(RUNS):
            start = time.perf_counter()
            client.get("/api/search/", {"q": q})
            times.append((time.perf_counter() - start) * 1000)
        print(
            f"{q!r}: {data['count']} matches{' (relaxed)' if data.get('relaxed') else ''}, "
            f"{searches} searches + {counted} counts, "
            f"median {statistics.median(times):.0f} ms, slowest {max(times):.0f} ms"
        )


if __name__ == "__main__":
    main(sys.argv[1:] or list(QUERIES))
