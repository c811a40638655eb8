"""A still: one keyframe of a segment or of a video fragment, as a small JPEG. Nothing larger is encoded."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ..errors import FFmpegError
from . import ffmpeg

WIDTH = 480  # pixels: a tile on a phone, or a timeline preview; the height keeps the aspect
TIMEOUT = 15.0
QUALITY = 5  # mjpeg's qscale: 2 is best, 31 worst; 5 is clear at a tenth of the size of 2


def argv(binary: str, source: str, width: int = WIDTH, fmt: str | None = None) -> list[str]:
    """Pure: ffmpeg decoding only keyframes (the first is enough) and writing one JPEG to stdout."""
    return [binary, "-hide_banner", "-nostdin", "-loglevel", "error",
            "-skip_frame", "nokey", *(["-f", fmt] if fmt else []), "-i", source,
            "-map", "0:v:0", "-frames:v", "1", "-vf", f"scale={width}:-2",
            "-q:v", str(QUALITY), "-f", "image2", "-c:v", "mjpeg", "pipe:1"]


def of_file(binary: str, path: Path, width: int = WIDTH) -> bytes:
    """The first keyframe of a segment (or of any file ffmpeg reads)."""
    return _run(argv(binary, str(path), width))


def of_fragment(binary: str, init: bytes, fragment: bytes, width: int = WIDTH) -> bytes:
    """The keyframe that starts a fragment of a video, given its init section and its bytes."""
    return _run(argv(binary, "pipe:0", width, fmt="mp4"), stdin=init + fragment)


def _run(command: list[str], stdin: bytes | None = None) -> bytes:
    try:
        data = ffmpeg.run(command, TIMEOUT, stdin=stdin).stdout
    except subprocess.TimeoutExpired:
        raise FFmpegError(f"no still within {TIMEOUT:.0f} s") from None
    if not data.startswith(b"\xff\xd8"):
        raise FFmpegError("ffmpeg made no picture: the source has no keyframe")
    return data
