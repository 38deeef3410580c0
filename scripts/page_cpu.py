"""Where the search page's CPU goes: the benchmark's search-page URLs against gunicorn
with 8 concurrent clients (as `manage.py benchmark` measures the page), and the CPU
seconds gunicorn's processes and PostgreSQL's backends used meanwhile, per page. On
two cores the page's p95 follows their sum (docs/benchmarks.md).

    PGDATA_DIR=... SEARCH_INDEX_DIR=... .venv/bin/python scripts/page_cpu.py \\
        --corpus DIR [--backend postgres|tantivy] [--runs N]

`--corpus`: the archive's benchmark corpus, from which the benchmark picks its words.

Reads /proc, so Linux only; the database server must run on this machine.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "archive.settings")

import django  # noqa: E402

django.setup()

from articles.bench import measure, peer  # noqa: E402
from articles.management.commands import benchmark  # noqa: E402

CLIENTS = 8
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(command_part: str) -> float:
    """CPU seconds (user and system, with reaped children) of the processes whose
    command line holds `command_part`."""
    total = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            if command_part not in command:
                continue
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        total += sum(int(field) for field in fields[11:15]) / TICKS
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--backend", choices=["postgres", "tantivy"], default="postgres")
    parser.add_argument("--runs", type=int, default=20, help="pages each client asks for")
    options = parser.parse_args()
    classes = benchmark.query_classes(measure.pick_terms(peer.read_jsonl(options.corpus)))
    paths = benchmark.search_page_paths(classes)
    with benchmark.gunicorn_serving(options.backend) as base:
        benchmark.warm_up(base, paths, CLIENTS)  # both sides
        workers, database = cpu_seconds("gunicorn"), cpu_seconds("postgres: ")
        result = benchmark.http_latency(base, paths, CLIENTS, options.runs, warm=True)
        workers = cpu_seconds("gunicorn") - workers
        database = cpu_seconds("postgres: ") - database
    pages = result["requests"]
    print(
        f"{options.backend}: {pages} pages, {result['throughput_rps']:.1f}/s, "
        f"p50 {result['p50_ms']:.0f} ms, p95 {result['p95_ms']:.0f} ms; CPU a page: "
        f"gunicorn {workers / pages * 1000:.1f} ms, PostgreSQL {database / pages * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
