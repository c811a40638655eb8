"""The only module that starts ffmpeg: locating it, a runner with a timeout, and a streaming one."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable, Sequence
from functools import lru_cache

from ..errors import ConfigError, FFmpegError

# Fragmented MP4: playable while it is still being written or sent, and addressable per fragment.
MOVFLAGS = "+frag_keyframe+empty_moov+default_base_moof"
STDERR_TAIL = 2000
_PROGRESS_LINE = re.compile(r"[a-z0-9_]+=\S*")  # `-progress` output: key=value, one a line


def concat_quote(text: str) -> str:
    """A path or value quoted for an ffconcat script (single quotes, `'` escaped)."""
    return "'" + text.replace("'", "'\\''") + "'"


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


async def stream(
    argv: Sequence[str], stdin: bytes, on_progress: Callable[[float], None] | None = None,
    chunk: int = 1 << 16,
) -> AsyncIterator[bytes]:
    """Run ffmpeg with `stdin` as its input and yield its stdout as it comes.

    `-progress pipe:2` lines on stderr feed `on_progress` (seconds of output written); the rest
    of stderr is kept for the error. Stopping early (a client hung up) kills ffmpeg.
    """
    proc = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    errors: list[str] = []
    reader = asyncio.create_task(_read_stderr(proc.stderr, errors, on_progress))
    # Fed alongside the reading: ffmpeg writes output before it has read all of its input, and
    # with both pipes full a writer that waited for the whole input to go in would never read.
    writer = asyncio.create_task(_feed(proc.stdin, stdin))
    try:
        while data := await proc.stdout.read(chunk):
            yield data
        code = await proc.wait()
        await reader
        if code != 0:
            tail = "\n".join(errors)[-STDERR_TAIL:].strip()
            raise FFmpegError(f"ffmpeg exited {code}: {tail}")
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        reader.cancel()
        writer.cancel()


async def _feed(pipe, data: bytes) -> None:
    try:
        pipe.write(data)
        await pipe.drain()
    except (BrokenPipeError, ConnectionResetError):  # ffmpeg stopped reading: its exit says why
        pass
    finally:
        pipe.close()


async def _read_stderr(pipe, errors: list[str],
                       on_progress: Callable[[float], None] | None) -> None:
    while raw := await pipe.readline():
        line = raw.decode(errors="replace").strip()
        if not _PROGRESS_LINE.fullmatch(line):
            errors.append(line)
        elif line.startswith("out_time_us=") and line[12:].isdigit() and on_progress:
            on_progress(int(line[12:]) / 1e6)
