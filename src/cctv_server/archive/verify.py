"""Bit rot in the store: each archived video's bytes, read back from the store, against its SHA-512."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..compaction.verify import Problem
from ..errors import CctvError
from ..storage import home
from ..storage.base import ObjectMissing, open_store

BLOCK = 8 << 20  # bytes read from the store at a time


def check_day(day_dir: Path) -> tuple[int, list[Problem]]:
    """(videos checked, problems) of the day's videos that live in the store."""
    found = home.archived(day_dir)
    kept = home.load(day_dir)
    problems = [p for name, entry in sorted(found.items())
                if (p := check_video(day_dir.name, name, entry, kept))]
    return len(found), problems


def check_video(day: str, name: str, entry: home.Entry, kept: home.Home) -> Problem | None:
    try:
        store = open_store(kept.store, kept.endpoint)
        digest = hashlib.sha512()
        for block in store.stream(entry.key, 0, entry.size, BLOCK):
            digest.update(block)
    except ObjectMissing:
        return Problem(day, name, f"MISSING from the store {kept.store} ({entry.key})")
    except CctvError as err:
        return Problem(day, name, f"cannot be read from the store: {err}")
    if digest.hexdigest() != entry.sha512:
        return Problem(day, name, f"MISMATCH: the bytes in the store {kept.store} differ from"
                       " the checksum")
    return None
