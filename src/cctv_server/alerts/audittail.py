"""The audit log's new lines as another process writes them: from where the last read ended.

Retention's deletions are made by the compactor's process; a new or rotated file is read from
its start."""

from __future__ import annotations

import json
import os
from pathlib import Path

MAX_READ = 1 << 20  # at most this much a pass: a huge backlog is read over several


class AuditTail:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.inode: int | None = None
        self.offset = 0
        self.rest = b""

    def skip_to_end(self) -> None:
        """What is there now is old news."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self.inode = None  # a file made later is read whole
            return
        self.inode, self.offset = st.st_ino, st.st_size

    def new_events(self) -> list[dict]:
        try:
            with open(self.path, "rb") as f:
                st = os.fstat(f.fileno())
                if st.st_ino != self.inode or st.st_size < self.offset:  # new, rotated or cut
                    self.inode, self.offset, self.rest = st.st_ino, 0, b""
                f.seek(self.offset)
                data = f.read(MAX_READ)
        except FileNotFoundError:
            return []
        self.offset += len(data)
        *lines, self.rest = (self.rest + data).split(b"\n")
        return [e for e in map(_event, lines) if e is not None]


def _event(line: bytes) -> dict | None:
    try:
        found = json.loads(line)
    except ValueError:  # a torn line after a crash
        return None
    return found if isinstance(found, dict) else None
