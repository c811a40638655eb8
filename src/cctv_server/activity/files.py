"""Measuring one file of a day (a segment, or a compacted video) into an index row, on the wall clock."""

from __future__ import annotations

import bisect
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from ..footage.day import Piece
from . import decode, measure
from .index import Row

log = logging.getLogger(__name__)
WINDOW = 60.0  # seconds measured together: a clock is found within one; memory stays small


def wall_clock(pieces: Sequence[Piece]) -> Callable[[float], float]:
    """The wall-clock time of a file's own time, from its pieces (one for a segment, the
    fragments of a video): by the piece that starts at or before it."""
    ordered = sorted(pieces, key=lambda p: p.media_start)
    starts = [p.media_start for p in ordered]

    def wall(t: float) -> float:
        i = max(0, bisect.bisect_right(starts, t) - 1)
        return ordered[i].start + (t - ordered[i].media_start)
    return wall


def windows(frames: Iterable[tuple[float, np.ndarray]],
            length: float = WINDOW) -> Iterator[list[tuple[float, np.ndarray]]]:
    """The frames in windows of `length` seconds, each starting with the last frame of the one
    before, so that no pair of frames is left out."""
    chunk: list[tuple[float, np.ndarray]] = []
    for item in frames:
        if chunk and item[0] - chunk[0][0] >= length:
            yield chunk
            chunk = chunk[-1:]
        chunk.append(item)
    if len(chunk) > 1:
        yield chunk


def measure_file(path: Path, day: str, pieces: Sequence[Piece],
                 mask: Sequence[tuple[float, float, float, float]]) -> Row:
    """The file's row: its seconds, or, when it will not decode, its error (and one log line)."""
    found: dict[int, float] = {}
    keep = None
    try:
        for chunk in windows(decode.frames(path, wall_clock(pieces))):
            if keep is None:
                down, across = chunk[0][1].shape
                keep = measure.cell_mask(mask, across, down)
            found.update(measure.seconds(chunk, keep))
    except decode.Undecodable as err:
        log.warning("activity: %s/%s skipped, it will not decode: %s", day, path.name, err)
        return Row(day, path.name, 0, b"", str(err) or "undecodable")
    first, levels = measure.to_levels(found)
    return Row(day, path.name, first, levels)


def by_file(pieces: Iterable[Piece]) -> dict[str, list[Piece]]:
    """A day's pieces grouped by their file, in the order the files first play."""
    found: dict[str, list[Piece]] = {}
    for p in pieces:
        found.setdefault(p.file, []).append(p)
    return found
