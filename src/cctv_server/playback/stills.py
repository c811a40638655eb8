"""The newest still of a camera: its newest piece's keyframe as a JPEG, made at most once per interval."""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ..errors import CctvError
from ..footage.day import Piece
from ..footage.reader import Footage
from ..layout import Root
from ..media import still
from ..storage import files


@dataclass(frozen=True)
class Still:
    jpeg: bytes
    shows: float  # the wall-clock time of the picture
    made: float  # monotonic seconds


class Stills:
    """One camera's newest still, cached: many viewers of the overview cost one ffmpeg at a time."""

    def __init__(self, footage: Footage, root: Root, binary: str, interval: float, tz: ZoneInfo):
        self.footage = footage
        self.tz = tz
        self.root = root
        self.binary = binary
        self.interval = interval
        self._newest: Still | None = None
        self._lock = threading.Lock()

    def newest(self) -> Still | None:
        """The still of the newest footage, at most `interval` seconds old; None without footage."""
        with self._lock:  # one maker at a time; the others wait and take its result
            if self._newest and time.monotonic() - self._newest.made < self.interval:
                return self._newest
            piece = self.footage.newest(dt.datetime.now(self.tz).date())
            if piece is None:
                return None
            if self._newest and self._newest.shows == piece.start:
                self._newest = Still(self._newest.jpeg, piece.start, time.monotonic())
            else:
                self._newest = Still(self._make(piece), piece.start, time.monotonic())
            return self._newest

    def _make(self, piece: Piece) -> bytes:
        return of_piece(self.root, self.binary, piece)


def of_piece(root: Root, binary: str, piece: Piece, width: int = still.WIDTH) -> bytes:
    """The first keyframe of a piece as a JPEG `width` pixels wide."""
    path = files.resolve(root, piece.day, piece.file)  # on the disk, or in the store
    if not piece.is_fragment:
        return still.of_file(binary, path, width)
    init = files.read_ranges(path, [piece.init])
    data = files.read_ranges(path, [piece.byterange])
    return still.of_fragment(binary, init, data, width)


def safe_newest(stills: Stills) -> Still | None:
    """The newest still, or None when it cannot be made (a bad newest file must not break a page)."""
    try:
        return stills.newest()
    except (CctvError, OSError):
        return None
