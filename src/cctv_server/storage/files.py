"""A day's file wherever it lives: what playback asks instead of opening a path under the root.

`resolve` names a file `ROOT/DAY/NAME` as `Root.resolve` does, and also one that has moved to
the store (its path then holds nothing). The rest take that path: `read_ranges` reads bytes from
the disk or the store, `source` gives what ffmpeg may open (the path, or a presigned URL),
`head` a local file with the video's first bytes (for probes), `stat` its size and version.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import layout
from ..errors import NotFound
from . import home
from .base import Store, open_store

SIGNED_FOR = 15 * 60  # seconds a presigned URL is good for: signed at each request


@dataclass(frozen=True)
class Remote:
    """A file in the store: the store, its key, and what the day's home says of it."""

    store: Store
    key: str
    entry: home.Entry


def resolve(root: layout.Root, day: str, name: str) -> Path:
    """`Root.resolve`, or for a video (or its checksum) that lives in the store, its path."""
    try:
        return root.resolve(day, name)
    except NotFound:
        if remote(root.path / day / name) is None:
            raise
        return root.path / day / name


def remote(path: Path) -> Remote | None:
    """Where in the store a file lives, when it is not on the disk; None when it is (or is nowhere)."""
    if path.is_file():
        return None
    video = path.name.removesuffix(layout.CHECKSUM_SUFFIX)
    found = home.load(path.parent)
    if found is None or video not in found.videos:
        return None
    entry = found.videos[video]
    key = entry.key if video == path.name else f"{entry.key}{layout.CHECKSUM_SUFFIX}"
    return Remote(open_store(found.store, found.endpoint), key, entry)


def read_ranges(path: Path, ranges: Sequence[tuple[int, int]]) -> bytes:
    """These (offset, length) byte ranges of a file, joined: from the disk, else the store."""
    where = remote(path)
    if where is None:
        with open(path, "rb") as f:
            return b"".join(os.pread(f.fileno(), length, offset) for offset, length in ranges)
    return b"".join(where.store.read(where.key, offset, length) for offset, length in ranges)


def stream(path: Path, offset: int, length: int) -> Iterator[bytes]:
    where = remote(path)
    if where is None:
        raise NotFound(f"{path.name} is on the disk")
    return where.store.stream(where.key, offset, length)


def source(path: Path) -> str:
    """What ffmpeg (or PyAV) opens: the path, or a presigned URL of the object in the store."""
    where = remote(path)
    return str(path) if where is None else where.store.url_for(where.key, SIGNED_FOR)


def url(path: Path) -> str | None:
    """A presigned URL a player may read the file from; None when it is on the disk."""
    where = remote(path)
    return None if where is None else where.store.url_for(where.key, SIGNED_FOR)


def head(path: Path) -> Path:
    """A local file that begins as this one does (the file itself, or its kept head)."""
    if path.is_file():
        return path
    kept = path.with_name(home.head_name(path.name))
    if kept.is_file():
        return kept
    raise NotFound(f"{path.parent.name}/{path.name} has no local head")


def stat(path: Path) -> tuple[int, int]:
    """(size, mtime_ns) of the file, or of its entry in the day's home."""
    try:
        st = path.stat()
        return st.st_size, st.st_mtime_ns
    except FileNotFoundError:
        where = remote(path)
        if where is None:
            raise
        return where.entry.size, where.entry.moved_ns


def size(path: Path) -> int:
    return stat(path)[0]
