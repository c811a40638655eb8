"""Pure: what the player page is told about a day: footage runs in clock and playlist time, zone offsets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from .. import layout
from ..footage import timeline
from ..footage.day import Piece
from ..footage.timeline import WALL_TOLERANCE

OFFSET_STEP = 900  # seconds: zone offsets change on a quarter hour at the finest


@dataclass(frozen=True)
class Run:
    """Footage without a break: clock start and end, and the playlist time at its start.

    Within a run, playlist time and clock time advance together, so one subtraction maps
    a click on the timeline to a seek position, and a playing position to a clock time.
    """

    start: float
    end: float
    position: float


def runs(pieces: Sequence[Piece], tolerance: float = WALL_TOLERANCE) -> list[Run]:
    """The runs of a day's pieces, in playlist order (a playlist lists the pieces in this order)."""
    found: list[Run] = []
    position = 0.0
    for piece in pieces:
        end = piece.start + piece.duration
        last = found[-1] if found else None
        if last and not piece.discontinuity and abs(piece.start - last.end) <= tolerance:
            found[-1] = Run(last.start, end, last.position)
        else:
            found.append(Run(piece.start, end, position))
        position += piece.duration
    return found


def offsets(day: str, tz: ZoneInfo) -> list[tuple[float, int]]:
    """(instant, UTC offset in seconds) from the day's start and at each change within it,
    so the page turns `14:32` into an instant on days of 23 and 25 hours too."""
    start, end = timeline.day_bounds(day, tz)
    found = [(start, _offset(start, tz))]
    t = start
    while t < end:
        step = min(t + OFFSET_STEP, end)
        if _offset(step, tz) != found[-1][1] and step < end:
            found.append((_change_between(t, step, tz), _offset(step, tz)))
        t = step
    return found


def _offset(t: float, tz: ZoneInfo) -> int:
    delta = dt.datetime.fromtimestamp(t, tz).utcoffset()
    return int(delta.total_seconds()) if delta else 0


def _change_between(lo: float, hi: float, tz: ZoneInfo) -> float:
    """The first whole second in (lo, hi] with the offset of `hi`."""
    target = _offset(hi, tz)
    lo_i, hi_i = int(lo), int(hi)
    while hi_i - lo_i > 1:
        mid = (lo_i + hi_i) // 2
        if _offset(mid, tz) == target:
            hi_i = mid
        else:
            lo_i = mid
    return float(hi_i)


def neighbours(days: Sequence[str], day: str) -> tuple[str | None, str | None]:
    """The days with footage before and after `day` (which need not have any itself)."""
    earlier = [d for d in days if d < day]
    later = [d for d in days if d > day]
    return (max(earlier) if earlier else None, min(later) if later else None)


@dataclass(frozen=True)
class Download:
    """A day's compacted video as the page offers it."""

    name: str
    size: int
    checksum: bool  # a `.sha512sum` file sits beside it
    codec: str | None  # RFC 6381, e.g. `hvc1.1.6.L93.B0`; None when unreadable


def day_view(day: str, tz: ZoneInfo, pieces: Sequence[Piece], days: Sequence[str],
             downloads: Sequence[Download], now: float) -> dict:
    """The JSON the player page starts from (and polls while the day is still being recorded)."""
    start, end = timeline.day_bounds(day, tz)
    prev, following = neighbours(days, day)
    return {
        "day": day,
        "timezone": tz.key,
        "start": start,
        "end": end,
        "ended": now >= end,
        "offsets": offsets(day, tz),
        "runs": [[r.start, r.end, r.position] for r in runs(pieces)],
        "playlist": f"playlist.m3u8?date={day}",
        "prev": prev,
        "next": following,
        "videos": [
            {"url": f"{day}/{d.name}", "name": d.name, "size": d.size, "codec": d.codec,
             "checksum": f"{day}/{d.name}{layout.CHECKSUM_SUFFIX}" if d.checksum else None}
            for d in downloads
        ],
    }
