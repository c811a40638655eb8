"""The measurer: a background thread that measures each camera's new segments as they arrive.

It runs off the request path, at the lowest priority: every few seconds it asks the catalog for
the segments of the recent days that the index lacks, measures at most `BATCH` of them (the
bounded queue: a backlog is worked off batch by batch, oldest day first), and makes the stills
of the events they changed. A segment that will not decode gets a row saying so and one log
line, and is never tried again; nothing it does can stall the catalog, which it only reads.
Once an hour, rows of days whose folder is gone (retention deleted them) are pruned.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import sqlite3
import threading
import time
from contextlib import suppress
from pathlib import Path

from ..config import Settings
from ..errors import CctvError
from ..footage.reader import Footage
from . import files, stills
from .index import Index
from .search import CameraActivity

log = logging.getLogger(__name__)

INTERVAL = 5.0  # seconds between looks for new segments
BATCH = 50  # segments measured per look, at most
STILLS = 10  # stills made per look, at most
PRUNE_EVERY = 3600.0
TRIES = 3  # a still that failed this often is left for the page to make when it is asked for
FAILED_KEPT = 10_000  # stills remembered as failed, at most


class Measurer:
    """One camera's measuring thread."""

    def __init__(self, settings: Settings, footage: Footage, index: Index,
                 activity: CameraActivity, binary: str):
        self.settings, self.footage, self.index = settings, footage, index
        self.activity, self.binary = activity, binary
        self.root = Path(settings.root)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pruned = 0.0
        self._failed_stills: dict[tuple[str, int], int] = {}  # stills that failed, and how often
        self._last_error: str | None = None  # the database error last logged

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"activity-{self.settings.camera}",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def nudge(self) -> None:
        """Look now rather than at the next interval (a segment was just stored)."""
        self._wake.set()

    def _run(self) -> None:
        with suppress(OSError):  # this thread alone, on Linux: the web server keeps its priority
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        while not self._stop.is_set():
            try:
                done = self.step(time.time())
                self._last_error = None
            except sqlite3.Error as err:  # the catalog deleted or damaged under us: the watcher
                self._failed(err)  # rebuilds it, and the next pass goes on
                done = 0
            except Exception:  # noqa: BLE001 - one bad pass must not end the thread
                log.exception("activity of %s: a pass failed; trying again", self.settings.camera)
                done = 0
            if done < BATCH:  # a full batch: more is waiting, go on at once
                self._wake.wait(INTERVAL)
                self._wake.clear()

    def _failed(self, err: sqlite3.Error) -> None:
        """One line while the same database error lasts, not a traceback every few seconds."""
        if str(err) != self._last_error:
            log.warning("activity of %s: a pass failed (%s); trying again", self.settings.camera,
                        err)
        self._last_error = str(err)

    def step(self, now: float) -> int:
        """One pass: measure up to BATCH new segments, make their events' stills; how many."""
        recent = [day for day, _ in self.footage.catalog.versions(recent_from(now, self.settings))]
        todo = self.pending(recent)[:BATCH]
        for day, name in todo:
            if self._stop.is_set():
                break
            self.measure_segment(day, name)
        for day in recent:  # a still that failed (ffmpeg too slow on a busy machine) is tried again
            self.make_stills(day)
        if now - self._pruned > PRUNE_EVERY:
            self._pruned = now
            self.prune()
        return len(todo)

    def pending(self, days: list[str]) -> list[tuple[str, str]]:
        """(day, segment) of these days' catalogued segments not yet in the index."""
        found = []
        for day in days:
            known = self.index.sources(day)
            found += [(day, s.name) for s in self.footage.catalog.segments(day)
                      if s.error is None and s.name not in known]
        return found

    def measure_segment(self, day: str, name: str) -> None:
        pieces = [p for p in self.footage.day(day) if p.file == name]
        if not pieces:
            return  # not placed on the timeline (yet): the next pass sees it again
        row = files.measure_file(self.root / day / name, day, pieces, self.settings.activity_mask)
        self.index.put([row])

    def make_stills(self, day: str, limit: int = STILLS) -> int:
        """Stills for the day's events that lack one, while the footage is there; how many."""
        made = 0
        pieces = None
        for event in self.activity.day(day):
            key = (day, event.peak)
            tried = self._failed_stills.get(key, 0)
            if made >= limit or tried >= TRIES or self.index.still(*key) is not None:
                continue
            pieces = pieces if pieces is not None else self.footage.day(day)
            try:
                jpeg = stills.make(self.binary, self.root / day, pieces, event.peak + 0.5)
            except (CctvError, OSError) as err:
                log.info("activity: no still for the event at %s on %s: %s", event.peak, day, err)
                if len(self._failed_stills) < FAILED_KEPT:
                    self._failed_stills[key] = self._failed_stills.get(key, 0) + 1
                continue
            if jpeg is not None:
                self.index.put_still(day, event.peak, jpeg)
                made += 1
        return made

    def prune(self) -> None:
        gone = [d for d in self.index.days() if not (self.root / d).is_dir()]
        if gone:
            self.index.forget(gone)
            log.info("activity of %s: forgot %d day(s) no longer on disk", self.settings.camera,
                     len(gone))


def recent_from(now: float, settings: Settings) -> str:
    """The first day measured as footage arrives: yesterday, or further back while a day may
    still be waiting to settle (its segments must be measured before compaction takes them)."""
    back = 1 + math.ceil(settings.settle / 86400)
    today = dt.datetime.fromtimestamp(now, settings.tz).date()
    return (today - dt.timedelta(days=back)).isoformat()
