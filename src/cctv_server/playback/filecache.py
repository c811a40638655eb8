"""A folder of made files kept under a size: the least recently used is deleted first."""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from pathlib import Path

log = logging.getLogger(__name__)

PARTIAL = ".partial"


class FileCache:
    """Files by name in one folder, at most `limit` bytes together.

    What is in it is listed once at start (oldest use first, by mtime) and kept in memory; a
    use touches the file's mtime so that the order survives a restart. A file is written under
    a temporary name, synced and renamed, so a crash never leaves half a file under its name.
    It is a cache: a write that fails (a full disk) is logged and the caller keeps its bytes.
    """

    def __init__(self, folder: Path, limit: int):
        self.folder = Path(folder)
        self.limit = limit
        self._files: OrderedDict[str, int] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self._load()

    def _load(self) -> None:
        """What a previous run left; the folder itself is made by the first write."""
        found = []
        if not self.folder.is_dir():
            return
        for entry in os.scandir(self.folder):
            if entry.name.endswith(PARTIAL):  # a write that a crash cut short
                Path(entry.path).unlink(missing_ok=True)
            elif entry.is_file():
                st = entry.stat()
                found.append((st.st_mtime_ns, entry.name, st.st_size))
        for _, name, size in sorted(found):
            self._files[name] = size
            self._size += size
        self._evict()

    @property
    def size(self) -> int:
        return self._size

    def names(self) -> list[str]:
        """Oldest use first."""
        with self._lock:
            return list(self._files)

    def __contains__(self, name: str) -> bool:
        return name in self._files

    def read(self, name: str) -> bytes | None:
        """The file's bytes, marked as just used; None when it is not in the cache."""
        with self._lock:
            if name not in self._files:
                return None
            self._files.move_to_end(name)
        path = self.folder / name
        try:
            data = path.read_bytes()
            os.utime(path)
            return data
        except OSError:  # deleted under us: forget it
            self._forget(name)
            return None

    def put(self, name: str, data: bytes) -> bool:
        """Keep `data` under `name`, evicting the least recently used to make room; False when it
        was not kept (larger than the whole cache, or the disk refused it)."""
        if len(data) > self.limit:
            return False
        partial = self.folder / (name + PARTIAL)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with open(partial, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(partial, self.folder / name)
        except OSError as err:
            partial.unlink(missing_ok=True)
            log.warning("cache %s: %s not kept: %s", self.folder, name, err)
            return False
        with self._lock:
            self._size += len(data) - self._files.pop(name, 0)
            self._files[name] = len(data)
            self._evict()
        return True

    def _evict(self) -> None:
        while self._size > self.limit and self._files:
            name, size = self._files.popitem(last=False)
            self._size -= size
            (self.folder / name).unlink(missing_ok=True)

    def _forget(self, name: str) -> None:
        with self._lock:
            self._size -= self._files.pop(name, 0)
