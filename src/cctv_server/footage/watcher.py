"""Keeps the catalog current: inotify events mark days dirty, plus a periodic rescan as a safety net."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from asyncinotify import Inotify

from ..config import Settings
from .catalog import Catalog
from .inotify import RootWatch

log = logging.getLogger(__name__)

DEBOUNCE = 0.2  # seconds: one sync for a burst of events (a backlog arriving)
CHECK_INTERVAL = 2.0  # seconds between looks at the catalog file (deleted, damaged, writable again)


class Watcher:
    def __init__(self, settings: Settings, catalog: Catalog,
                 on_change: Callable[[str], None] | None = None):
        assert settings.root is not None
        self.root = Path(settings.root)
        self.settings = settings
        self.catalog = catalog
        self.on_change = on_change or (lambda day: None)
        self._dirty: dict[str, float] = {}  # day -> not before (monotonic seconds)
        self._stored: dict[str, dict[str, tuple[int, int]]] = {}  # day -> uploads to list at once
        self._wake = asyncio.Event()
        self._check_now = asyncio.Event()
        self.ready = asyncio.Event()  # set once the first full scan is done
        self._scanned = catalog.generation  # the catalog database the last rescan filled
        self._last_error = ""

    @property
    def rebuilding(self) -> bool:
        """The catalog moved to another database that no rescan has filled yet: until one has,
        a day it does not list may well be on disk."""
        return self.ready.is_set() and self.catalog.generation != self._scanned

    def mark(self, day: str, delay: float = DEBOUNCE) -> None:
        due = time.monotonic() + delay
        self._dirty[day] = min(self._dirty.get(day, due), due)
        self._wake.set()

    def stored(self, day: str, name: str, size: int, mtime_ns: int) -> None:
        """A segment given its name whole (an upload, upload/receive.py): listed at the next
        sync, without waiting `stable_seconds`, as long as it is still that file."""
        self._stored.setdefault(day, {})[name] = (size, mtime_ns)
        self.mark(day)

    async def run(self) -> None:
        """Watch until cancelled."""
        tasks = [asyncio.create_task(loop()) for loop in
                 (self._sync_loop, self._rescan_loop, self._check_loop)]
        try:
            await self._inotify_loop()
        finally:
            for task in tasks:
                task.cancel()

    async def _inotify_loop(self) -> None:
        with Inotify() as inotify:
            watch = RootWatch(inotify, self.root)
            watch.start()
            await self.rescan(full=True)
            self.ready.set()
            async for event in inotify:
                change = watch.change(event)
                if change is not None:
                    # A settled file is complete at once; a write in progress waits for stable_seconds.
                    self.mark(change.day, DEBOUNCE if change.settled else self.settings.stable_seconds)

    async def _sync_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            now = time.monotonic()
            due = [d for d, t in self._dirty.items() if t <= now]
            for day in due:
                del self._dirty[day]
                await self.sync(day)
            if self._dirty:
                wait = min(self._dirty.values()) - time.monotonic()
                asyncio.get_running_loop().call_later(max(0.01, wait), self._wake.set)

    async def sync(self, day: str) -> None:
        generation = self.catalog.generation
        stored = self._stored.pop(day, {})
        try:
            result = await asyncio.to_thread(
                self.catalog.sync_day, self.root, day, time.time(),
                self.settings.stable_seconds, self.settings.tz, stored,
            )
        except Exception as err:  # a sync must never stop the watcher; the next event or scan retries
            self._stored[day] = stored | self._stored.get(day, {})
            if self.catalog.generation != generation:  # it failed the catalog's old database
                self.mark(day)
                return
            self._failed(f"catalog sync of {day}", err)
            self.mark(day, self.settings.stable_seconds)
            return
        self._after_sync(day, result)

    def _after_sync(self, day, result) -> None:
        if result.pending:
            self.mark(day, self.settings.stable_seconds)
        if result.changed:
            self.on_change(day)

    async def rescan(self, full: bool = False) -> None:
        for _ in range(3):  # again when the catalog moved to another database meanwhile
            generation = self.catalog.generation
            try:
                results = await asyncio.to_thread(
                    self.catalog.rescan, self.root, time.time(), self.settings.stable_seconds,
                    self.settings.tz, full,
                )
            except Exception as err:
                if self.catalog.generation == generation:
                    self._failed("catalog rescan", err)
                    return  # the next rescan, or check, tries again
                continue
            for day, result in results.items():
                self._after_sync(day, result)
            if self.catalog.generation == generation:
                self._scanned = generation
                return

    def _failed(self, what: str, err: Exception) -> None:
        """Log a failure once, not every few seconds while it lasts; a damaged catalog is rebuilt."""
        self.catalog.suspect(err)
        if isinstance(err, sqlite3.Error):
            if str(err) != self._last_error:
                log.warning("%s failed: %s", what, err)
            self._last_error = str(err)
            self.check_soon()
        else:
            log.exception("%s failed", what)

    def check_soon(self) -> None:
        """Look at the catalog file now (a query failed), not at the next interval."""
        self._check_now.set()

    async def _check_loop(self) -> None:
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._check_now.wait(), CHECK_INTERVAL)
            self._check_now.clear()
            try:
                moved = await asyncio.to_thread(self.catalog.check)
            except Exception:  # the next look tries again
                log.exception("catalog check failed")
                continue
            if moved or self.catalog.generation != self._scanned:
                # Every day the new database does not know, or knows older, as a start would.
                await self.rescan()
                self._last_error = ""

    async def _rescan_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.rescan_interval)
            await self.rescan()
