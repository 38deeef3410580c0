"""Date orders shared by every list of articles, and ids as one SQL parameter."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import BooleanField, F, Func
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


class AmongIds(Func):
    """`field = ANY(ids)`, the ids as one array parameter (`ids_array`), for a filter:
    `filter(AmongIds("article_id", ids))`. Thousands of ids cost the driver one string
    rather than a parameter each, and unlike `ids_param` (a semi-join) the planner can
    combine the condition with another index of the table in one bitmap scan."""

    output_field = BooleanField()

    def __init__(self, field: str, ids: Iterable[int]):
        super().__init__(F(field))
        self.array = ids_array(ids)

    def as_sql(self, compiler, connection, **extra_context):
        (field,) = self.get_source_expressions()
        sql, params = compiler.compile(field)
        return f"{sql} = ANY(%s::bigint[])", (*params, self.array)
