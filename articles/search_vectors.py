"""The one place that says how text becomes a search vector.

Both the models' GeneratedFields and their migrations call these functions,
so the stored vectors and the queries always agree on configuration.
"""

from django.contrib.postgres.search import SearchVector
from django.db.models.functions import Left

# An English text-search configuration whose word dictionaries run through
# `unaccent` first (created in migration 0001). to_tsvector() with a fixed
# configuration is immutable, which a stored generated column requires; calling
# unaccent() directly in the expression would not be.
SEARCH_CONFIG = "archive_english"

# tsvector values are capped at 1 MB; a body past this many characters is still
# stored whole and shown, only its tail is not indexed.
MAX_INDEXED_CHARS = 500_000


def _body(field: str):
    return Left(field, MAX_INDEXED_CHARS)


def article_vector():
    """Title A, kicker and dek B, body C."""
    return (
        SearchVector("title", weight="A", config=SEARCH_CONFIG)
        + SearchVector("kicker", "dek", weight="B", config=SEARCH_CONFIG)
        + SearchVector(_body("body"), weight="C", config=SEARCH_CONFIG)
    )


def section_vector():
    """Heading B, body C (the article's title is ranked on the article)."""
    return SearchVector("heading", weight="B", config=SEARCH_CONFIG) + SearchVector(
        _body("body"), weight="C", config=SEARCH_CONFIG
    )
