"""Server-rendered charts: the coverage timeline (articles per month, stacked by outlet).

`monthly_counts` is one grouped query; `timeline` turns its rows into plain
geometry that templates/articles/_timeline.html draws as SVG, with the same
numbers as a table. Every bar and segment links to the matching search.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from urllib.parse import urlencode

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncMonth
from django.urls import reverse

from articles.search import month_bounds

WIDTH, HEIGHT = 960, 240
LEFT, RIGHT, TOP, BOTTOM = 40, 8, 12, 28
# Colour-blind-safe (Okabe-Ito), then greys for the long tail of outlets.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
)
OTHER_COLOUR = "#9aa0a6"


@dataclass
class Segment:
    outlet: str
    outlet_slug: str
    count: int
    y: float
    height: float
    colour: str
    url: str


@dataclass
class Bar:
    month: str  # "2023-01"
    label: str  # "January 2023"
    total: int
    x: float
    width: float
    url: str
    segments: list[Segment] = field(default_factory=list)

    @property
    def top(self) -> float:
        return min((s.y for s in self.segments), default=HEIGHT - BOTTOM)


@dataclass
class Tick:
    x: float
    label: str


@dataclass
class Timeline:
    bars: list[Bar]
    series: list[tuple[str, str, str]]  # (outlet name, slug, colour), the legend
    max_count: int
    y_ticks: list[tuple[float, int]]
    x_ticks: list[Tick]
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    baseline: int = HEIGHT - BOTTOM

    @property
    def total(self) -> int:
        return sum(bar.total for bar in self.bars)

    @cached_property
    def fingerprint(self) -> str:
        """A digest of everything the chart draws: the key under which its rendered
        markup is cached (a few thousand values take a template ~250 ms to render)."""
        return hashlib.sha256(repr(self).encode()).hexdigest()

    def rows(self):
        """The table alternative: one row per month with data, counts by outlet."""
        for bar in self.bars:
            if bar.total:
                counts = {s.outlet_slug: s.count for s in bar.segments}
                yield bar, [counts.get(slug, 0) for _, slug, _ in self.series]


def monthly_counts(articles: QuerySet) -> list[tuple[date, str, str, int]]:
    """(month, outlet slug, outlet name, articles) for dated articles, one grouped query."""
    rows = (
        articles.order_by()
        .filter(published_at__isnull=False)
        .annotate(month=TruncMonth("published_at"))
        .values_list("month", "outlet__slug", "outlet__name")
        .annotate(n=Count("pk"))
    )
    return [
        (month.date(), slug or "", name or "Unknown outlet", count)
        for month, slug, name, count in rows
    ]


def timeline(rows: list[tuple[date, str, str, int]], params: dict | None = None) -> Timeline | None:
    """Geometry for the stacked bars. `params` are added to every link (e.g. {"entity": slug})."""
    if not rows:
        return None
    params = dict(params or {})
    totals_by_outlet: dict[str, int] = defaultdict(int)
    names: dict[str, str] = {}
    by_month: dict[str, dict[str, int]] = defaultdict(dict)
    for month, slug, name, count in rows:
        key = month.strftime("%Y-%m")
        by_month[key][slug] = by_month[key].get(slug, 0) + count
        totals_by_outlet[slug] += count
        names[slug] = name
    order = sorted(totals_by_outlet, key=lambda s: (-totals_by_outlet[s], names[s]))
    colours = {
        slug: PALETTE[i] if i < len(PALETTE) else OTHER_COLOUR for i, slug in enumerate(order)
    }
    months = _month_range(min(by_month), max(by_month))
    max_count = max(sum(c.values()) for c in by_month.values())
    scale_top = _nice_ceiling(max_count)
    plot_width = WIDTH - RIGHT - LEFT
    plot_height = HEIGHT - BOTTOM - TOP
    slot = plot_width / len(months)
    bar_width = max(1.0, slot * 0.78)
    bars = []
    for i, month in enumerate(months):
        first, last = month_bounds(month)
        bar_params = {**params, "from": first.isoformat(), "to": last.isoformat()}
        bar = Bar(
            month=month,
            label=first.strftime("%B %Y"),
            total=sum(by_month.get(month, {}).values()),
            x=round(LEFT + i * slot + (slot - bar_width) / 2, 2),
            width=round(bar_width, 2),
            url=_search_url(bar_params),
        )
        y = HEIGHT - BOTTOM
        for slug in order:
            count = by_month.get(month, {}).get(slug, 0)
            if not count:
                continue
            height = count / scale_top * plot_height
            y -= height
            segment_params = {**bar_params, "outlet": slug} if slug else bar_params
            bar.segments.append(
                Segment(
                    names[slug],
                    slug,
                    count,
                    round(y, 2),
                    round(height, 2),
                    colours[slug],
                    _search_url(segment_params),
                )
            )
        bars.append(bar)
    y_ticks = [
        (round(HEIGHT - BOTTOM - value / scale_top * plot_height, 2), value)
        for value in sorted({0, scale_top // 2, scale_top})
    ]
    return Timeline(
        bars=bars,
        series=[(names[s], s, colours[s]) for s in order],
        max_count=max_count,
        y_ticks=y_ticks,
        x_ticks=_x_ticks(months, slot),
    )


def _month_range(first: str, last: str) -> list[str]:
    year, month = (int(p) for p in first.split("-"))
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _nice_ceiling(value: int) -> int:
    """The smallest of 2, 4, 6, 10, 20, 40, 60, 100 ... at or above value (halves stay whole)."""
    step = 1
    while True:
        for multiple in (2, 4, 6, 10):
            if multiple * step >= value:
                return multiple * step
        step *= 10


def _x_ticks(months: list[str], slot: float) -> list[Tick]:
    """Every month when there are few; otherwise each January (and the first month)."""
    ticks = []
    for i, month in enumerate(months):
        first, _ = month_bounds(month)
        x = round(LEFT + i * slot + slot / 2, 2)
        if len(months) <= 12:
            ticks.append(Tick(x, first.strftime("%b %Y") if i == 0 else first.strftime("%b")))
        elif month.endswith("-01") or i == 0:
            ticks.append(Tick(x, first.strftime("%Y")))
    if len(months) > 12 and len(ticks) > 1 and ticks[1].x - ticks[0].x < 30:
        del ticks[0]  # the first month's label would overlap the next January's
    return ticks


def _search_url(params: dict) -> str:
    return f"{reverse('search')}?{urlencode(params, doseq=True)}"
