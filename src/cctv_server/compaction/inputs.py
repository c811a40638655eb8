"""The inputs of a compaction: each segment as it was when it went in, decoded, placed in time."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from .. import durable, layout
from ..footage.day import Piece
from ..footage.videoindex import Span
from ..media import decode
from . import runs
from .runs import Stream

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Input:
    """One segment that goes into a video, as it was when it went in."""

    name: str
    size: int
    mtime_ns: int
    frames: int
    duration: float
    wall: float
    discontinuity: bool
    damaged: bool = False  # decoding stopped early: its readable frames still go in
    repeated: int = 0  # frames sharing a timestamp already in the segment (a camera's glitch)
    audio: bool = False
    lead: float = 0.0  # seconds its sound starts before its first frame (decode.Decoded.lead)
    sha256: str = ""  # of its bytes: the video's index keeps it, so a re-upload is known
    # What its video stream is (runs.py): where these change, a run of the day begins.
    codec: str | None = None
    width: int = 0
    height: int = 0
    fps: float | None = None

    @property
    def stream(self) -> Stream:
        return Stream(self.codec, self.width, self.height, self.fps)


def spans_of(inputs: list[Input]) -> list[Span]:
    """Where each input sits in the video, and whether the camera's stream changed at it."""
    spans, offset, new = [], 0.0, set(runs.starts([i.stream for i in inputs])[1:])
    for k, i in enumerate(inputs):
        spans.append(Span(i.name, offset, i.duration, i.wall, k in new))
        offset += i.duration
    return spans



def tolerance(inputs: list[Input]) -> int:
    """Frames the output may differ by: one per discontinuity or damaged segment."""
    return sum(1 for i in inputs[1:] if i.discontinuity) + sum(1 for i in inputs if i.damaged)


def make_input(name: str, st: os.stat_result, found: decode.Decoded, placed: Piece | None,
               prev: Input | None, sha256: str = "") -> Input:
    """An Input; its wall-clock start from the catalog's placement, else running on from prev."""
    if placed is not None:
        wall, disc = placed.start, placed.discontinuity
    elif prev is not None:
        wall, disc = prev.wall + prev.duration, True
    else:
        wall, disc = st.st_mtime - found.duration, True
    width, height = found.size or (0, 0)
    return Input(name, st.st_size, st.st_mtime_ns, found.frames, found.duration, wall,
                 disc or prev is None, damaged=found.error is not None, repeated=found.repeated,
                 audio=found.audio, lead=found.lead, sha256=sha256, codec=found.codec,
                 width=width, height=height, fps=found.fps)


def quarantine(day_dir: Path, name: str, reason: str) -> Path:
    """Move a segment that cannot be decoded to DAY/quarantine/, with the reason beside it."""
    folder = day_dir / layout.QUARANTINE
    folder.mkdir(exist_ok=True)
    target = folder / name
    if target.exists():
        target = folder / f"{name}.{int(time.time())}"
    os.rename(day_dir / name, target)
    note = target.with_name(target.name + ".reason.txt")
    durable.write_atomic(note, (reason.strip() + "\n").encode())
    durable.fsync_dir(day_dir)
    log.warning("quarantined %s/%s: %s", day_dir.name, name, reason)
    return target
