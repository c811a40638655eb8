"""Moving one compacted day to the store so that a kill at any moment leaves it whole in one place.

For each video, in this order (docs/storage.md says why):
1. hash it, and check the hash against its `.sha512sum` (a damaged video is never moved);
2. upload it (multipart when large; every part with a SHA-256 the store verifies), then its
   `.sha512sum` and its index sidecar, under PREFIX/CAMERA/YYYY-MM-DD/ as in the root;
3. read back each object's size and the store's checksum, compared with what was sent;
4. keep the video's head, then write the day's home (`.archive.json`, atomic and synced);
5. let the catalog read the new home;
6. only then delete the local video and its checksum.
Before 4 the day is whole on the disk and a re-run uploads again; from 4 it is whole in the
store, and a re-run checks the objects once more and finishes the deletion. The day's
compaction lock is held throughout, so a compaction, a deletion and a move never meet.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from .. import durable, layout
from ..errors import CctvError
from ..footage import videoindex
from ..footage.daylock import day_lock
from ..storage import home
from ..storage.base import Store, StoreError

log = logging.getLogger(__name__)

MOVED, BUSY, NOT_COMPACTED, NOTHING = "moved", "busy", "not compacted", "nothing to move"
HEAD_MAX = 4 << 20  # bytes of a video kept on the disk, at most (its init and first fragment)


class Damaged(CctvError):
    """A video does not match its own checksum: it is not moved, and verify says more."""


@dataclass
class Moved:
    day: str
    outcome: str
    videos: list[str] = field(default_factory=list)
    bytes: int = 0


def move_day(root: Path, day: str, store: Store, camera: str, endpoint: str | None = None,
             sync: Callable[[str], None] | None = None) -> Moved:
    """Move the compacted videos of ROOT/DAY to the store; `sync(day)` re-reads it into the
    catalog. StoreError (the local copy kept) when the store cannot take them now."""
    layout.parse_day(day)
    folder = root / day
    with day_lock(folder) as locked:
        if not locked:
            return Moved(day, BUSY)
        segments, videos = layout.list_day(folder)
        if segments or (folder / layout.JOURNAL).exists():
            return Moved(day, NOT_COMPACTED)
        found = home.load(folder) or home.Home(store.url, endpoint, camera)
        if not videos:
            _delete_local(folder, list(found.videos))  # a checksum a kill left behind
            return Moved(day, NOTHING)
        if found.store != store.url:
            raise StoreError(f"{day} has videos in {found.store} already, not {store.url}:"
                             " move them back, or set the archive back")
        result = Moved(day, MOVED)
        for name in sorted(videos):
            entry = _upload(folder, day, name, store, camera, found.videos.get(name))
            _keep_head(folder, name)
            found = replace(found, videos={**found.videos, name: entry})
            home.save(folder, found)
            durable.checkpoint("archive-recorded")
            result.videos.append(name)
            result.bytes += entry.size
        if sync:
            sync(day)
        durable.checkpoint("archive-catalogued")
        _delete_local(folder, result.videos)
        durable.checkpoint("archive-deleted")
    if sync:
        sync(day)
    return result


def _upload(folder: Path, day: str, name: str, store: Store, camera: str,
            before: home.Entry | None) -> home.Entry:
    path = folder / name
    digest = _checked_hash(folder, name)
    durable.checkpoint("archive-hashed")
    key = store.key(camera, day, name)
    if before is not None and before.sha512 == digest and _there(store, key, before):
        return before  # a re-run after the home was written: the objects are in place
    sent = store.put(key, path)
    base = key.rsplit("/", 1)[0]
    extras = [(folder / layout.checksum_name(name), f"{base}/{layout.checksum_name(name)}")]
    if (folder / layout.sidecar_name(name)).is_file():
        extras.append((folder / layout.sidecar_name(name), f"{base}/{layout.sidecar_name(name)}"))
    for local, extra_key in extras:
        store.put(extra_key, local)
    durable.checkpoint("archive-uploaded")
    back = store.stat(key)
    if back is None or (back.size, back.checksum) != (sent.size, sent.checksum):
        raise StoreError(f"{day}/{name}: the store holds other bytes than were sent (sent"
                         f" {sent.size} bytes {sent.checksum}, read back {back}); kept here")
    for _, extra_key in extras:
        if store.stat(extra_key) is None:
            raise StoreError(f"{extra_key} is not in the store after its upload; kept here")
    durable.checkpoint("archive-verified")
    return home.Entry(key, sent.size, digest, sent.checksum, time.time_ns())


def _there(store: Store, key: str, entry: home.Entry) -> bool:
    found = store.stat(key)
    return found is not None and (found.size, found.checksum) == (entry.size, entry.checksum)


def _checked_hash(folder: Path, name: str) -> str:
    """The video's SHA-512, equal to its checksum file's (written now if it has none)."""
    digest = durable.sha512(folder / name)
    checksum = folder / layout.checksum_name(name)
    try:
        recorded = durable.parse_checksum(checksum.read_text())
    except FileNotFoundError:
        durable.write_atomic(checksum, durable.checksum_line(digest, name).encode())
        return digest
    if recorded is None or recorded[0] != digest:
        raise Damaged(f"{folder.name}/{name} does not match {checksum.name}: not moved"
                      " (run cctv-server verify)")
    return digest


def _keep_head(folder: Path, name: str) -> None:
    """The video's first bytes, up to the end of its first fragment, kept for probes."""
    try:
        index = videoindex.load(folder, name)
        end = index.init_length
        if index.fragments:
            end = index.fragments[0].offset + index.fragments[0].length
    except (OSError, ValueError, KeyError, TypeError):
        end = HEAD_MAX
    with open(folder / name, "rb") as f:
        data = f.read(min(end, HEAD_MAX))
    durable.write_atomic(folder / home.head_name(name), data)


def _delete_local(folder: Path, videos: list[str]) -> None:
    """The video first, then its checksum: a checksum left alone is harmless, and finished later."""
    for name in videos:
        durable.remove(folder / name)
        durable.checkpoint("archive-deleted-video")
        durable.remove(folder / layout.checksum_name(name))
    durable.fsync_dir(folder)
