"""A camera's events by day, by range and around a moment, read from its activity index.

A day's events are found again from its seconds whenever its rows change (a few milliseconds
for a day), so a new `activity_threshold` applies to every day at once, old ones included.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from ..errors import InvalidInput
from . import events
from .events import Event
from .index import Index, path_for

CACHED_DAYS = 64
MAX_DAYS = 400  # a search spans at most this many days
LOOK_AROUND = 366  # days "next event" and "previous event" look through


class CameraActivity:
    """One camera's events: its index, threshold and time zone."""

    def __init__(self, camera: str, index: Index, threshold: float, tz: ZoneInfo):
        self.camera, self.index, self.threshold, self.tz = camera, index, threshold, tz
        self._cache: OrderedDict[str, tuple[tuple, list[Event]]] = OrderedDict()
        self._lock = threading.Lock()

    def day(self, day: str) -> list[Event]:
        """A day's events in time order."""
        version = self.index.version(day)
        with self._lock:
            cached = self._cache.get(day)
            if cached and cached[0] == version:
                self._cache.move_to_end(day)
                return cached[1]
        found = events.find(self.index.seconds(day), self.threshold, self.camera, day)
        with self._lock:
            self._cache[day] = (version, found)
            while len(self._cache) > CACHED_DAYS:
                self._cache.popitem(last=False)
        return found

    def between(self, start: float, end: float, min_score: float = 0.0) -> list[Event]:
        """The events overlapping [start, end) with at least this score, newest first."""
        first, last = _local_day(start, self.tz), _local_day(end, self.tz)
        found = [e for d in self.index.days(first, last) for e in self.day(d)
                 if e.score >= min_score]
        return sorted(events.overlapping(found, start, end), key=lambda e: -e.start)

    def after(self, moment: float) -> Event | None:
        """The first event starting after `moment`, on its day or a later one."""
        first = _local_day(moment, self.tz)
        for d in self.index.days(first)[:LOOK_AROUND]:
            found = [e for e in self.day(d) if e.start > moment + 0.5]
            if found:
                return found[0]
        return None

    def before(self, moment: float) -> Event | None:
        """The last event starting before `moment`, on its day or an earlier one."""
        last = _local_day(moment, self.tz)
        for d in reversed(self.index.days("", last)[-LOOK_AROUND:]):
            found = [e for e in self.day(d) if e.start < moment - 0.5]
            if found:
                return found[-1]
        return None

    def recent(self, since: float) -> list[Event]:
        """Events whose peak is at or after `since`, oldest first: what an alert loop polls
        (`since` = the last peak it saw, plus one). An event still under way may grow."""
        days = self.index.days(_local_day(since, self.tz))
        return [e for d in days for e in self.day(d) if e.peak >= since]

    def still(self, event: Event) -> bytes | None:
        """The JPEG at the event's peak, if one was made (activity/stills.py)."""
        return self.index.still(event.day, event.peak)


def _local_day(moment: float, tz: ZoneInfo) -> str:
    return dt.datetime.fromtimestamp(moment, tz).date().isoformat()


def parse_time(text: str | None, tz: ZoneInfo, what: str) -> float:
    """Unix seconds of ISO 8601 text: with an offset (`Z`, `+01:00`) as it says, without one in
    the camera's zone; a bare date is its midnight. InvalidInput naming `what` otherwise."""
    if not text:
        raise InvalidInput(f"{what} is missing: give an ISO 8601 time, e.g. 2026-11-20T18:00")
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError:
        raise InvalidInput(f"{what} {text!r} is not an ISO 8601 time like 2026-11-20T18:00 or"
                           " 2026-11-20T18:00+01:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.timestamp()


def search(cameras: dict[str, CameraActivity], start: float, end: float,
           min_score: float = 0.0) -> list[Event]:
    """Every event of these cameras overlapping [start, end), newest first."""
    if end <= start:
        raise InvalidInput("the end of the search must come after its start")
    if end - start > MAX_DAYS * 86400:
        raise InvalidInput(f"a search spans at most {MAX_DAYS} days")
    found = [e for c in cameras.values() for e in c.between(start, end, min_score)]
    return sorted(found, key=lambda e: (-e.start, e.camera))


def iso(moment: float, tz: ZoneInfo) -> str:
    """ISO 8601 with the UTC offset, to the second."""
    return dt.datetime.fromtimestamp(round(moment), tz).isoformat()


def as_json(event: Event, tz: ZoneInfo) -> dict:
    return {"camera": event.camera, "start": iso(event.start, tz), "end": iso(event.end, tz),
            "peak": iso(event.peak, tz), "score": event.score, "day": event.day}


def pages(items: list, page: int, size: int) -> Iterator:
    """Items of one page (from 1)."""
    return iter(items[(page - 1) * size: page * size])


def for_camera(settings) -> CameraActivity:
    """A camera's events read from its index (beside its catalog), for whoever polls them
    outside the web server (an alerts loop): `for_camera(s).recent(since)`, `.still(event)`."""
    return CameraActivity(settings.camera, Index(path_for(settings.catalog_path)),
                          settings.activity_threshold, settings.tz)
