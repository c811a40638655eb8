"""One retention pass over the cameras: measure the disk, plan (policy.py), delete whole days, record each.

Every deletion is logged, written to the audit log and dropped from the camera's catalog. A day
that a compaction holds is left for the next pass, and the plan is made again without it, so
that free space is still found elsewhere.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import format, layout
from ..access.audit import AuditLog
from ..cameras import Camera
from . import archived, delete, holds, policy
from .policy import FREE, DayUsage, Deletion, Limits, Plan, Space
from .space import Disk, disk

log = logging.getLogger(__name__)

AUDIT_EVENT = "retention-delete"
INTERRUPTED = "interrupted"  # the reason of a deletion finished after a crash: it was not noted
Forget = Callable[[str, str], None]  # (camera, day): drop the day's catalog rows


@dataclass
class Survey:
    """What the policy needs: every day's size and hold, each camera's limits, each filesystem."""

    days: list[DayUsage]
    limits: dict[str, Limits]
    disks: dict[int, Disk]

    def space(self) -> dict[int, Space]:
        return {dev: Space(d.free, d.keep_free) for dev, d in self.disks.items()}


@dataclass
class Result:
    plan: Plan
    disks: dict[int, Disk]
    deleted: list[Deletion] = field(default_factory=list)
    kept: list[tuple[Deletion, str]] = field(default_factory=list)  # (deletion, why not now)
    finished: list[Deletion] = field(default_factory=list)  # interrupted by a crash before

    @property
    def short(self) -> list[Disk]:
        """The filesystems below keep_free when the pass began: an emergency."""
        return [d for d in self.disks.values() if d.short > 0]

    @property
    def stuck(self) -> list[Disk]:
        return [self.disks[dev] for dev in self.plan.stuck]


def disks(cameras: Sequence[Camera]) -> dict[int, Disk]:
    """Each filesystem holding a root, keeping the largest `keep_free` of its cameras."""
    found: dict[int, Disk] = {}
    for camera in cameras:
        d = disk(camera.root, camera.settings.keep_free)
        if d.dev not in found or d.keep_free > found[d.dev].keep_free:
            found[d.dev] = d
    return found


def short(cameras: Sequence[Camera]) -> list[Disk]:
    """The cheap check, every minute: the filesystems below keep_free now."""
    return [d for d in disks(cameras).values() if d.short > 0]


def survey(cameras: Sequence[Camera], now: float) -> Survey:
    """Measure every day folder of every camera (the disk is the truth, not the catalog)."""
    days, limits = [], {}
    for camera in cameras:
        s = camera.settings
        today = dt.datetime.fromtimestamp(now, s.tz).date()
        limits[camera.name] = Limits(today, s.keep_days, s.max_size)
        dev = os.stat(camera.root).st_dev
        for day in layout.list_days(camera.root, today):
            folder = camera.root / day
            days.append(DayUsage(camera.name, day, size_on_disk(folder), dev,
                                 holds.get(camera.root, day) is not None))
    return Survey(days, limits, disks(cameras))


def size_on_disk(folder: Path) -> int:
    """Bytes the folder's files take (allocated blocks, as `du` counts): what deleting it frees."""
    total = 0
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return 0
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                total += size_on_disk(Path(entry.path))
            else:
                total += entry.stat(follow_symlinks=False).st_blocks * 512
        except FileNotFoundError:  # gone since the listing (a compaction finishing)
            continue
    return total


def run(cameras: Sequence[Camera], now: float, audit: AuditLog | None = None,
        forget: Forget | None = None, dry_run: bool = False, by: str = "retention") -> Result:
    """Plan, and unless `dry_run` delete, every day the policy gives up, oldest first."""
    finished = [] if dry_run else finish(cameras, now, audit, forget, by)
    found = survey(cameras, now)
    result = Result(policy.plan(found.days, found.limits, found.space()), found.disks,
                    finished=finished)
    _say_emergency(result)
    if dry_run:
        return result
    roots = {c.name: c.root for c in cameras}
    _execute(result, result.plan.deletions, roots, audit, forget, by, now)
    busy = {(d.camera, d.day) for d, why in result.kept}
    if busy and any(d.reason == FREE for d in result.plan.deletions):
        # A day being compacted cannot go now: plan again without it for the space still missing.
        again = survey(cameras, now)
        days = [d for d in again.days if (d.camera, d.day) not in busy]
        more = policy.plan(days, again.limits, again.space())
        _execute(result, more.deletions, roots, audit, forget, by, now)
        result.plan.deletions.extend(more.deletions)  # the plan says all that was tried
        result.plan.stuck = more.stuck
    _say_stuck(result)
    return result


def finish(cameras: Sequence[Camera], now: float, audit: AuditLog | None = None,
           forget: Forget | None = None, by: str = "retention") -> list[Deletion]:
    """Finish the deletions a crash interrupted (delete.py), each recorded as any other, with
    the reason INTERRUPTED: the first record of it was never written (it comes after)."""
    done = []
    for camera in cameras:
        going = {p.name.removeprefix(layout.DELETING): size_on_disk(p)
                 for p in camera.root.glob(f"{layout.DELETING}*") if p.is_dir()}
        dev = os.stat(camera.root).st_dev
        for day in delete.finish(camera.root):
            done.append(Deletion(camera.name, day, INTERRUPTED, going.get(day, 0), dev))
    for d in done:
        _forget(forget, d)
        _audit(audit, d, by, now)
    return done


def _execute(result: Result, deletions: list[Deletion], roots: dict[str, Path],
             audit: AuditLog | None, forget: Forget | None, by: str, now: float) -> None:
    for d in deletions:
        outcome = archived.spared(roots[d.camera], d.day, d.reason) or \
            delete.delete_day(roots[d.camera], d.day)
        if outcome != delete.DELETED:
            log.info("%s %s: not deleted now (%s)", d.camera, d.day, outcome)
            result.kept.append((d, outcome))
            continue
        result.deleted.append(d)
        log.warning("%s %s deleted (%s): %s freed", d.camera, d.day, d.reason, format.size(d.frees))
        _forget(forget, d)
        _audit(audit, d, by, now)


def _forget(forget: Forget | None, d: Deletion) -> None:
    """The catalog is a cache: a row it keeps is dropped by the next rescan anyway."""
    if forget is None:
        return
    try:
        forget(d.camera, d.day)
    except sqlite3.Error as err:
        log.warning("%s %s: catalog rows not dropped (%s); the next rescan drops them",
                    d.camera, d.day, err)


def _audit(audit: AuditLog | None, d: Deletion, by: str, now: float) -> None:
    """Written after the deletion: on a full disk there is room for the line only then."""
    if audit is None:
        return
    try:
        audit.path.parent.mkdir(parents=True, exist_ok=True)
        audit.write(AUDIT_EVENT, now=now, camera=d.camera, day=d.day, reason=d.reason,
                    bytes=d.frees, by=by)
    except OSError as err:
        log.error("%s %s deleted, but the audit log %s cannot be written: %s",
                  d.camera, d.day, audit.path, err)


def _say_emergency(result: Result) -> None:
    for d in result.short:
        log.error("EMERGENCY: %s has %s free, below keep_free %s: deleting the oldest days"
                  " that are not held, yesterday too if it must be, never today",
                  d.mount, format.size(d.free), format.size(d.keep_free))


def _say_stuck(result: Result) -> None:
    for d in result.stuck:
        log.critical("ALARM: %s stays below keep_free %s and only held days and today's (or no"
                     " recordings) are left to delete: nothing more is deleted; release a hold or free"
                     " space, or recording will stop when the disk is full",
                     d.mount, format.size(d.keep_free))
