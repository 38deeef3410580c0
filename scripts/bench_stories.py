"""What story detection costs the bulk load (docs/benchmarks.md, "Stories").

    .venv/bin/python scripts/bench_stories.py CORPUS_DIR NER_CACHE RUNS [ARTICLES]

Bulk-loads the corpus (its first ARTICLES records when given) into an emptied
archive RUNS times without detection and RUNS times with it, alternating, and prints
each run's seconds, the story stage's own seconds, the NER cache's hits and misses,
the CPU seconds the machine was busy, and the stories made. Run it once beforehand
on a cold cache to warm it (the first run of a cold cache pays for spaCy).
"Without" replaces the bulk loader's hook by a no-op; nothing else differs. Each
run starts from an archive without articles or entities, so every run asks the NER
cache for the same keys (they depend on the aliases the archive knows).
"""

from __future__ import annotations

import importlib
import json
import os
import statistics
import sys
import tempfile
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
from articles.stories import Placement  # noqa: E402

# The module, not the function of that name the package exports.
workers = importlib.import_module("articles.ingest.bulk.workers")
HOOKS = (workers.signatures, writer.place)


def detection(on: bool) -> None:
    """Story detection on or off in the workers (forked after this) and the writer."""
    if on:
        workers.signatures, writer.place = HOOKS
    else:
        workers.signatures = lambda texts: [()] * len(texts)
        writer.place = lambda *args, **options: Placement({}, {})


def empty() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE articles_storyband, articles_mention, articles_sectiontopic, "
            "articles_articletopic, articles_section, articles_article, articles_story, "
            "articles_sourcedocument, articles_entity, articles_searchoutbox CASCADE"
        )


def busy_cpu_s() -> float:
    """CPU seconds the machine has spent busy since boot (every process: the loader,
    its workers and PostgreSQL), from /proc/stat."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, idle, iowait, irq, softirq, steal = map(int, fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def load(corpus: Path, cache: Path, detect: bool) -> dict:
    empty()
    detection(detect)
    loader = bulk.BulkLoader(LoadOptions(), ner_cache=cache)
    busy = busy_cpu_s()
    loader.load([corpus])
    timings = loader.timings
    return {
        "total_s": round(timings["total_s"], 2),
        # On a quiet machine, what the load cost in CPU over all cores.
        "machine_busy_cpu_s": round(busy_cpu_s() - busy, 1),
        "stories_s": round(timings.get("stories_s", 0.0), 2),
        "ner_cache_hits": timings["ner_cache_hits"],
        "ner_cache_misses": timings["ner_cache_misses"],
        # Where the time went: a stage of the writer thread counts only while the main
        # thread waits for it (`wait_writer_s`).
        "stages_s": {
            name: round(seconds, 1)
            for name, seconds in sorted(timings.items())
            if name.endswith("_s") and name != "total_s"
        },
    }


def prefix(corpus: Path, articles: int | None) -> Path:
    """The corpus, or a directory of its first `articles` records (JSONL shards)."""
    if articles is None:
        return corpus
    out = Path(tempfile.mkdtemp(prefix="bench-stories-"))
    left = articles
    for shard in sorted(corpus.glob("*.jsonl")):
        lines = shard.read_text(encoding="utf-8").splitlines(keepends=True)[:left]
        (out / shard.name).write_text("".join(lines), encoding="utf-8")
        left -= len(lines)
        if not left:
            break
    return out


def main(corpus: Path, cache: Path, runs: int, articles: int | None) -> None:
    call_command("migrate", verbosity=0)
    corpus = prefix(corpus, articles)
    runs_seen = {True: [], False: []}
    for _ in range(runs):
        for detect in (False, True):
            runs_seen[detect].append(load(corpus, cache, detect))
            if detect:
                stories = Story.objects.count()
                copies = Article.objects.count() - stories
    without = statistics.median(run["total_s"] for run in runs_seen[False])
    with_ = statistics.median(run["total_s"] for run in runs_seen[True])
    print(
        json.dumps(
            {
                "corpus": str(corpus),
                "articles": Article.objects.count(),
                "stories": stories,
                "articles_joining_a_story": copies,
                "without": runs_seen[False],
                "with": runs_seen[True],
                "median_without_s": without,
                "median_with_s": with_,
                "added": round(with_ / without - 1, 3),
                "load_average": os.getloadavg(),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main(
        Path(sys.argv[1]),
        Path(sys.argv[2]),
        int(sys.argv[3]),
        int(sys.argv[4]) if len(sys.argv) > 4 else None,
    )
