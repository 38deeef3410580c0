"""`manage.py build_corpus --articles N [--seed S] [--out DIR]`: the benchmark corpus."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from articles.bench.corpus import build_corpus


def default_out(articles: int, seed: int) -> Path:
    return Path(settings.BASE_DIR) / "bench" / f"corpus-{articles}-s{seed}"


class Command(BaseCommand):
    help = (
        "Write a deterministic benchmark corpus (JSON Lines that load_articles reads) "
        "made from the real text in ../shared/corpora."
    )

    def add_arguments(self, parser):
        parser.add_argument("--articles", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--out", type=Path, help="Directory (default: bench/corpus-N-sS).")

    def handle(self, *args, **options):
        articles = options["articles"]
        if articles < 1:
            raise CommandError("--articles must be 1 or more.")
        out = options["out"] or default_out(articles, options["seed"])
        meta = build_corpus(out, articles, seed=options["seed"])
        self.stdout.write(
            f"{out}: {meta['articles']} articles ({meta['live_blogs']} live blogs), "
            f"{meta['text_chars'] / 1e6:.1f} M characters of text, "
            f"{meta['wire_copies']} wire copies and {meta['updates']} updated versions "
            f"({(meta['wire_copies'] + meta['updates']) / meta['articles']:.1%})."
        )
