#!/usr/bin/env python3
"""What the entity checks (articles/ingest/checks.py) do to the entities the model finds
in a real corpus: how many they keep, drop or give another kind, and which. A sanity
check that the rules fix mistakes without wrecking recognition; figures in
docs/quality.md ("Entities").

    .venv/bin/python scripts/entity_checks.py ../shared/corpora/bbc/politics --limit 100
    .venv/bin/python scripts/entity_checks.py ../shared/corpora/reuters21578/reut2-000.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "archive.settings")


def texts(path: Path, limit: int) -> list[tuple[str, str]]:
    """(title, body) of the first `limit` articles: BBC .txt files or Reuters JSON."""
    if path.is_dir():
        files = sorted(path.glob("*.txt"))[:limit]
        return [_split(f.read_text("latin-1")) for f in files]
    records = json.loads(path.read_text("utf-8"))
    return [(r.get("title") or "", r.get("body") or "") for r in records if r.get("body")][:limit]


def _split(text: str) -> tuple[str, str]:
    title, _, body = text.partition("\n")
    return title, body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--limit", type=int, default=100)
    args = parser.parse_args()

    import django

    django.setup()
    from articles.ingest.checks import check_entity
    from articles.ingest.enrich import extract_mentions
    from articles.ingest.records import SectionRecord

    outcome: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    changed: Counter[str] = Counter()
    articles = texts(args.path, args.limit)
    for title, body in articles:
        for mentions in extract_mentions([SectionRecord(body=body)], title):
            for m in mentions:
                checked = check_entity(m.name, m.kind)
                if checked is None:
                    outcome["dropped"] += 1
                    dropped[f"{m.name} ({m.kind})"] += 1
                elif checked != (m.name, m.kind):
                    outcome["changed"] += 1
                    changed[f"{m.name} ({m.kind}) -> {checked[0]} ({checked[1]})"] += 1
                else:
                    outcome["kept"] += 1
    total = sum(outcome.values())
    print(f"{args.path}: {len(articles)} articles, {total} entities (one per section)")
    for key in ("kept", "changed", "dropped"):
        print(f"  {key}: {outcome[key]} ({outcome[key] / max(total, 1):.1%})")
    print("  dropped:", ", ".join(f"{k} x{n}" for k, n in dropped.most_common(15)))
    print("  changed:", ", ".join(f"{k} x{n}" for k, n in changed.most_common(15)))


if __name__ == "__main__":
    main()
