"""Pure: how fast cameras fill a disk, before and after compaction, and how long the disk lasts at that rate."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

RECENT_DAYS = 7  # whole days the recording rate is taken from
RECENT_COMPACTED = 30  # compacted days the compaction ratio is taken from


@dataclass(frozen=True)
class DayBytes:
    """A day's bytes as recorded (its segments, or its compaction's input once compacted) and,
    once compacted, the bytes of its videos."""

    day: str
    before: int
    after: int | None = None


@dataclass(frozen=True)
class Rate:
    """Bytes a day as recorded, and once compacted (the recent compaction ratio applied)."""

    before: float
    after: float


@dataclass(frozen=True)
class Forecast:
    holds_days: float  # days of recordings the disk holds at this rate (what retention keeps)
    full_in_days: float  # days until free space reaches keep_free if nothing were deleted


def day_bytes(days: Iterable, compactions: dict[str, dict]) -> list[DayBytes]:
    """From the catalog's day summaries and compaction rows, oldest first."""
    found = []
    for d in sorted(days, key=lambda d: d.day):
        row = compactions.get(d.day) or {}
        if d.videos and row.get("input_size"):
            found.append(DayBytes(d.day, row["input_size"] + d.size, d.video_size + d.size))
        else:
            found.append(DayBytes(d.day, d.size + d.video_size))
    return found


def rate(days: Sequence[DayBytes], today: str) -> Rate | None:
    """The mean of the last RECENT_DAYS whole days with footage (today is not over yet), and
    that shrunk by the ratio of the recent compactions; None before a whole day is recorded."""
    whole = [d for d in days if d.day < today and d.before > 0][-RECENT_DAYS:]
    if not whole:
        return None
    before = sum(d.before for d in whole) / len(whole)
    compacted = [d for d in days if d.after][-RECENT_COMPACTED:]
    shrunk, made = sum(d.before for d in compacted), sum(d.after or 0 for d in compacted)
    return Rate(before, before * made / shrunk if shrunk and made else before)


def forecast(rates: Sequence[Rate], used: int, free: int, keep_free: int,
             raw_days: int) -> Forecast | None:
    """For the cameras sharing a disk: `used` is their recordings' bytes on it. The newest
    `raw_days` days are segments (not compacted yet, `settle`), the older ones videos."""
    before = sum(r.before for r in rates)
    after = sum(r.after for r in rates)
    if before <= 0 or after <= 0:
        return None
    room = max(0, used + free - keep_free)
    if room <= raw_days * before:
        holds = room / before
    else:
        holds = raw_days + (room - raw_days * before) / after
    return Forecast(holds, max(0, free - keep_free) / after)


def raw_days(settle: float) -> int:
    """Days a camera keeps as segments: today, and the days still settling."""
    return 1 + math.ceil(settle / 86400)
