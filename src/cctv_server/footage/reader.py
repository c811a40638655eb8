"""The footage model read from disk: the catalog's segments and the video indexes, through day.run."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from pathlib import Path

from .. import layout
from . import day, videoindex
from .catalog import Catalog
from .day import DayFiles, Piece

RUNS_CACHED = 16  # a few days and live runs: the player, its playlist, fragment requests
CACHED_DAYS = 2  # a longer run (live=1 from long ago) is built when asked: its text is cached


class Footage:
    """One root's footage in wall-clock order, built once per version of the days it spans."""

    def __init__(self, root: Path, catalog: Catalog):
        self.root = Path(root)
        self.catalog = catalog
        self.indexes = videoindex.Cache(self.root)
        self._runs: OrderedDict[tuple, list[Piece]] = OrderedDict()
        self._lock = threading.Lock()

    def files(self, name: str) -> DayFiles:
        """What the catalog and the video indexes say a day folder holds."""
        return DayFiles(name, self.catalog.segments(name),
                        self.indexes.day(name, self.catalog.videos(name)))

    def run(self, days: list[str]) -> list[Piece]:
        """The pieces of these consecutive days, in wall-clock order (see day.run)."""
        key = tuple(self.catalog.versions_of(days))
        with self._lock:
            if key in self._runs:
                self._runs.move_to_end(key)
                return self._runs[key]
        pieces = day.run(self.files(d) for d in days)
        if len(days) > CACHED_DAYS:
            return pieces
        with self._lock:
            self._runs[key] = pieces
            while len(self._runs) > RUNS_CACHED:
                self._runs.popitem(last=False)
        return pieces

    def day(self, name: str) -> list[Piece]:
        return self.run([name])

    def fragment(self, name: str, video: str, offset: int, length: int) -> Piece | None:
        """The fragment of a day's video at exactly these bytes, if the model lists one: a
        request can only name a fragment that a playlist would."""
        return next((p for p in self.day(name) if p.file == video and p.byterange == (offset, length)),
                    None)

    def newest(self, today: dt.date) -> Piece | None:
        """The newest piece of the latest day with footage (what "now" looks like), if any; a
        day dated ahead of the clock (a camera with a wrong clock) is never "now"."""
        latest = self.catalog.latest_day(layout.latest_possible(today))
        pieces = self.day(latest) if latest else []
        return max(pieces, key=lambda p: p.start) if pieces else None
