"""How many of tantivy's most relevant matches the tantivy backend must rescore
(`RESCORE_WINDOW`, docs/benchmarks.md): for each query, where the archive's exact
BM25 top 10 (articles/bench/exact.py: over every match) lies in tantivy's own order,
before the rescoring, the top-10 agreement each window size would give, and what the
backend serves (its window, widened while a match may climb: `MOST_RESCORED`).

    SEARCH_BACKEND=tantivy PGDATA_DIR=... SEARCH_INDEX_DIR=... \\
        .venv/bin/python scripts/rescore_window.py [--tie T] [QUERY ...]

Without queries: the benchmark's text queries on this archive and the words of issue 13.
`--tie`: what a term's other spellings add to its best one (`SPELLING_TIE`; 1 sums them).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "archive.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from articles.bench import exact  # noqa: E402
from articles.search.backends import get_backend  # noqa: E402
from articles.search.backends import tantivy as tantivy_backend  # noqa: E402
from articles.search.backends.postgres import by_relevance  # noqa: E402

WINDOWS = (10, 25, 50, 100, 200, 500)
DEPTH = max(WINDOWS)
QUERIES = (
    "said",
    "Kiev",
    '"prime minister"',
    "negot*",
    "government",
    "market",
    "shares",
    "president",
    "minister",
    "oil prices",
    "war",
    "missile",
    "election",
    "Zelensky",
    "bank or inflation",
    '"central bank"',
    "tanks Germany",
)


def tantivy_order(params: dict) -> list[int]:
    """The first DEPTH matches in tantivy's own order (no rescoring)."""
    saved = tantivy_backend.RESCORE_WINDOW
    tantivy_backend.RESCORE_WINDOW = 0
    try:
        return get_backend().search(exact.search_request(params, limit=DEPTH)).ids
    finally:
        tantivy_backend.RESCORE_WINDOW = saved


def served(params: dict) -> tuple[list[int], int]:
    """The backend's top 10, and how many matches it put in the archive's order."""
    rescored = []
    archive_scorer = tantivy_backend.archive_scorer

    def counting(text):
        archive_scores = archive_scorer(text)

        def counted(ids):
            rescored.append(len(ids))
            return archive_scores(ids)

        return counted

    tantivy_backend.archive_scorer = counting
    try:
        return get_backend().search(exact.search_request(params, limit=10)).ids, sum(rescored)
    finally:
        tantivy_backend.archive_scorer = archive_scorer


def exact_top(params: dict) -> tuple[list[int], int]:
    """The archive's BM25 top 10 over every match, and how many match."""
    request = exact.search_request(params)
    matches = exact._matches(request.articles, request)
    top = list(by_relevance(matches, request.text_query).values_list("pk", flat=True)[:10])
    return top, matches.count()


def main(queries) -> None:
    if settings.SEARCH_BACKEND != "tantivy":
        raise SystemExit("Run with SEARCH_BACKEND=tantivy.")
    print("| query | matches | deepest of the exact top 10 |", end="")
    print("".join(f" window {w} |" for w in WINDOWS), "served | rescored |")
    print("|---|---|---|" + "---|" * (len(WINDOWS) + 2))
    for q in queries:
        params = {"q": q}
        top, count = exact_top(params)
        if not top:
            print(f"| `{q}` | 0 | - |" + " - |" * (len(WINDOWS) + 2))
            continue
        order = tantivy_order(params)
        place = {pk: i + 1 for i, pk in enumerate(order)}
        deepest = max(place.get(pk, DEPTH + 1) for pk in top)
        agreements = [sum(place.get(pk, DEPTH + 1) <= w for pk in top) / len(top) for w in WINDOWS]
        deepest_text = f"> {DEPTH}" if deepest > DEPTH else str(deepest)
        print(f"| `{q}` | {count:,} | {deepest_text} |", end="")
        print("".join(f" {a:.1f} |" for a in agreements), end="")
        ids, rescored = served(params)
        print(f" {len(set(ids) & set(top)) / len(top):.1f} | {rescored} |", flush=True)


if __name__ == "__main__":
    arguments = sys.argv[1:]
    if arguments[:1] == ["--tie"]:
        tantivy_backend.SPELLING_TIE = float(arguments[1])
        arguments = arguments[2:]
    main(arguments or QUERIES)
