"""The archive's overview: the home page's archive-wide figures (counts, articles per
month and outlet, most mentioned lately, outlets and topics with their articles).

Each figure reads the whole archive, too much for a page view on a large one
(docs/benchmarks.md), so they are kept in the database (ArchiveOverview) with the
content version they were computed at (articles/cache.py). A load computes them
before it reports (`refresh`); any other change (a curator's edit, a merge) moves
the version on, and the next reader computes them again (`current`). So the figures
a page shows are never older than the data it reads, whatever RESULT_CACHE_SECONDS
says. Stored as JSON: plain values, no model instances."""

from __future__ import annotations

import heapq
from collections import Counter
from datetime import date
from functools import cached_property

from django.db import DEFAULT_DB_ALIAS, router
from django.db.models import Count, DateField, Exists, OuterRef
from django.db.models.functions import TruncMonth

from articles import cache, charts
from articles.models import (
    ArchiveOverview,
    Article,
    Entity,
    Mention,
    Outlet,
    Section,
    Topic,
)
from articles.search import FACET_SAMPLE, monthly_row, newest_first

TOP_ENTITIES = 16
# What the figures hold and how: a new number when that changes, so that code after
# a deploy never reads figures the code before it kept.
FORMAT = 1


class _Read:
    """The overview this process read last, and the home page's chart of it: reading
    and parsing the figures took a share of every home and list page, the chart's
    fingerprint as much again on the home page (docs/benchmarks.md). Known by the
    stored row's version and time of computing, which no other row shares."""

    def __init__(self, stamp: tuple, figures: dict):
        self.stamp, self.figures = stamp, figures

    @cached_property
    def timeline(self) -> charts.Timeline | None:
        colours = charts.outlet_colours(outlets_by_size(self.figures))
        return charts.timeline(monthly_rows(self.figures), colours=colours)


_last_read: list[_Read] = []


def current() -> dict:
    """The overview at the content version this request reads."""
    return _current().figures


def current_with_chart() -> tuple[dict, charts.Timeline | None]:
    """`current()` and the home page's chart of its articles per month and outlet."""
    read = _current()
    return read.figures, read.timeline


def _current() -> _Read:
    version = cache.content_version()
    stored = ArchiveOverview.objects.using(router.db_for_read(ArchiveOverview))
    computed_at = stored.filter(version=version).values_list("computed_at", flat=True).first()
    if _last_read and _last_read[0].stamp == (version, computed_at):
        return _last_read[0]
    figures = (
        stored.filter(version=version, figures__format=FORMAT)
        .values_list("figures", flat=True)
        .first()
    )
    if figures is None:
        figures = refresh(version)
        computed_at = stored.filter(version=version).values_list("computed_at", flat=True).first()
        if computed_at is None:  # not visible here yet (a replica): read next time
            return _Read((version, None), figures)
    read = _Read((version, computed_at), figures)
    _last_read[:] = [read]
    return read


def refresh(version: int | None = None) -> dict:
    """Compute the overview and keep it for `version` (the current one if not given:
    read before the figures, so they are never older than it)."""
    if version is None:
        version = cache.content_version()
    figures = compute()
    ArchiveOverview.objects.using(DEFAULT_DB_ALIAS).bulk_create(
        [ArchiveOverview(pk=1, version=version, figures=figures)],
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=["version", "figures", "computed_at"],
    )
    return figures


def compute() -> dict:
    public = Article.objects.public()
    shape = _archive_shape(public)
    outlets = _outlets()
    return {
        "format": FORMAT,
        "counts": {**_article_counts(shape), "outlets": len(outlets)},
        "months": _monthly_counts(shape, outlets),
        "top_entities": _top_entities(public, TOP_ENTITIES),
        "outlets": outlets,
        "topics": _topics(),
    }


def monthly_rows(overview: dict) -> list[tuple[date, str, str, int]]:
    """The overview's articles per month and outlet as `charts.timeline` takes them."""
    return [(date.fromisoformat(month), *rest) for month, *rest in overview["months"]]


def outlets_by_size(overview: dict) -> list[str]:
    """Every outlet's slug, most public articles first (what `charts.outlet_colours`
    takes)."""
    return [outlet["slug"] for outlet in overview["outlets"]]


def _archive_shape(public) -> list[tuple[int | None, str, date | None, int]]:
    """(outlet id, kind, month, articles): public articles counted in one scan, which
    the article counts and the timeline share."""
    return list(
        # A date, not an aware datetime: a third of the time of thousands of rows.
        public.annotate(month=TruncMonth("published_at", output_field=DateField()))
        .values_list("outlet_id", "kind", "month")
        .annotate(articles=Count("pk"))
        .order_by("month", "outlet_id", "kind")  # the same figures, the same JSON
    )


def _monthly_counts(shape, outlets: list[dict]) -> list[list]:
    """(month, outlet slug, outlet name, articles) of dated public articles, kinds
    together, the month as an ISO date (`search.monthly_row`, kept as JSON)."""
    by_id = {outlet["id"]: outlet for outlet in outlets}
    articles_by: Counter = Counter()
    for outlet_id, _, month, articles in shape:
        if month is not None:
            articles_by[month, outlet_id] += articles
    rows = []
    for (month, outlet_id), articles in articles_by.items():
        outlet = by_id.get(outlet_id, {})
        row = monthly_row(month, outlet.get("slug"), outlet.get("name"), articles)
        rows.append([month.isoformat(), *row[1:]])
    return rows


def _article_counts(shape) -> dict[str, int]:
    # Entries and entities: the whole archive's less what hidden articles hold.
    hidden = Article.objects.hidden()
    return {
        "articles": sum(articles for *_, articles in shape),
        "live": sum(articles for _, kind, _, articles in shape if kind == Article.Kind.LIVE),
        "entries": Section.objects.count() - Section.objects.filter(article__in=hidden).count(),
        "entities": _named_entities() - _named_only_in(hidden),
    }


def _named_entities() -> int:
    return Entity.objects.filter(Exists(Mention.objects.filter(entity=OuterRef("pk")))).count()


def _named_only_in(articles) -> int:
    """Entities mentioned in these articles and in no public one."""
    in_public = Mention.objects.filter(entity=OuterRef("entity"), article__is_public=True)
    return (
        Mention.objects.filter(article__in=articles)
        .exclude(Exists(in_public))
        .values("entity")
        .distinct()
        .count()
    )


def _top_entities(public, limit: int) -> list[dict]:
    """The entities named in most of the newest FACET_SAMPLE public articles: what the
    coverage is about lately, and a bounded read (counting over every article reads
    every mention: docs/benchmarks.md)."""
    newest = public.order_by(*newest_first()).values("pk")[:FACET_SAMPLE]
    # Counted by entity id from the (article, entity) index, and only the leaders'
    # names read: joining every mention to its entity first took most of the time.
    naming = dict(
        Mention.objects.filter(article__in=newest)
        .values("entity_id")
        .annotate(articles=Count("article_id", distinct=True))
        .values_list("entity_id", "articles")
    )
    if not naming:
        return []
    least = heapq.nlargest(limit, naming.values())[-1]
    leaders = Entity.objects.filter(pk__in=[pk for pk, n in naming.items() if n >= least])
    by_name = leaders.order_by("name").values("pk", "slug", "name")
    # A stable sort: entities named in as many articles stay in name order.
    ranked = sorted(by_name, key=lambda entity: -naming[entity["pk"]])[:limit]
    return [
        {
            "slug": entity["slug"],
            "name": entity["name"],
            "articles": naming[entity["pk"]],
        }
        for entity in ranked
    ]


def _outlets() -> list[dict]:
    """Outlets with public articles, most first: id, slug, name, articles."""
    outlets = Outlet.objects.with_public_counts().order_by("-article_count", "name")
    return [
        {"id": pk, "slug": slug, "name": name, "articles": articles}
        for pk, slug, name, articles in outlets.values_list("pk", "slug", "name", "article_count")
    ]


def _topics() -> list[dict]:
    topics = Topic.objects.with_public_counts().order_by("name")
    return [
        {"slug": slug, "name": name, "articles": articles}
        for slug, name, articles in topics.values_list("slug", "name", "article_count")
    ]
