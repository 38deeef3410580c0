"""`manage.py check` says when the search index disagrees with the database."""

from __future__ import annotations

from django.core import checks
from django.db import DatabaseError


@checks.register()
def search_index_agrees(app_configs, **kwargs):
    from articles.search import outbox

    try:
        problem = outbox.disagreement()
    except DatabaseError:  # before `migrate` has made the tables
        return []
    if problem is None:
        return []
    return [
        checks.Warning(
            f"The search index disagrees with the database: {problem}.",
            hint="Run manage.py rebuild_search_index.",
            id="articles.W001",
        )
    ]
