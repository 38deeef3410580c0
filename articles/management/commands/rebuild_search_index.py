"""`manage.py rebuild_search_index`: index every public article again from the
database, for the tantivy backend (after switching to it, restoring a backup, or
when /healthz or `manage.py check` report that the index disagrees)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from articles.models import Article
from articles.search import outbox


class Command(BaseCommand):
    help = "Rebuild the search index (SEARCH_BACKEND=tantivy) from the database."

    def handle(self, *args, **options):
        if not outbox.external_index():
            raise CommandError(
                "SEARCH_BACKEND is postgres, which searches the database itself: "
                "there is no index to rebuild."
            )
        total = Article.objects.public().count()
        started = time.perf_counter()
        with tqdm(
            total=total,
            unit=" articles",
            disable=options["verbosity"] < 1,
            file=self.stderr,
        ) as bar:
            indexed = outbox.rebuild(progress=bar.update)
        seconds = time.perf_counter() - started
        if options["verbosity"] >= 1:
            rate = indexed / seconds if seconds else 0
            self.stdout.write(
                f"{indexed:,} articles indexed in {seconds:.1f} s ({rate:,.0f} articles/s)."
            )
