"""The compactor's archiver: an archive pass at start and every ARCHIVE_EVERY, in a thread of its own.

An upload takes minutes; the compactor's own loop must not wait on it, nor it on an encode of
hours. A pass finds the days due (`archive_after` after they ended) and moves them (run.py).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence

from ..cameras import Camera
from ..errors import CctvError
from ..footage.catalog import Catalog
from . import run

log = logging.getLogger(__name__)

ARCHIVE_EVERY = 3600.0  # seconds between passes: days become due by the day, not the minute


class Archiver:
    def __init__(self, cameras: Sequence[Camera], catalogs: Mapping[str, Catalog],
                 clock: Callable[[], float] = time.time):
        self.cameras = [c for c in cameras if c.settings.archive]
        self.catalogs = catalogs
        self.clock = clock

    def thread(self, stop: threading.Event) -> threading.Thread | None:
        """Started, when a camera has an archive; None when none has."""
        if not self.cameras:
            return None
        found = threading.Thread(target=self.run, args=(stop,), name="archive", daemon=True)
        found.start()
        return found

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.step()
            stop.wait(ARCHIVE_EVERY)

    def step(self) -> run.Result | None:
        try:
            return run.run(self.cameras, self.clock(), sync=self._sync)
        except (OSError, sqlite3.Error, CctvError) as err:
            log.error("archive pass stopped: %s", err)
            return None

    def _sync(self, camera: Camera, day: str) -> None:
        s = camera.settings
        self.catalogs[camera.name].sync_day(camera.root, day, self.clock(), s.stable_seconds, s.tz)
