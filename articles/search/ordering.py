"""Date orders shared by every list of articles, and ids as one SQL parameter."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import F
from django.db.models.expressions import RawSQL


def newest_first():
    return [F("published_at").desc(nulls_last=True), F("pk").desc()]


def oldest_first():
    return [F("published_at").asc(nulls_last=True), F("pk").asc()]


def ids_param(ids: Iterable[int]) -> RawSQL:
    """A list of ids as one array parameter (`pk__in=ids_param(...)`), not one per id.
    The array goes as its text form: the driver quotes a list element by element,
    several times slower for a sample's ids than one string."""
    return RawSQL("SELECT unnest(%s::bigint[])", (ids_array(ids),))


def ids_array(ids: Iterable[int]) -> str:
    """Ids as the text of a PostgreSQL array (`ids_param`)."""
    return "{" + ",".join(map(str, ids)) + "}"
