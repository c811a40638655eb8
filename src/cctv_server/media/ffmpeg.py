"""The only module that starts ffmpeg: locating it, and its three ways to run.

`run` for short jobs (output captured, a timeout), `run_job` for long ones (a day's encode:
progress, a stall limit, cancellation, death with its parent) and `stream` for a response body
made as it is read. All three read `-progress` lines with `progress_seconds` and report a failure
with `failure`: the exit code and the tail of stderr.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from functools import lru_cache

from ..errors import ConfigError, FFmpegError

# Fragmented MP4: playable while it is still being written or sent, and addressable per fragment.
MOVFLAGS = "+frag_keyframe+empty_moov+default_base_moof"
STDERR_TAIL = 2000
STALL_SECONDS = 600.0  # no progress line for this long: ffmpeg is stuck, not slow
STREAM_STALL = 120.0  # a stream copy that writes nothing for this long is stuck
PR_SET_PDEATHSIG = 1
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


def progress_seconds(line: bytes | str) -> float | None:
    """Seconds of output written, from a `-progress` line (`out_time_us=...`); None for others."""
    text = line.decode(errors="replace") if isinstance(line, bytes) else line
    key, _, value = text.strip().partition("=")
    return int(value) / 1e6 if key == "out_time_us" and value.isdigit() else None


def failure(code: int, stderr: bytes | str) -> FFmpegError:
    """The error for an ffmpeg that exited `code`: the tail of its stderr says why."""
    text = stderr.decode(errors="replace") if isinstance(stderr, bytes) else stderr
    return FFmpegError(f"ffmpeg exited {code}: {text[-STDERR_TAIL:].strip() or 'no message'}")


def run(argv: Sequence[str], timeout: float | None = None,
        stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """Run a short ffmpeg job (argv[0] is the binary) and capture its output; FFmpegError on failure."""
    proc = subprocess.run(list(argv), capture_output=True, timeout=timeout, input=stdin)
    if proc.returncode != 0:
        raise failure(proc.returncode, proc.stderr)
    return proc


async def stream(
    argv: Sequence[str], stdin: bytes, on_progress: Callable[[float], None] | None = None,
    chunk: int = 1 << 16, stall: float = STREAM_STALL,
    on_frames: Callable[[int], None] | None = None,
) -> AsyncGenerator[bytes, None]:
    """Run ffmpeg with `stdin` as its input and yield its stdout as it comes.

    `-progress pipe:2` lines on stderr feed `on_progress` (seconds of output written) and
    `on_frames` (frames written); the rest of stderr is kept for the error. Stopping early (a
    client hung up) kills ffmpeg, and so does an ffmpeg that writes nothing for `stall` seconds
    while it is being read (a hung disk or mount): FFmpegError.
    """
    proc = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    errors: list[str] = []
    reader = asyncio.create_task(_read_stderr(proc.stderr, errors, on_progress, on_frames))
    # Fed alongside the reading: ffmpeg writes output before it has read all of its input, and
    # with both pipes full a writer that waited for the whole input to go in would never read.
    writer = asyncio.create_task(_feed(proc.stdin, stdin))
    try:
        while data := await _read(proc.stdout, chunk, stall):
            yield data
        code = await proc.wait()
        await reader
        if code != 0:
            raise failure(code, "\n".join(errors))
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        reader.cancel()
        writer.cancel()


async def _read(pipe, chunk: int, stall: float) -> bytes:
    try:
        return await asyncio.wait_for(pipe.read(chunk), stall)
    except asyncio.TimeoutError:
        raise FFmpegError(f"ffmpeg wrote nothing for {stall:.0f} s") from None


async def _feed(pipe, data: bytes) -> None:
    try:
        pipe.write(data)
        await pipe.drain()
    except (BrokenPipeError, ConnectionResetError):  # ffmpeg stopped reading: its exit says why
        pass
    finally:
        pipe.close()


async def _read_stderr(pipe, errors: list[str], on_progress: Callable[[float], None] | None,
                       on_frames: Callable[[int], None] | None) -> None:
    while raw := await pipe.readline():
        line = raw.decode(errors="replace").strip()
        if not _PROGRESS_LINE.fullmatch(line):
            errors.append(line)
        elif (seconds := progress_seconds(line)) is not None and on_progress:
            on_progress(seconds)
        elif line.startswith("frame=") and line[6:].isdigit() and on_frames:
            on_frames(int(line[6:]))


# --- long jobs ------------------------------------------------------------------------------


def progress_args() -> list[str]:
    """`run_job` reads progress lines from stdout: outputs go to files."""
    return ["-progress", "pipe:1", "-nostats"]


def run_job(argv: Sequence[str], on_progress: Callable[[float], None] | None = None,
            stall: float = STALL_SECONDS, on_start: Callable[[], None] | None = None,
            cancel: threading.Event | None = None) -> None:
    """Run ffmpeg to completion; `on_progress(seconds written)`; FFmpegError with stderr's tail.

    Setting `cancel` kills ffmpeg within a second (a sibling chunk failed, or we are stopping).
    """
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=errors, preexec_fn=die_with_parent)
        try:
            if on_start:
                on_start()
            _follow(proc, on_progress or (lambda s: None), stall, cancel or threading.Event())
            code = proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if code != 0:
            errors.seek(0)
            raise failure(code, errors.read())


def _follow(proc: subprocess.Popen, on_progress: Callable[[float], None], stall: float,
            cancel: threading.Event) -> None:
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    buffer = b""
    last = time.monotonic()
    while True:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if cancel.is_set():
            proc.kill()
            raise FFmpegError("ffmpeg was stopped: the compaction is being abandoned")
        if not ready:
            if time.monotonic() - last > stall:
                proc.kill()
                raise FFmpegError(f"ffmpeg made no progress for {stall:.0f} s")
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            return
        last = time.monotonic()
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            if (seconds := progress_seconds(line)) is not None:
                on_progress(seconds)


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """In a child: the kernel sends `sig` when the parent dies, so no orphan runs on."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, sig)
    except (OSError, AttributeError):  # not Linux: an orphan encode finishes into an unlinked temp
        pass
