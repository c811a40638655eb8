"""Keeps the catalog current: inotify events mark days dirty, plus a periodic rescan as a safety net."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

from asyncinotify import Inotify

from ..config import Settings
from .catalog import Catalog
from .inotify import RootWatch

log = logging.getLogger(__name__)

DEBOUNCE = 0.2  # seconds: one sync for a burst of events (a backlog arriving)


class Watcher:
    def __init__(self, settings: Settings, catalog: Catalog,
                 on_change: Callable[[str], None] | None = None):
        assert settings.root is not None
        self.root = Path(settings.root)
        self.settings = settings
        self.catalog = catalog
        self.on_change = on_change or (lambda day: None)
        self._dirty: dict[str, float] = {}  # day -> not before (monotonic seconds)
        self._wake = asyncio.Event()
        self.ready = asyncio.Event()  # set once the first full scan is done

    def mark(self, day: str, delay: float = DEBOUNCE) -> None:
        due = time.monotonic() + delay
        self._dirty[day] = min(self._dirty.get(day, due), due)
        self._wake.set()

    async def run(self) -> None:
        """Watch until cancelled."""
        tasks = [asyncio.create_task(self._sync_loop()), asyncio.create_task(self._rescan_loop())]
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
        try:
            result = await asyncio.to_thread(
                self.catalog.sync_day, self.root, day, time.time(),
                self.settings.stable_seconds, self.settings.tz,
            )
        except Exception:  # a sync must never stop the watcher; the next event or scan retries
            log.exception("catalog sync of %s failed", day)
            self.mark(day, self.settings.stable_seconds)
            return
        self._after_sync(day, result)

    def _after_sync(self, day, result) -> None:
        if result.pending:
            self.mark(day, self.settings.stable_seconds)
        if result.changed:
            self.on_change(day)

    async def rescan(self, full: bool = False) -> None:
        try:
            results = await asyncio.to_thread(
                self.catalog.rescan, self.root, time.time(), self.settings.stable_seconds,
                self.settings.tz, full,
            )
        except Exception:
            log.exception("catalog rescan failed")
            return
        for day, result in results.items():
            self._after_sync(day, result)

    async def _rescan_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.rescan_interval)
            await self.rescan()
