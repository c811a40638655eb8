"""Pure: which compacted days are due to move to the store, given `archive_after` and the clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo


def day_end(day: str, tz: ZoneInfo) -> float:
    """Unix seconds of the midnight that ends the day, in its zone."""
    date = dt.date.fromisoformat(day) + dt.timedelta(days=1)
    return dt.datetime.combine(date, dt.time(), tz).timestamp()


def due(compacted: Iterable[str], now: float, after: float, tz: ZoneInfo) -> list[str]:
    """The compacted days (each all video, nothing left to compact) that ended `after`
    seconds or more before `now`, oldest first; with `after` 0, every one that has ended."""
    return sorted(d for d in compacted if now >= day_end(d, tz) + after)
