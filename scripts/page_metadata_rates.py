#!/usr/bin/env python3
"""Headline, outlet and date rates of the HTML reader on the 25 real pages, against
the labels in tests/data/html_page_metadata.json, and its time per page.

    .venv/bin/python scripts/page_metadata_rates.py              # this checkout
    git archive 3339829 articles | tar -x -C /tmp/base
    .venv/bin/python scripts/page_metadata_rates.py --code /tmp/base   # another version

Figures: docs/quality.md ("Outlets, titles and dates").
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT.parent / "shared" / "corpora" / "html"
TRUTH = ROOT / "tests" / "data" / "html_page_metadata.json"
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"'})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout whose articles/ to run")
    parser.add_argument("--runs", type=int, default=7, help="timed passes over the pages")
    args = parser.parse_args()
    sys.path.insert(0, str(args.code.resolve()))
    from articles.ingest.html import extract_html
    from articles.ingest.pipeline import parse_extracted

    truth = json.loads(TRUTH.read_text(encoding="utf-8"))
    pages = {page: (PAGES / page / "source.html").read_bytes() for page in truth}
    wrong: dict[str, list[str]] = {"title": [], "outlet": [], "date": []}
    for page, raw in pages.items():
        (record,) = parse_extracted(extract_html(raw, page))
        label = truth[page]
        if _same(record.title) != _same(label["headline"]):
            wrong["title"].append(f"{page}: {record.title!r}")
        if record.outlet != label["outlet"]:
            wrong["outlet"].append(f"{page}: {record.outlet!r}")
        day = record.published_at.date().isoformat() if record.published_at else None
        if day != label["published"]:
            wrong["date"].append(f"{page}: {day}")
    for field, misses in wrong.items():
        right = len(pages) - len(misses)
        print(f"{field}: {right}/{len(pages)} ({right / len(pages):.0%}) {misses}")
    timings = []
    for _ in range(args.runs):
        started = time.perf_counter()
        for page, raw in pages.items():
            extract_html(raw, page)
        timings.append((time.perf_counter() - started) / len(pages))
    print(
        f"extract_html: median {statistics.median(timings) * 1000:.0f} ms/page, "
        f"min {min(timings) * 1000:.0f} ms/page over {args.runs} runs"
    )


def _same(text: str) -> str:
    return " ".join((text or "").translate(_QUOTES).split())


if __name__ == "__main__":
    main()
