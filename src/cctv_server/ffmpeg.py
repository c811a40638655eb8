"""The only module that starts ffmpeg: locating it, and one runner with a timeout."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from functools import lru_cache

from .errors import ConfigError, FFmpegError

STDERR_TAIL = 2000


@lru_cache(maxsize=8)
def locate(configured: str | None = None) -> str:
    """Path of the ffmpeg binary: the configured one, else PATH, else imageio-ffmpeg's."""
    if configured:
        found = shutil.which(configured)
        if not found:
            raise ConfigError(f"ffmpeg: {configured!r} is not an executable")
        return found
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg  # a wheel that ships a static ffmpeg with libx265

    return imageio_ffmpeg.get_ffmpeg_exe()


def run(argv: Sequence[str], timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run ffmpeg (argv[0] must be the binary); raise FFmpegError with stderr's tail on failure."""
    proc = subprocess.run(list(argv), capture_output=True, timeout=timeout)
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace")[-STDERR_TAIL:].strip()
        raise FFmpegError(f"ffmpeg exited {proc.returncode}: {tail}")
    return proc
