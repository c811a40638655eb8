"""Pure: the footage model. A day, or a run of days, as pieces in wall-clock order, decided once.

Every segment and every fragment of a compacted video is one `Piece`: which file, where it sits
on the wall clock, and whether a break comes before it. Playlists, the live view, export, the
player's day view, the index page's summary and the compactor's inputs all read this one order,
so they cannot disagree. docs/time.md names the clocks involved.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from .timeline import CLOCK, Placed, Segment, place
from .videoindex import VideoIndex


@dataclass(frozen=True)
class Piece:
    """A segment, or a fragment of a video: the smallest stretch of footage anything addresses.

    `media_start` is the file's own timestamp (seconds) of the piece's first frame: a segment's
    first PTS; a fragment's decode time in its video. `discontinuity` says a player must reset
    before it: the timestamps jump (a camera restart), footage is missing, or another file's
    timeline begins (a switch between videos, or between a video and segments).
    """

    day: str
    file: str  # its name in the day folder
    start: float  # wall clock, Unix seconds
    duration: float
    discontinuity: bool
    media_start: float
    byterange: tuple[int, int] | None = None  # (offset, length) of a fragment in its video
    init: tuple[int, int] | None = None  # (offset, length) of its video's init section
    number: int = 0  # a fragment's place in its video, from 0
    segment: Segment | None = field(default=None, compare=False)  # what the catalog knows

    @property
    def end(self) -> float:
        return self.start + self.duration

    @property
    def is_fragment(self) -> bool:
        return self.byterange is not None

    @property
    def source(self) -> tuple[str, str] | None:
        """The timeline a piece belongs to: its video, or None for segments (which carry
        their own timestamps, so that their breaks are found by `timeline.place`)."""
        return (self.day, self.file) if self.is_fragment else None


@dataclass(frozen=True)
class DayFiles:
    """What one day folder holds, as the catalog and the video indexes give it."""

    day: str
    segments: Sequence[Segment]  # in catalog order: the natural sort of their names
    videos: Sequence[VideoIndex] = ()


def run(days: Iterable[DayFiles]) -> list[Piece]:
    """The footage of consecutive days in wall-clock order, across midnight.

    Segments keep their catalog order (a backlog resent late lands by its name, never by when
    it arrived); each video's fragments keep theirs; the streams are merged by wall-clock start,
    a video first on a tie. A segment placed after the previous day's last segment runs on from
    it at midnight without a break; after a video, segments start a new timeline.
    """
    pieces: list[Piece] = []
    prev: Placed | None = None
    for files in days:
        if files.videos:
            prev = None
        placed = list(place(files.segments, prev))
        prev = placed[-1] if placed else prev
        streams = [list(_fragments(files.day, v)) for v in files.videos]
        streams.append([_segment(files.day, p) for p in placed])
        pieces += heapq.merge(*streams, key=lambda p: p.start)
    return _mark_switches(pieces)


def of_day(files: DayFiles) -> list[Piece]:
    """One day's footage alone: the first piece starts a timeline whatever came before."""
    return run([files])


def _segment(day: str, p: Placed) -> Piece:
    s = p.segment
    return Piece(day, s.name, p.start, s.duration, p.discontinuity, s.first_pts / CLOCK,
                 segment=s)


def _fragments(day: str, index: VideoIndex) -> Iterator[Piece]:
    init = (0, index.init_length)
    for i, f in enumerate(index.fragments):
        yield Piece(day, index.video, f.wall, f.duration, f.discontinuity, f.start,
                    (f.offset, f.length), init, i)


def _mark_switches(pieces: list[Piece]) -> list[Piece]:
    """A break wherever the timeline changes hands: from one video to another, or between a
    video and segments. The first piece of a run has none: nothing plays before it."""
    out: list[Piece] = []
    for piece in pieces:
        switched = bool(out) and out[-1].source != piece.source
        if not out:
            piece = _with(piece, discontinuity=False)
        elif switched and not piece.discontinuity:
            piece = _with(piece, discontinuity=True)
        out.append(piece)
    return out


def _with(piece: Piece, discontinuity: bool) -> Piece:
    return piece if piece.discontinuity == discontinuity else replace(piece, discontinuity=discontinuity)


def spans(pieces: Iterable[Piece]) -> list[tuple[float, float]]:
    """(start, end) on the wall clock of each piece: what the index page's gaps are found in."""
    return [(p.start, p.end) for p in pieces]
