"""`manage.py refresh_search_statistics`: recompute the term statistics BM25 ranks by.

Loads refresh them; this is for after other changes to article text (edits in
the admin, a restored backup). About 0.5 s per 10,000 articles."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from articles import cache
from articles.ranking import refresh_term_statistics


class Command(BaseCommand):
    help = "Recompute the document frequencies that search relevance (BM25) ranks by."

    def handle(self, *args, **options):
        lexemes, articles = refresh_term_statistics()
        cache.changed()  # cached result pages were ranked with the old figures
        if options["verbosity"] >= 1:
            self.stdout.write(f"{lexemes:,} words in {articles:,} articles.")
