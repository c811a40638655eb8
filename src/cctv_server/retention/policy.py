"""Pure: which days to delete, oldest first, and why: age, a camera's size, or free space running out.

A day goes whole (segments, videos, checksums, sidecars, catalog rows). Today and yesterday are
never deleted for age or size, and a held day never at all. When free space falls below
`keep_free`, the oldest days that are not held go, yesterday too if it must be, until it is
back above: losing the oldest footage is better than a camera that cannot record. A camera's
today (and a day after it) is never deleted for free space: what fills a disk today may be
another camera's uploads, and no camera's recording of today pays for them. If only held days
and today's are left, nothing is deleted and the filesystem is reported as stuck.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

AGE, SIZE, FREE = "age", "size", "free space"


@dataclass(frozen=True)
class DayUsage:
    """One day folder as retention sees it."""

    camera: str
    day: str  # YYYY-MM-DD
    size: int  # bytes on disk now: a compacted day counts at its compacted size
    filesystem: int  # st_dev of the root: free space is per filesystem
    held: bool = False


@dataclass(frozen=True)
class Limits:
    """One camera's limits, and its local date today (the camera's time zone decides it)."""

    today: dt.date
    keep_days: int = 0  # 0: no age limit
    max_size: int = 0  # 0: no size limit


@dataclass(frozen=True)
class Space:
    """A filesystem's free bytes now, and how many it must keep free."""

    free: int
    keep_free: int


@dataclass(frozen=True)
class Deletion:
    camera: str
    day: str
    reason: str
    frees: int
    filesystem: int


@dataclass
class Plan:
    deletions: list[Deletion] = field(default_factory=list)
    stuck: list[int] = field(default_factory=list)  # filesystems still short with only held days left

    def reasons(self) -> dict[str, int]:
        """Bytes to be freed per reason."""
        found: dict[str, int] = {}
        for d in self.deletions:
            found[d.reason] = found.get(d.reason, 0) + d.frees
        return found


def plan(days: Iterable[DayUsage], limits: dict[str, Limits], space: dict[int, Space]) -> Plan:
    """Deletions for age, then size (per camera), then free space (per filesystem)."""
    left = sorted(days, key=_oldest)
    result = Plan()
    for reason in (AGE, SIZE):
        chosen = [d for camera, lim in limits.items()
                  for d in (_over_age if reason == AGE else _over_size)(left, camera, lim)]
        result.deletions += [_deletion(d, reason) for d in sorted(chosen, key=_oldest)]
        left = [d for d in left if d not in chosen]
    for fs, room in space.items():
        chosen, short = _for_space(left, fs, room, result.deletions, limits)
        result.deletions += [_deletion(d, FREE) for d in chosen]
        left = [d for d in left if d not in chosen]
        if short:
            result.stuck.append(fs)
    return result


def _oldest(d: DayUsage) -> tuple[str, str]:
    return d.day, d.camera


def _protected(d: DayUsage, lim: Limits) -> bool:
    """Held, or today or yesterday: never deleted for age or size."""
    return d.held or d.day >= (lim.today - dt.timedelta(days=1)).isoformat()


def _over_age(days: list[DayUsage], camera: str, lim: Limits) -> list[DayUsage]:
    if lim.keep_days <= 0:
        return []
    oldest_kept = (lim.today - dt.timedelta(days=lim.keep_days - 1)).isoformat()
    return [d for d in days if d.camera == camera and d.day < oldest_kept and not _protected(d, lim)]


def _over_size(days: list[DayUsage], camera: str, lim: Limits) -> list[DayUsage]:
    if lim.max_size <= 0:
        return []
    mine = [d for d in days if d.camera == camera]
    excess = sum(d.size for d in mine) - lim.max_size
    chosen = []
    for d in mine:  # oldest first
        if excess <= 0:
            break
        if not _protected(d, lim):
            chosen.append(d)
            excess -= d.size
    return chosen


def _for_space(days: list[DayUsage], fs: int, room: Space, already: list[Deletion],
               limits: dict[str, Limits]) -> tuple[list[DayUsage], bool]:
    """The oldest unheld days before their camera's today, of the filesystem, until enough is
    free; and whether it stays short."""
    freed = sum(x.frees for x in already if x.filesystem == fs)
    short = room.keep_free - room.free - freed
    chosen = []
    for d in days:
        if short <= 0:
            break
        if d.filesystem == fs and not d.held and not _today_or_later(d, limits):
            chosen.append(d)
            short -= d.size
    return chosen, short > 0


def _today_or_later(d: DayUsage, limits: dict[str, Limits]) -> bool:
    """The camera's today, or a day after it (an upload for tomorrow): never deleted for space.
    A day of a camera without limits (none given) counts as old."""
    lim = limits.get(d.camera)
    return lim is not None and d.day >= lim.today.isoformat()


def _deletion(d: DayUsage, reason: str) -> Deletion:
    return Deletion(d.camera, d.day, reason, d.size, d.filesystem)
