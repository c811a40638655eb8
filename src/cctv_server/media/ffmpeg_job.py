"""A long ffmpeg job (a day's encode): `-progress` fed to a callback, dies with its parent, stderr kept."""

from __future__ import annotations

import ctypes
import os
import select
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence

from ..errors import FFmpegError
from .ffmpeg import STDERR_TAIL

PR_SET_PDEATHSIG = 1
STALL_SECONDS = 600.0  # no progress line for this long: ffmpeg is stuck, not slow


def progress_args() -> list[str]:
    return ["-progress", "pipe:1", "-nostats"]


def run(argv: Sequence[str], on_progress: Callable[[float], None] | None = None,
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
            tail = errors.read().decode(errors="replace")[-STDERR_TAIL:].strip()
            raise FFmpegError(f"ffmpeg exited {code}: {tail or 'no message'}")


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
            if line.startswith(b"out_time_us=") and line[12:].strip().isdigit():
                on_progress(int(line[12:]) / 1e6)


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """In a child: the kernel sends `sig` when the parent dies, so no orphan runs on."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, sig)
    except (OSError, AttributeError):  # not Linux: an orphan encode finishes into an unlinked temp
        pass
