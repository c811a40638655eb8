"""When a segment has arrived: a file is complete once it stops changing and no one writes it."""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path


def is_complete(path: Path, st: os.stat_result, now: float, stable_seconds: float) -> bool:
    """True once a file has stopped changing and no process holds it open for writing."""
    if now - st.st_mtime < stable_seconds:
        return False
    return not _open_for_writing(path)


def _open_for_writing(path: Path) -> bool:
    """Ask the kernel: a read lease is refused while any process has the file open to write."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
        return False
    except OSError as err:
        # EAGAIN: a writer has it open. EACCES/EINVAL (not our file, odd filesystem): we
        # cannot tell, and the mtime check above is all we have.
        return err.errno == errno.EAGAIN
    finally:
        os.close(fd)


def last_arrival(segments: dict[str, os.stat_result]) -> float | None:
    """When the newest of these segments arrived: its ctime, which an uploader cannot set back
    (unlike mtime, which `rsync -t` or the demo sets to the recording time)."""
    return max((st.st_ctime for st in segments.values()), default=None)
