"""Give a story to every article that has none (those loaded before stories existed)."""

from django.core.management.base import BaseCommand

from articles.stories import place_unplaced


class Command(BaseCommand):
    help = (
        "Find the copies among articles that have no story yet (loaded before stories "
        "existed), oldest first, and give each its story. Loads do this themselves."
    )

    def handle(self, *args, **options):
        placed = place_unplaced()
        self.stdout.write(f"Placed {placed:,} articles in stories.")
