"""One archive pass over the cameras: each camera's due days moved to its store, oldest first.

A store that fails stops that camera's pass (the next days would fail the same way): the error
is logged, the local copies are kept, and the next pass tries again. The same problem is what
`/healthz`, `status` and `doctor` report (health.py).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .. import format, layout
from ..cameras import Camera
from ..errors import CctvError
from ..storage import home
from ..storage.base import configure, open_store
from . import due, health
from .move import MOVED, Damaged, Moved, move_day

log = logging.getLogger(__name__)

Sync = Callable[[Camera, str], None]  # re-read a camera's day into its catalog


@dataclass
class Result:
    moved: list[tuple[str, Moved]] = field(default_factory=list)  # (camera, what)
    due: list[tuple[str, str, int]] = field(default_factory=list)  # (camera, day, bytes)
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (camera, day, why)


def compacted_days(camera: Camera, now: float) -> list[tuple[str, int]]:
    """(day, bytes on the disk) of each day folder holding videos and no segment."""
    today = dt.datetime.fromtimestamp(now, camera.settings.tz).date()
    found = []
    for day in layout.list_days(camera.root, today):
        segments, videos = layout.list_day(camera.root / day)
        if segments or (camera.root / day / layout.JOURNAL).exists():
            continue
        if videos or _leftover(camera.root / day):
            found.append((day, sum(st.st_size for st in videos.values())))
    return found


def _leftover(folder) -> bool:
    """A checksum of a moved video that a killed move had yet to delete."""
    kept = home.archived(folder)
    return any((folder / layout.checksum_name(name)).exists() for name in kept)


def run(cameras: Sequence[Camera], now: float, dry_run: bool = False,
        sync: Sync | None = None) -> Result:
    result = Result()
    for camera in cameras:
        s = camera.settings
        if not s.archive:
            continue
        configure(s.archive, s.archive_endpoint)
        sizes = dict(compacted_days(camera, now))
        days = due.due(sizes, now, s.archive_after, s.tz)
        result.due += [(camera.name, d, sizes[d]) for d in days]
        if dry_run or not days:
            continue
        _camera(camera, days, result, sync)
    return result


def _camera(camera: Camera, days: list[str], result: Result, sync: Sync | None) -> None:
    s = camera.settings
    try:
        store = open_store(s.archive, s.archive_endpoint)
        store.check()
    except CctvError as err:
        _failed(camera, days[0], err, result)
        return
    for day in days:
        try:
            moved = move_day(camera.root, day, store, camera.name, s.archive_endpoint,
                             (lambda d: sync(camera, d)) if sync else None)
        except Damaged as err:  # this day's video alone: verify says more; the next days go on
            _failed(camera, day, err, result, store_ok=True)
            continue
        except CctvError as err:
            _failed(camera, day, err, result)
            return
        except OSError as err:
            _failed(camera, day, err, result)
            continue
        result.moved.append((camera.name, moved))
        if moved.outcome == MOVED:
            log.info("%s %s moved to %s: %s", camera.name, day, s.archive, format.size(moved.bytes))
    health.clear(s.archive)


def _failed(camera: Camera, day: str, err: Exception, result: Result,
            store_ok: bool = False) -> None:
    log.error("%s %s not moved to %s, kept on the disk: %s", camera.name, day,
              camera.settings.archive, err)
    result.failed.append((camera.name, day, str(err)))
    if not store_ok:
        health.note(camera.settings.archive, str(err))
