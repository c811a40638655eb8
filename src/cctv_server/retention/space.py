"""Free space on the filesystems that hold the cameras' roots: the one figure retention and compaction share."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..config import FreeSpace


@dataclass(frozen=True)
class Disk:
    """A filesystem as statvfs sees it now, and how much of it must stay free."""

    dev: int  # st_dev: two roots on one filesystem share it
    mount: str  # its mount point, to name it
    free: int  # bytes an unprivileged writer may still use (f_bavail)
    total: int
    keep_free: int

    @property
    def short(self) -> int:
        """Bytes missing to `keep_free`; 0 or less when there is enough."""
        return self.keep_free - self.free


def disk(path: Path, keep_free: FreeSpace) -> Disk:
    """The filesystem holding `path`: a statvfs and a stat, cheap enough for every minute."""
    st = os.statvfs(path)
    total = st.f_blocks * st.f_frsize
    return Disk(os.stat(path).st_dev, mount_point(path), st.f_bavail * st.f_frsize, total,
                keep_free.of(total))


def mount_point(path: Path) -> str:
    """The folder the filesystem holding `path` is mounted on."""
    current = Path(os.path.abspath(path))
    while not os.path.ismount(current):
        current = current.parent
    return str(current)
