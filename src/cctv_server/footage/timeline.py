"""Pure: a day's bounds on the wall clock, a segment's clock time from its name, placing segments, gaps."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ..media.mpegts import CLOCK, WRAP

PTS_TOLERANCE = 1.0  # seconds: a segment boundary is off by a frame, a lost segment by ~10 s
WALL_TOLERANCE = 2.0  # seconds: names hold whole seconds, segments are cut at keyframes
# How far a time read from a name may lie outside its folder's day: a segment begun before
# midnight, a camera a zone away. Further off, the name is not a time (or a wrong one).
NAME_SLACK = 86400.0


def local_date(t: float, tz: ZoneInfo) -> str:
    """The day (YYYY-MM-DD) that instant `t` falls on in the zone."""
    return dt.datetime.fromtimestamp(t, tz).date().isoformat()


def day_bounds(day: str, tz: ZoneInfo) -> tuple[float, float]:
    """Start and end (Unix seconds) of a local calendar day: 23 or 25 hours long at DST changes."""
    date = dt.date.fromisoformat(day)
    start = dt.datetime.combine(date, dt.time(), tzinfo=tz)
    end = dt.datetime.combine(date + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    return start.timestamp(), end.timestamp()


_NAME_DATETIME = re.compile(
    r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})[T_ -]?(\d{2})[-:_]?(\d{2})[-:_]?(\d{2})(?!\d)"
)
_NAME_TIME = re.compile(r"(?<!\d)(\d{2})[-:_](\d{2})[-:_](\d{2})(?!\d)")
_NAME_EPOCH = re.compile(r"(?<!\d)(\d{10}|\d{13})(?!\d)")


def time_from_name(name: str, day: str, tz: ZoneInfo) -> float | None:
    """Wall-clock start (Unix seconds) held in a segment's name, if it holds one within a day
    of its folder's day (`day` must be a day the server looks at: layout.out_of_range)."""
    stem = name.rsplit(".", 1)[0]
    start, end = day_bounds(day, tz)
    for parse in (_datetime_in, _epoch_in, _time_in):
        found = parse(stem, day, tz)
        if found is not None and start - NAME_SLACK <= found <= end + NAME_SLACK:
            return found
    return None


def dated_time_from_name(name: str, tz: ZoneInfo) -> float | None:
    """The instant a name holds with its own date (`2026-11-22_14-32-05`, an epoch), if any: what
    an uploader files a segment under when its folder does not say the day."""
    stem = name.rsplit(".", 1)[0]
    return _datetime_in(stem, "", tz) or _epoch_in(stem, "", tz)


def _datetime_in(stem: str, day: str, tz: ZoneInfo) -> float | None:
    match = _NAME_DATETIME.search(stem)
    if not match:
        return None
    try:
        return dt.datetime(*map(int, match.groups()), tzinfo=tz).timestamp()
    except (ValueError, OverflowError):  # not a date; or year 1 in a zone east of UTC
        return None


def _epoch_in(stem: str, day: str, tz: ZoneInfo) -> float | None:
    match = _NAME_EPOCH.search(stem)
    if not match:
        return None
    digits = match.group(1)
    return int(digits) / (1000 if len(digits) == 13 else 1)


def _time_in(stem: str, day: str, tz: ZoneInfo) -> float | None:
    match = _NAME_TIME.search(stem)
    if not match:
        return None
    try:
        clock = dt.time(*map(int, match.groups()))
    except ValueError:
        return None
    return dt.datetime.combine(dt.date.fromisoformat(day), clock, tzinfo=tz).timestamp()


@dataclass(frozen=True)
class Segment:
    """One catalogued `.ts` file: what the catalog stores about it."""

    day: str
    name: str
    size: int
    mtime_ns: int
    first_pts: int | None
    duration: float
    name_time: float | None = None
    error: str | None = None

    @property
    def mtime(self) -> float:
        return self.mtime_ns / 1e9


@dataclass(frozen=True)
class Placed:
    """A segment with its wall-clock start, and whether it follows its predecessor seamlessly."""

    segment: Segment
    start: float
    discontinuity: bool

    @property
    def end(self) -> float:
        return self.start + self.segment.duration


def place(segments: Iterable[Segment], prev: Placed | None = None) -> Iterator[Placed]:
    """Wall-clock start of each playable segment, in the given (catalog) order.

    The start comes from the name when it holds a time; else, when the timestamps run on from
    the previous segment, from the previous one's end; else from mtime minus duration (upload
    time: the least reliable, which is why it is the last resort). `prev` is the segment before
    the first, e.g. the last of the previous day, so that midnight is no discontinuity.
    """
    for seg in segments:
        if seg.error or seg.first_pts is None:
            continue
        follows = prev is not None and _pts_follows(prev.segment, seg)
        if seg.name_time is not None:
            start = seg.name_time
        elif follows:
            start = prev.end
        else:
            start = seg.mtime - seg.duration
        gap = prev is not None and abs(start - prev.end) > WALL_TOLERANCE
        placed = Placed(seg, start, discontinuity=prev is not None and (not follows or gap))
        yield placed
        prev = placed


def _pts_follows(a: Segment, b: Segment) -> bool:
    expected = (a.first_pts + round(a.duration * CLOCK)) % WRAP
    drift = (b.first_pts - expected) % WRAP
    drift = min(drift, WRAP - drift)
    return drift <= PTS_TOLERANCE * CLOCK


@dataclass(frozen=True)
class Gap:
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


def gaps(spans: list[tuple[float, float]], min_seconds: float = WALL_TOLERANCE) -> list[Gap]:
    """Spans of wall-clock time with no footage between (start, end) spans of footage."""
    found, covered = [], None
    for start, end in sorted(spans):
        if covered is not None and start - covered > min_seconds:
            found.append(Gap(covered, start))
        covered = end if covered is None else max(covered, end)
    return found
