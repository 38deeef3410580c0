"""Days and months as the search filters and facets read them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time


def month_bounds(month: str) -> tuple[date, date]:
    """'2023-01' -> (2023-01-01, 2023-01-31)."""
    year, number = (int(part) for part in month.split("-"))
    first = date(year, number, 1)
    following = date(year + number // 12, number % 12 + 1, 1)
    return first, date.fromordinal(following.toordinal() - 1)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def day_end(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=UTC)


def searched_range(start: date | None, end: date | None) -> str:
    """The publication dates a search was limited to, in words ("" for none)."""
    if start and end:
        return f"Published from {start:%-d %B %Y} to {end:%-d %B %Y} (UTC)."
    if start:
        return f"Published on or after {start:%-d %B %Y} (UTC)."
    if end:
        return f"Published on or before {end:%-d %B %Y} (UTC)."
    return ""
