"""Precision and recall of "same story" on the labelled pairs (docs/quality.md)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from articles.bench.corpus import default_corpora
from articles.bench.story_pairs import Corpora, by_kind, detector_says_same, measure, read_pairs

PAIRS = Path(settings.BASE_DIR) / "tests" / "data" / "story_pairs.json"


class Command(BaseCommand):
    help = "Judge the labelled story pairs (tests/data/story_pairs.json) as a load would."

    def add_arguments(self, parser):
        parser.add_argument("--corpora", type=Path, default=None)

    def handle(self, *args, corpora=None, **options):
        pairs, _ = read_pairs(PAIRS)
        result, wrong = measure(pairs, Corpora(corpora or default_corpora()), detector_says_same)
        self.stdout.write(
            f"{result.pairs} pairs ({result.positives} same story): precision "
            f"{result.precision:.3f}, recall {result.recall:.3f} "
            f"({result.false_positives} false positives, {result.false_negatives} missed)"
        )
        for kind, (n, w) in sorted(by_kind(pairs, wrong).items()):
            self.stdout.write(f"  {kind}: {n} pairs, {w} judged wrong")
