"""Which days to compact and when: one pass over the root, and the daemon that watches, sleeps and compacts."""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from asyncinotify import Inotify

from .. import layout
from ..access.audit import AuditLog
from ..cameras import Camera
from ..config import Settings
from ..errors import CctvError
from ..footage import arrival
from ..footage.catalog import Catalog
from ..footage.inotify import RootWatch
from ..media import ffmpeg
from ..retention import holds
from ..retention import run as retention
from . import encoding, schedule
from .job import Compactor, Outcome

log = logging.getLogger(__name__)

SETTLE_EVENTS = 5.0  # seconds: a burst of uploads is looked at once, not per file
NICE = 19
RETENTION_EVERY = 3600.0  # seconds between retention passes ...
SPACE_CHECK_EVERY = 60.0  # ... or sooner, when a statvfs this often finds a disk below keep_free


def make_compactor(settings: Settings, on_progress=None, tasks=None) -> Compactor:
    """`tasks`: where chunks go as tasks when a broker is set (tasks/remote.py); None: in-process."""
    catalog = Catalog(settings.catalog_path)
    return Compactor(settings, catalog, encoding.profile_for(settings), ffmpeg.locate(settings.ffmpeg),
                     on_progress, tasks)


def candidates(c: Compactor, settle: float, now: float,
               respect_backoff: bool = True) -> list[schedule.Candidate]:
    """Every day with segments and when it may be compacted; each eligibility is recorded.
    Only the days the server looks at (layout.out_of_range) are candidates, and a held day only
    when its hold allows compaction: evidence may need the bytes the camera uploaded."""
    found = []
    rows = c.catalog.compactions()
    for day in layout.list_days(c.root, dt.datetime.fromtimestamp(now, c.settings.tz).date()):
        if not holds.allow_compaction(c.root, day):
            _note_held(c.root / day)
            continue
        try:
            arrived = arrival.last_arrival(layout.list_day(c.root / day)[0])
        except OSError as err:  # an unreadable day folder must not stop the other days
            log.error("%s: cannot list the day folder (%s); skipped", day, err)
            continue
        if arrived is None:
            continue
        row = rows.get(day) or {}
        if respect_backoff and schedule.given_up(row, c.settings.compaction_retries):
            continue  # failed compaction_retries times: kept as it is until a person says
        retry = row.get("retry_at") if respect_backoff and row.get("state") == "failed" else None
        cand = schedule.candidate(day, c.settings.tz, settle, c.settings.quiet, arrived, retry)
        if row.get("eligible_at") != cand.ready_at:
            c.record(day, eligible_at=cand.ready_at)
        found.append(cand)
    return found


_held_noted: set[Path] = set()


def _note_held(day_dir: Path) -> None:
    """Said once per day and process: the daemon looks at the days again and again."""
    if day_dir not in _held_noted:
        _held_noted.add(day_dir)
        log.info("%s: held, so its segments are kept as uploaded and it is not compacted"
                 " (cctv-server hold --allow-compaction allows it)", day_dir.name)


def recover(c: Compactor) -> dict[str, str]:
    """Finish or undo the interrupted jobs of every day, and say which."""
    done = c.recover_all()
    for day, what in done.items():
        log.warning("%s: interrupted compaction %s", day, what)
    return done


def run_pass(c: Compactor, days: list[str], stop: threading.Event | None = None) -> list[Outcome]:
    """Compact the given days one at a time, oldest first."""
    outcomes = []
    for day in sorted(days):
        if stop is not None and stop.is_set():
            break
        outcome = c.compact_day(day)
        log.info("%s: %s %s", day, outcome.status, outcome.message)
        outcomes.append(outcome)
    return outcomes


def lower_priority() -> None:
    """Lowest CPU priority and idle IO class, inherited by ffmpeg, so serving stays responsive."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, max(NICE, os.getpriority(os.PRIO_PROCESS, 0)))
    except OSError as err:
        log.warning("cannot lower CPU priority: %s", err)
    ionice = shutil.which("ionice")
    if ionice:
        proc = subprocess.run([ionice, "-c", "3", "-p", str(os.getpid())], capture_output=True)
        if proc.returncode:
            log.warning("ionice failed: %s", proc.stderr.decode(errors="replace").strip())
    else:
        log.info("no ionice on this machine; the compactor runs at normal IO priority")


class Daemon:
    """The standalone compactor of every camera: recover, then compact each day as it becomes
    eligible, the oldest first whichever camera it is, one at a time (the encoders are shared:
    one day already keeps every core busy)."""

    def __init__(self, compactors: list[Compactor], clock: Callable[[], float] = time.time,
                 audit: AuditLog | None = None):
        self.compactors = {c.settings.camera: c for c in compactors}
        self.clock = clock
        self._not_before: dict[tuple[str, str], float] = {}  # skipped (busy, low disk): wait
        self.retention = Retention(compactors, clock, audit)

    def run(self, stop: threading.Event,
            alongside: Sequence[Callable[[threading.Event], object]] = ()) -> None:
        """Until `stop`; `alongside` start their own threads once every interrupted job is
        recovered (the archive's mover: cli/compaction.py)."""
        self.retention.finish()  # a deletion killed midway: before anything lists the root
        for c in self.compactors.values():
            recover(c)
        keeper = threading.Thread(target=self.retention.run, args=(stop,), name="retention",
                                  daemon=True)
        keeper.start()  # its own thread: a disk fills during a compaction of hours too
        for start in alongside:
            start(stop)
        try:
            with Inotify() as inotify:
                watches = [RootWatch(inotify, c.root) for c in self.compactors.values()]
                for watch in watches:
                    watch.start()
                while not stop.is_set():
                    wake = self._step(stop)
                    self._wait(inotify, watches, stop, wake)
        finally:
            stop.set()
            self.retention.wake.set()
            keeper.join(30)

    def _step(self, stop: threading.Event) -> float:
        """Compact the oldest due day of any camera; return how long to sleep before looking again."""
        now = self.clock()
        due, wakes = [], []
        for name, c in self.compactors.items():
            c.catalog.check()  # back to the catalog file once a full disk has room again
            cands = candidates(c, c.settings.settle, now)
            due += [(day, name) for day in schedule.due(cands, now)
                    if self._not_before.get((name, day), 0) <= now]
            wakes.append(schedule.next_wakeup(cands, now))
        if due:
            self._compact(*min(due), now, stop)
            return 0.0
        interval = min(c.settings.rescan_interval for c in self.compactors.values())
        wake = min((w for w in wakes if w is not None), default=None)
        return interval if wake is None else max(0.0, min(interval, wake - now))

    def _compact(self, day: str, name: str, now: float, stop: threading.Event) -> None:
        c = self.compactors[name]
        try:
            outcomes = run_pass(c, [day], stop)
        except (OSError, sqlite3.Error) as err:  # one camera's trouble never stops another's
            log.error("%s %s: compaction stopped by %s; other cameras go on", name, day, err)
            outcomes = [Outcome(day, "skipped", str(err))]
        for outcome in outcomes:
            if outcome.status == "skipped":
                self._not_before[(name, day)] = now + c.settings.rescan_interval
        self.retention.wake.set()  # a compaction changes free space: look at it now

    def _wait(self, inotify: Inotify, watches: list[RootWatch], stop: threading.Event,
              seconds: float) -> None:
        """Sleep until `seconds` pass, stop is set, or a file settles in a root (then a little
        longer, so that a burst of uploads is looked at once); writes in progress do not wake it."""
        deadline = time.monotonic() + seconds
        while not stop.is_set() and time.monotonic() < deadline:
            inotify.sync_timeout = min(1.0, max(0.0, deadline - time.monotonic()))
            event = inotify.sync_get()
            owner = next((w for w in watches if event is not None and w.owns(event)), None)
            change = owner.change(event) if owner is not None else None
            if change is not None and change.settled:
                deadline = min(deadline, time.monotonic() + SETTLE_EVENTS)


class Retention:
    """The daemon's retention: a pass every RETENTION_EVERY, and at once whenever the cheap
    check (every SPACE_CHECK_EVERY, and after each compaction) finds a disk below keep_free."""

    def __init__(self, compactors: list[Compactor], clock: Callable[[], float],
                 audit: AuditLog | None):
        self.catalogs = {c.settings.camera: c.catalog for c in compactors}
        self.cameras = [Camera(c.settings.camera, c.settings) for c in compactors]
        self.clock = clock
        self.audit = audit
        self.wake = threading.Event()
        self._next_pass = 0.0

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.step()
            self.wake.wait(SPACE_CHECK_EVERY)
            self.wake.clear()

    def step(self) -> retention.Result | None:
        """One look: a pass when one is due or a disk is short; None when neither."""
        now = self.clock()
        try:
            if now < self._next_pass and not retention.short(self.cameras):
                return None
            self._next_pass = now + RETENTION_EVERY
            return retention.run(self.cameras, now, self.audit, self._forget, by="compactor")
        except (OSError, sqlite3.Error, CctvError, ValueError) as err:
            # a root gone or unreadable, a catalog that cannot answer: the next look tries again
            log.error("retention pass stopped: %s", err)
            return None

    def finish(self) -> None:
        try:
            retention.finish(self.cameras, self.clock(), self.audit, self._forget, by="compactor")
        except (OSError, sqlite3.Error) as err:
            log.error("cannot finish the deletions a crash interrupted: %s", err)

    def _forget(self, camera: str, day: str) -> None:
        self.catalogs[camera].forget_day(day)
