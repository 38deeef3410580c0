"""`manage.py topic_quality`: precision and recall of topic tags on the labelled set."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand
from django.db import transaction

from articles import topic_quality


class _RollBack(Exception):
    pass


class Command(BaseCommand):
    help = (
        "Load the labelled articles (tests/data/topic_labels.json) from ../shared, tag "
        "them as the loader does and print each topic's precision and recall. Nothing "
        "is kept: the load is rolled back."
    )

    def add_arguments(self, parser):
        parser.add_argument("--errors", action="store_true", help="List every miss.")

    def handle(self, *args, **options):
        items = topic_quality.read_labels()
        try:
            with transaction.atomic():
                started = time.monotonic()
                article_ids = topic_quality.load(items)
                seconds = time.monotonic() - started
                scores = {"whole set": topic_quality.measure(items, article_ids)}
                for half in topic_quality.HALVES:
                    scores[f"{half} half"] = topic_quality.measure_half(items, article_ids, half)
                raise _RollBack
        except _RollBack:
            pass
        entries = sum(len(item.sections or ()) for item in items)
        self.stdout.write(
            f"{len(items)} articles and {entries} live-blog entries, loaded in {seconds:.1f} s"
        )
        for name, table in scores.items():
            self._table(name, table)
        if options["errors"]:
            for slug, score in sorted(scores["whole set"].items()):
                for error in score.errors:
                    self.stdout.write(f"{slug}: {error}")

    def _table(self, name: str, scores: dict) -> None:
        self.stdout.write(f"\n{name}\n")
        self.stdout.write("| topic | labelled | tagged | right | precision | recall |")
        self.stdout.write("|---|---|---|---|---|---|")
        for slug, score in sorted(scores.items()):
            labelled = score.true_positives + score.false_negatives
            tagged = score.true_positives + score.false_positives
            self.stdout.write(
                f"| {slug} | {labelled} | {tagged} | {score.true_positives} "
                f"| {score.precision:.2f} | {score.recall:.2f} |"
            )
