"""What story detection costs the bulk load (docs/benchmarks.md, "Stories").

    .venv/bin/python scripts/bench_stories.py ARTICLES RUNS

Builds (or reuses) bench/corpus-ARTICLES-s1, warms the NER cache with one load, then
bulk-loads the corpus into an emptied archive RUNS times with detection and RUNS
times without (alternating), and prints each run's seconds and the stories made.
"Without" replaces the bulk loader's hook by a no-op; nothing else differs.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "archive.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from articles.ingest import bulk  # noqa: E402
from articles.ingest.bulk import writer  # noqa: E402
from articles.ingest.loader import LoadOptions  # noqa: E402
from articles.models import Article, Story  # noqa: E402

HOOK = writer.place_copied


def empty() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE articles_storysignature, articles_mention, articles_sectiontopic, "
            "articles_articletopic, articles_section, articles_article, articles_story, "
            "articles_sourcedocument CASCADE"
        )


def load(corpus: Path, cache: Path, detect: bool) -> float:
    empty()
    writer.place_copied = HOOK if detect else (lambda *args: None)
    loader = bulk.BulkLoader(LoadOptions(), ner_cache=cache)
    loader.load([corpus])
    return loader.timings["total_s"]


def main(articles: int, runs: int) -> None:
    call_command("migrate", verbosity=0)
    corpus = Path("bench") / f"corpus-{articles}-s1"
    if not corpus.exists():
        call_command("build_corpus", "--articles", str(articles), "--out", str(corpus))
    cache = Path("bench") / "ner-cache.sqlite"
    load(corpus, cache, detect=True)  # warms the NER cache
    times = {True: [], False: []}
    for _ in range(runs):
        for detect in (False, True):
            times[detect].append(load(corpus, cache, detect))
            if detect:
                stories = Story.objects.count()
                copies = Article.objects.count() - stories
    print(
        json.dumps(
            {
                "articles": Article.objects.count(),
                "stories": stories,
                "articles_joining_a_story": copies,
                "without_s": times[False],
                "with_s": times[True],
                "median_without_s": statistics.median(times[False]),
                "median_with_s": statistics.median(times[True]),
                "added": statistics.median(times[True]) / statistics.median(times[False]) - 1,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
