"""The compaction state of each day, read from the catalog: for the index page and `cctv-server status`."""

from __future__ import annotations

from ..config import Settings
from ..footage.catalog import Catalog, DaySummary
from . import schedule
from .schedule import DayState, day_state, eligible_at


def states(catalog: Catalog, settings: Settings, now: float, clock, size,
           days: list[DaySummary] | None = None) -> dict[str, DayState]:
    """day -> its state; `clock(seconds)` and `size(bytes)` format the text."""
    rows = catalog.compactions()
    days = catalog.days() if days is None else days
    return {d.day: state_of(d, rows.get(d.day), settings, now, clock, size) for d in days}


def state_of(d: DaySummary, row: dict | None, settings: Settings, now: float, clock,
             size) -> DayState:
    ready = (row or {}).get("eligible_at")
    if ready is None and d.segments:
        # No compactor has looked at this day yet: the catalog's arrival time is the best guess.
        ready = eligible_at(d.day, settings.tz, settings.settle, settings.quiet, d.last_arrival)
    return day_state(segments=d.segments + d.errors, videos=d.videos, video_size=d.video_size,
                     row=row, ready_at=ready, now=now, clock=clock, size=size,
                     retries=settings.compaction_retries)


def given_up(catalog: Catalog, settings: Settings) -> list[str]:
    """The days whose compaction the compactor no longer retries, as /healthz and the index
    page name them (not a day whose segments have all gone since)."""
    if not settings.compaction_retries:
        return []
    rows = catalog.failing(settings.compaction_retries)
    found = []
    for day in sorted(rows):
        summary = catalog.day(day)
        if summary is not None and summary.segments:
            found.append(f"compaction of {day} {schedule.given_up_text(rows[day], day)}")
    return found
