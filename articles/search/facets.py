"""Facet values: counts turned into what the page shows, and the facets PostgreSQL
counts over a queryset (also used by the outlet, entity and home pages).

Outlets are alternatives (outlet=a&outlet=b is either), so a backend counts them over
the matches before the outlet filter; topics and entities narrow (all must apply),
so they are counted within the results."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import Count, QuerySet

from articles.models import Article, ArticleTopic, Entity, Mention
from articles.search.dates import month_bounds
from articles.search.ordering import ids_param
from articles.search.results import FacetValue, Selection

FACET_SIZE = 10
ENTITIES_PER_KIND = 5


def outlet_values(counts: Iterable[tuple[str, str, int]], selection: Selection) -> list[FacetValue]:
    """(slug, name, count) of each outlet -> the FACET_SIZE largest, ties by name."""
    ranked = sorted(counts, key=lambda item: (-item[2], item[1]))
    return [
        FacetValue(slug, name, n, slug in selection.outlets)
        for slug, name, n in ranked[:FACET_SIZE]
    ]


def month_values(counts: Mapping[str, int], selection: Selection) -> list[FacetValue]:
    """{"YYYY-MM": count} -> every month in order, the selected one marked."""
    months = []
    for month in sorted(counts):
        first, last = month_bounds(month)
        selected = (selection.date_from, selection.date_to) == (first, last)
        months.append(FacetValue(month, first.strftime("%B %Y"), counts[month], selected))
    return months


def monthly_row(month: date, slug: str | None, name: str | None, count: int) -> tuple:
    """A row of a timeline: (month, outlet slug, outlet name, articles); articles
    without an outlet count under an unknown one."""
    return (month, slug or "", name or "Unknown outlet", count)


def kind_values(counts: Mapping[str, int], selection: Selection) -> list[FacetValue]:
    """{"article": count, "live": count} -> the kinds that occur, in their declared
    order, the selected one marked."""
    return [
        FacetValue(kind, str(label), counts[kind], kind == selection.kind)
        for kind, label in Article.Kind.choices
        if counts.get(kind)
    ]


def outlet_facet(articles: QuerySet, selected=frozenset()) -> list[FacetValue]:
    rows = (
        articles.order_by()
        .filter(outlet__isnull=False)
        .values("outlet__slug", "outlet__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "outlet__name")[:FACET_SIZE]
    )
    return [
        FacetValue(r["outlet__slug"], r["outlet__name"], r["n"], r["outlet__slug"] in selected)
        for r in rows
    ]


def topic_facet(articles: QuerySet | list[int], selected=frozenset()) -> list[FacetValue]:
    """The FACET_SIZE topics most of `articles` (or the articles of these ids) carry."""
    if isinstance(articles, QuerySet):
        tagged = ArticleTopic.objects.filter(article__in=articles.order_by().values("pk"))
    else:
        tagged = ArticleTopic.objects.filter(article_id__in=ids_param(articles))
    rows = (
        tagged.filter(excluded=False)
        .values("topic__slug", "topic__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "topic__name")[:FACET_SIZE]
    )
    return [
        FacetValue(r["topic__slug"], r["topic__name"], r["n"], r["topic__slug"] in selected)
        for r in rows
    ]


# Each article's distinct entities (a small per-article step along the mention
# index), then a count per entity id, and only then the entities' names: grouping
# all the mention rows by slug with count(DISTINCT) sorted every row with its text
# (spilling to disk from a few thousand articles on). Most entities are named in one
# article only; they cannot take a place in a kind with enough entities named in
# more, so they are looked up only while some kind of Entity.Kind is short of
# those. Only the entities that can take one of a kind's first places (their count
# among the kind's first few, ties included) are then sorted by name: sorting every
# named entity by name took a quarter of the query (docs/benchmarks.md).
_ENTITY_FACET_SQL = """
WITH counted AS MATERIALIZED (
    SELECT named.entity_id, count(*) AS n
    FROM (SELECT DISTINCT matched.pk FROM ({articles}) AS matched(pk)) AS a
    CROSS JOIN LATERAL (
        SELECT DISTINCT m.entity_id FROM articles_mention m WHERE m.article_id = a.pk
    ) AS named
    GROUP BY named.entity_id
), repeated AS MATERIALIZED (
    SELECT e.slug, e.name, e.kind, c.n
    FROM counted c JOIN articles_entity e ON e.id = c.entity_id
    WHERE c.n > 1
), filled AS MATERIALIZED (
    SELECT kind FROM repeated WHERE kind = ANY(%s) GROUP BY kind HAVING count(*) >= %s
), contenders AS (
    SELECT slug, name, kind, n, rank() OVER (PARTITION BY kind ORDER BY n DESC) AS r
    FROM (
        SELECT * FROM repeated
        UNION ALL
        SELECT e.slug, e.name, e.kind, c.n
        FROM counted c JOIN articles_entity e ON e.id = c.entity_id
        WHERE c.n = 1
          AND (SELECT count(*) FROM filled) < %s
          AND e.kind NOT IN (SELECT kind FROM filled)
    ) AS named
)
SELECT slug, name, kind, n FROM (
    SELECT slug, name, kind, n,
           row_number() OVER (PARTITION BY kind ORDER BY n DESC, name ASC) AS place
    FROM contenders
    WHERE r <= %s
) AS placed
WHERE place <= %s
ORDER BY kind, place
"""


def entity_facet(articles: QuerySet | list[int], selected=frozenset()) -> list[FacetValue]:
    """The ENTITIES_PER_KIND entities of each kind named in the most of `articles` (or
    of the articles of these ids)."""
    try:
        sql, params = _ids_sql(articles)
    except EmptyResultSet:
        return []
    places, kinds = ENTITIES_PER_KIND, Entity.Kind.values
    using = articles.db if isinstance(articles, QuerySet) else router.db_for_read(Mention)
    with connections[using].cursor() as cursor:
        cursor.execute(
            _ENTITY_FACET_SQL.format(articles=sql),
            (*params, kinds, places, len(kinds), places, places),
        )
        rows = cursor.fetchall()
    return [FacetValue(slug, name, n, slug in selected, kind=kind) for slug, name, kind, n in rows]


def _ids_sql(articles: QuerySet | list[int]) -> tuple[str, tuple]:
    """(SQL, params) giving the ids of `articles`. Ids already known go as one array:
    looked up among the articles again, each would cost a probe of the article table
    (docs/benchmarks.md)."""
    if isinstance(articles, QuerySet):
        return articles.order_by().values("pk").query.sql_with_params()
    ids = ids_param(articles)
    return ids.sql, ids.params
