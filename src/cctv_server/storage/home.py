"""A day's home: the file in its folder (`.archive.json`) that says which of its videos live in a store.

This file is the record that survives: the catalog, a cache rebuilt from the disk, reads it
on every sync (so a rebuilt catalog still knows where each day lives). It is written, atomically
and synced, only once every object is in the store and read back; the local video goes after.
Besides it the day folder keeps what is small and read often: each video's index sidecar and
its head (`.video.mp4.head`: the first bytes, up to the end of its init section), from which
codecs and frame sizes are probed without asking the store.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import durable, layout

log = logging.getLogger(__name__)

NAME = ".archive.json"


@dataclass(frozen=True)
class Entry:
    """One video in the store: its key, size and SHA-512 (as its .sha512sum says), the store's
    own checksum, and when it was moved (ns: the catalog's mtime for it)."""

    key: str
    size: int
    sha512: str
    checksum: str
    moved_ns: int


@dataclass(frozen=True)
class Home:
    store: str  # s3://BUCKET/PREFIX or file:///PATH
    endpoint: str | None
    camera: str
    videos: dict[str, Entry] = field(default_factory=dict)

    def keys(self) -> list[str]:
        """Every object of the day in the store: each video, its checksum and its sidecar."""
        found = []
        for name, entry in sorted(self.videos.items()):
            base = entry.key.rsplit("/", 1)[0]
            found += [entry.key, f"{base}/{layout.checksum_name(name)}",
                      f"{base}/{layout.sidecar_name(name)}"]
        return found


def head_name(video: str) -> str:
    """The kept head of a video: named .mp4 so that probes read it as one."""
    return f".{video.removesuffix('.mp4')}.head.mp4"


def load(day_dir: Path) -> Home | None:
    """The day's home, or None when all of it is local (or the file cannot be read: logged)."""
    try:
        data = json.loads((day_dir / NAME).read_text())
        videos = {n: Entry(**e) for n, e in data["videos"].items() if layout.is_video_name(n)}
        return Home(data["store"], data.get("endpoint"), data.get("camera", ""), videos)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as err:
        log.error("%s/%s cannot be read: %s", day_dir.name, NAME, err)
        return None


def save(day_dir: Path, home: Home) -> None:
    body = {"store": home.store, "endpoint": home.endpoint, "camera": home.camera,
            "videos": {n: asdict(e) for n, e in sorted(home.videos.items())}}
    durable.write_atomic(day_dir / NAME, json.dumps(body, indent=1).encode())


def remove(day_dir: Path) -> None:
    if durable.remove(day_dir / NAME):
        durable.fsync_dir(day_dir)


def names(day_dir: Path) -> set[str]:
    """The names of the day's videos that have a home in a store (the local copy gone or not)."""
    found = load(day_dir)
    return set() if found is None else set(found.videos)


def archived(day_dir: Path) -> dict[str, Entry]:
    """The videos of a day whose bytes are in the store and no longer on the disk."""
    home = load(day_dir)
    if home is None:
        return {}
    return {n: e for n, e in home.videos.items() if not (day_dir / n).is_file()}
