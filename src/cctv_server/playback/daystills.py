"""Stills of a day for the timeline and the index: the keyframe of the piece at a minute, or a day's poster, cached.

A still is the first keyframe of a piece (a segment, or a fragment of a video), so only one
frame is decoded and nothing is encoded but a small JPEG. Stills are made in the server's
thread pool, one at a time per camera, never in the event loop that answers playlists; one
that waits too long for its turn is refused (Busy) and the page keeps what it showed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

from ..errors import Busy, NotFound
from ..footage.day import Piece
from ..layout import Root
from .stills import of_piece

WIDTH = 320  # pixels: a hover preview over the timeline, a poster on the index
MINUTE = 60
CACHE_SIZE = 2048  # stills (about 10 KB each): a day's minutes and a year's posters
WAIT = 10.0  # seconds a request waits for its turn before it is refused


def at_minute(pieces: Sequence[Piece], minute: int) -> Piece | None:
    """Pure: the piece shown for the minute that starts at `minute` (Unix seconds): the one
    playing at its start, else the first to start within it; None when it has no footage."""
    within = [p for p in pieces if p.end > minute and p.start < minute + MINUTE]
    playing = [p for p in within if p.start <= minute]
    return (playing or within or [None])[0]


def poster(pieces: Sequence[Piece]) -> Piece | None:
    """Pure: the piece halfway through a day's footage (by its length, not the clock): on a
    day recorded only at night, a night picture, not the edge of a gap."""
    total = sum(p.duration for p in pieces)
    seen = 0.0
    for p in pieces:
        seen += p.duration
        if seen >= total / 2:
            return p
    return None


class DayStills:
    """One camera's timeline stills and posters: made once each, kept in memory."""

    def __init__(self, root: Root, binary: str, size: int = CACHE_SIZE, width: int = WIDTH):
        self.root = root
        self.binary = binary
        self.width = width
        self.size = size
        self._found: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()  # the cache
        self._turn = threading.Lock()  # one ffmpeg at a time

    def of(self, piece: Piece | None, what: str) -> bytes:
        """The piece's still (a JPEG); NotFound for no piece, Busy when the wait is too long."""
        if piece is None:
            raise NotFound(f"no footage {what}")
        key = (piece.day, piece.file, piece.byterange)
        with self._lock:
            if key in self._found:
                self._found.move_to_end(key)
                return self._found[key]
        if not self._turn.acquire(timeout=WAIT):
            raise Busy("stills are being made for other requests; try again shortly", 2)
        try:
            jpeg = self._cached(key) or self._make(piece)
        finally:
            self._turn.release()
        with self._lock:
            self._found[key] = jpeg
            while len(self._found) > self.size:
                self._found.popitem(last=False)
        return jpeg

    def _cached(self, key: tuple) -> bytes | None:
        with self._lock:  # made by the request that had the turn before this one
            return self._found.get(key)

    def _make(self, piece: Piece) -> bytes:
        return of_piece(self.root, self.binary, piece, self.width)
