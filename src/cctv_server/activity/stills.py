"""The still at an event's peak: one frame of the footage at that second, made once and kept in the index."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from ..errors import FFmpegError
from ..footage.day import Piece
from ..media import ffmpeg

WIDTH = 320  # pixels: a tile of the events grid, a line of the day's list
SEEK_BEFORE = 6.0  # seconds: more than a camera's keyframe interval
LAST_FRAME = 0.25  # seconds: a moment this close to a piece's end is taken a little before
TIMEOUT = 60.0  # seconds: generous, as the measurer runs at the lowest priority


def at(pieces: Sequence[Piece], moment: float) -> tuple[str, float] | None:
    """Pure: (file, seconds into it) of the footage showing `moment`; None without any."""
    for p in pieces:
        if p.start <= moment < p.end:
            first = min(q.media_start for q in pieces if q.file == p.file)
            into = min(moment - p.start, max(0.0, p.duration - LAST_FRAME))  # not past its end
            return p.file, max(0.0, p.media_start - first + into)
    return None


def argv(binary: str, source: Path, offset: float, width: int = WIDTH) -> list[str]:
    """Pure: ffmpeg seeking to `offset` seconds into a file and writing one JPEG to stdout. It
    seeks to a keyframe well before (a seek that lands past the last keyframe of an MPEG-TS
    segment gives nothing), then decodes up to the moment."""
    before = max(0.0, offset - SEEK_BEFORE)
    return [binary, "-hide_banner", "-nostdin", "-loglevel", "error",
            "-ss", f"{before:.3f}", "-i", str(source), "-ss", f"{offset - before:.3f}",
            "-map", "0:v:0", "-frames:v", "1",
            "-vf", f"scale={width}:-2", "-pix_fmt", "yuvj420p", "-q:v", "5", "-f", "image2",
            "-c:v", "mjpeg", "pipe:1"]


def make(binary: str, day_dir: Path, pieces: Sequence[Piece], moment: float) -> bytes | None:
    """The JPEG of the footage at `moment`; None when there is no footage then; FFmpegError
    when ffmpeg makes no picture."""
    found = at(pieces, moment)
    if found is None:
        return None
    try:
        data = ffmpeg.run(argv(binary, day_dir / found[0], found[1]), TIMEOUT).stdout
    except subprocess.TimeoutExpired:
        raise FFmpegError(f"no still within {TIMEOUT:.0f} s") from None
    if not data.startswith(b"\xff\xd8"):
        raise FFmpegError("ffmpeg made no picture at the event's peak")
    return data
