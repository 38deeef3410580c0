"""Server-rendered charts: the coverage timeline (articles per month, stacked by outlet).

`timeline` turns rows of (month, outlet, articles), counted by the search
backend or kept by the home page's overview, into plain geometry that
templates/articles/_timeline.html draws as SVG, with the same numbers as a table.
Every bar and segment links to the matching search.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from articles.search import month_bounds


@dataclass(frozen=True)
class Layout:
    """A chart's frame in SVG units. `wide` is scaled to the page's width; `narrow`
    is drawn at one unit per CSS pixel on phones, where scaling the wide one down
    made its text about 3 px high and its bars about 4 px wide."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    min_slot: float  # the narrowest a month may be (it scrolls sideways past that)
    max_bar: float  # so that one month is a bar, not a slab across the chart
    bar_share: float  # of a month's slot


WIDE = Layout(960, 240, 40, 8, 12, 28, min_slot=0, max_bar=64, bar_share=0.78)
# Each month at least 30 px, bars 24 px: WCAG 2.5.8's smallest target.
NARROW = Layout(340, 220, 34, 6, 12, 28, min_slot=30, max_bar=48, bar_share=0.8)
WIDTH, HEIGHT = WIDE.width, WIDE.height
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
# Part of every chart's cache key (`Timeline.fingerprint`, a digest of what a chart
# is drawn from): a new number when a change to the drawing changes the markup drawn
# from the same data, so that no page shows markup cached by the code before.
DRAWING_VERSION = 2


@dataclass
class Segment:
    outlet: str
    outlet_slug: str
    count: int
    y: float
    height: float
    colour: str


@dataclass
class Bar:
    month: str  # "2023-01"
    label: str  # "January 2023"
    total: int
    x: float
    width: float
    url: str
    segments: list[Segment] = field(default_factory=list)
    breakdown: str = ""  # "; BBC News 3; Reuters 1" when the bars are stacked by outlet

    @property
    def rects(self) -> SafeString:
        """The segments' SVG rectangles. A list page of a large archive draws
        thousands: through the template, or one `format_html` each, that took
        0.3-0.7 s (docs/benchmarks.md). Numbers and an escaped colour only."""
        x, width = float(self.x), float(self.width)
        return mark_safe(  # noqa: S308 - floats and an escaped colour
            "".join(
                f'<rect x="{x}" y="{float(s.y)}" width="{width}" height="{float(s.height)}"'
                f' fill="{escape(s.colour)}"></rect>'
                for s in self.segments
            )
        )


@dataclass
class Tick:
    x: float
    label: str


@dataclass
class Chart:
    """One drawing of the timeline in one layout."""

    layout: Layout
    width: int
    bars: list[Bar]
    y_ticks: list[tuple[float, int]]
    x_ticks: list[Tick]

    @property
    def height(self) -> int:
        return self.layout.height

    @property
    def plot_left(self) -> int:
        return self.layout.left

    @property
    def plot_right(self) -> int:
        return self.width - self.layout.right

    @property
    def baseline(self) -> int:
        return self.layout.height - self.layout.bottom


@dataclass(frozen=True)
class Drawing:
    months: list[Bar]  # each outlet's count, before drawing: the table
    wide: Chart
    narrow: Chart
    series: list[tuple[str, str, str]]  # (outlet name, slug, colour), the legend


class Timeline:
    """The stacked bars of `rows` (`search.monthly_row`), drawn on first use: a page whose
    markup is cached under `fingerprint` never draws them (thousands of bars on a
    large archive: docs/benchmarks.md)."""

    def __init__(self, rows: list[tuple[date, str, str, int]], params: dict, colours: dict):
        self._rows, self._params, self._colours = rows, params, colours

    @cached_property
    def fingerprint(self) -> str:
        """A digest of everything the chart is drawn from: the key under which its
        rendered markup is cached. Rows in any order give the same chart."""
        inputs = (
            DRAWING_VERSION,
            sorted(self._rows),
            sorted(self._params.items()),
            sorted(self._colours.items()),
        )
        return hashlib.sha256(repr(inputs).encode()).hexdigest()

    @cached_property
    def drawing(self) -> Drawing:
        return _drawing(self._rows, self._params, self._colours)

    @property
    def wide(self) -> Chart:
        return self.drawing.wide

    @property
    def narrow(self) -> Chart:
        return self.drawing.narrow

    @property
    def series(self) -> list[tuple[str, str, str]]:
        return self.drawing.series

    @property
    def total(self) -> int:
        return sum(bar.total for bar in self.drawing.months)

    def rows(self):
        """The table alternative: one row per month with data, and its cells of counts
        by outlet (as `Bar.rects`, thousands of them)."""
        for bar in self.drawing.months:
            if bar.total:
                counts = {s.outlet_slug: s.count for s in bar.segments}
                numbers = (int(counts.get(slug, 0)) for _, slug, _ in self.series)
                cells = "".join(f"<td>{n}</td>" for n in numbers)
                yield bar, mark_safe(cells)  # noqa: S308 - integers only


def outlet_colours(outlets_by_size: list[str]) -> dict[str, str]:
    """slug -> colour, given every outlet's slug, most articles first: the same colour
    for an outlet on every chart (the eight largest get the palette's colours)."""
    return {slug: PALETTE[i] for i, slug in enumerate(outlets_by_size[: len(PALETTE)])}


def timeline(
    rows: list[tuple[date, str, str, int]],
    params: dict | None = None,
    colours: dict[str, str] | None = None,
) -> Timeline | None:
    """The stacked bars, wide and narrow. `params` are added to every link (e.g.
    {"entity": slug}); `colours` (`outlet_colours`) keep each outlet's colour the same
    from chart to chart; outlets without one are grey."""
    if not rows:
        return None
    return Timeline(rows, dict(params or {}), colours or {})


def _drawing(rows: list[tuple[date, str, str, int]], params: dict, colours: dict) -> Drawing:
    totals_by_outlet: dict[str, int] = defaultdict(int)
    names: dict[str, str] = {}
    by_month: dict[str, dict[str, int]] = defaultdict(dict)
    for month, slug, name, count in rows:
        key = month.strftime("%Y-%m")
        by_month[key][slug] = by_month[key].get(slug, 0) + count
        totals_by_outlet[slug] += count
        names[slug] = name
    order = sorted(totals_by_outlet, key=lambda s: (-totals_by_outlet[s], names[s]))
    series = [(names[s], s, colours.get(s, OTHER_COLOUR)) for s in order]
    months = _month_range(min(by_month), max(by_month))
    bars = [_month_bar(month, by_month.get(month, {}), params) for month in months]
    max_count = max(bar.total for bar in bars)
    return Drawing(
        months=bars,
        wide=_draw(WIDE, bars, series, max_count),
        narrow=_draw(NARROW, bars, series, max_count),
        series=series,
    )


def _month_bar(month: str, counts: dict[str, int], params: dict) -> Bar:
    first, last = month_bounds(month)
    url = _search_url({**params, "from": first.isoformat(), "to": last.isoformat()})
    return Bar(
        month,
        first.strftime("%B %Y"),
        sum(counts.values()),
        0,
        0,
        url,
        [Segment(slug, slug, count, 0, 0, "") for slug, count in counts.items()],
    )


def _draw(layout: Layout, months: list[Bar], series, max_count: int) -> Chart:
    """`months` placed in `layout`: x, width and the stacked segments' y and height."""
    scale_top = _nice_ceiling(max_count)
    slot = max(layout.min_slot, (layout.width - layout.left - layout.right) / len(months))
    width = max(layout.width, round(layout.left + layout.right + slot * len(months)))
    bar_width = min(layout.max_bar, max(1.0, slot * layout.bar_share))
    plot_height = layout.height - layout.bottom - layout.top
    bars = []
    for i, month in enumerate(months):
        counts = {s.outlet_slug: s.count for s in month.segments}
        bar = Bar(
            month=month.month,
            label=month.label,
            total=month.total,
            x=round(layout.left + i * slot + (slot - bar_width) / 2, 2),
            width=round(bar_width, 2),
            url=month.url,
        )
        y = layout.height - layout.bottom
        for name, slug, colour, count in _stack(series, counts):
            height = count / scale_top * plot_height
            y -= height
            bar.segments.append(Segment(name, slug, count, round(y, 2), round(height, 2), colour))
        if len(series) > 1:
            bar.breakdown = "".join(f"; {s.outlet} {s.count}" for s in bar.segments)
        bars.append(bar)
    y_ticks = [
        (round(layout.height - layout.bottom - value / scale_top * plot_height, 2), value)
        for value in sorted({0, scale_top // 2, scale_top})
    ]
    return Chart(layout, width, bars, y_ticks, _x_ticks(layout, [b.month for b in bars], slot))


def _stack(series, counts: dict[str, int]) -> list[tuple[str, str, str, int]]:
    """A bar's segments, bottom up: (outlet name, slug, colour, articles) of each outlet
    with a colour, then the grey ones as one segment, "other outlets" when several
    (drawn apart, thirty grey segments a bar made a large archive's page 1 MB; the
    table below the chart still counts each outlet)."""
    coloured, grey = [], []
    for name, slug, colour in series:
        if count := counts.get(slug, 0):
            (grey if colour == OTHER_COLOUR else coloured).append((name, slug, colour, count))
    if len(grey) > 1:
        grey = [(f"{len(grey)} other outlets", "", OTHER_COLOUR, sum(g[3] for g in grey))]
    return coloured + grey


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


def _x_ticks(layout: Layout, months: list[str], slot: float) -> list[Tick]:
    """Every month when there are few; otherwise each January (and the first month)."""
    ticks = []
    for i, month in enumerate(months):
        first, _ = month_bounds(month)
        x = round(layout.left + i * slot + slot / 2, 2)
        if len(months) <= 12:
            ticks.append(Tick(x, first.strftime("%b %Y") if i == 0 else first.strftime("%b")))
        elif month.endswith("-01") or i == 0:
            ticks.append(Tick(x, first.strftime("%Y")))
    if len(months) > 12 and len(ticks) > 1 and ticks[1].x - ticks[0].x < 30:
        del ticks[0]  # the first month's label would overlap the next January's
    return ticks


def _search_url(params: dict) -> str:
    return f"{reverse('search')}?{urlencode(params, doseq=True)}"
