"""The lock on a day folder that compaction and retention (and doctor) take before changing it."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def day_lock(day_dir: Path) -> Iterator[bool]:
    """An exclusive flock on the day folder itself: released by the kernel if we are killed.
    Yields False, at once, when another process holds it."""
    fd = os.open(day_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)
