"""The cheap decode that activity is measured from: a few small grey frames a second, with PyAV.

Every frame must be decoded (a P-frame needs the one before it), but without the loop filter
(it only smooths block edges, which averaging into cells does anyway), on one thread, and only
a few frames a second are scaled (by area, which averages noise) to the grid and kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import av
import numpy as np

from . import measure


class Undecodable(Exception):
    """The file has no video that decodes."""


def frames(path: Path, wall: Callable[[float], float],
           every: float = measure.SAMPLE) -> Iterator[tuple[float, np.ndarray, bool]]:
    """(wall-clock time, grey grid, keyframe) of a frame every `every` seconds of the file's
    video, and of every keyframe (measure.py must know where the encoder started afresh);
    `wall` turns the file's own time into the wall clock. Undecodable when it cannot start,
    or stops before any frame; a file cut short ends where its frames end."""
    given = 0
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.video:
                raise Undecodable("no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "NONE"  # one core at most, however many the machine has
            stream.codec_context.options = {"skip_loop_filter": "all"}
            across, down = measure.grid(stream.codec_context.width or 64,
                                        stream.codec_context.height or 36)
            last = None
            for frame in container.decode(stream):
                if frame.pts is None:
                    continue
                t = float(frame.pts * frame.time_base)
                if last is not None and t - last < every - 0.01 and not frame.key_frame:
                    continue
                last = t
                grey = frame.reformat(width=across, height=down, format="gray",
                                      interpolation="AREA").to_ndarray()
                given += 1
                yield wall(t), grey, bool(frame.key_frame)
    except (av.FFmpegError, OSError, ValueError) as err:
        if not given:
            raise Undecodable(_reason(err)) from None
    if not given:
        raise Undecodable("no video frames")


def _reason(err: Exception) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0][:200]
