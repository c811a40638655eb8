"""Deleting a whole day so that a crash at any moment leaves the whole day or nothing of it.

The day folder is first renamed to `.deleting-DAY` (a dotfile: nothing lists it from then on) and
the root fsynced; only then do its files go. A start that finds a `.deleting-*` folder finishes
it. The day's compaction lock is held throughout, so a compaction and a deletion never meet.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from .. import durable, layout
from ..footage.daylock import day_lock
from . import archived, holds

log = logging.getLogger(__name__)


DELETED, BUSY, HELD = "deleted", "busy", "held"


def delete_day(root: Path, day: str) -> str:
    """Delete ROOT/DAY whole: DELETED (or it was not there); BUSY while a compaction holds it
    (try again later); HELD when a hold was put on it since the plan was made (never deleted)."""
    layout.parse_day(day)
    folder = root / day
    if not folder.is_dir():
        return DELETED
    with day_lock(folder) as locked:
        if not locked:
            return BUSY
        if holds.get(root, day) is not None:
            return HELD
        durable.checkpoint("delete-locked")
        going = root / f"{layout.DELETING}{day}"
        os.rename(folder, going)
        durable.checkpoint("delete-renamed")
        if _held(going):  # put in the instant between the check and the rename: it was answered
            os.rename(going, folder)
            return HELD
        durable.fsync_dir(root)
        durable.checkpoint("delete-renamed-synced")
    _remove(going)
    durable.fsync_dir(root)
    durable.checkpoint("delete-done")
    return DELETED


def finish(root: Path) -> list[str]:
    """Finish the deletions a crash interrupted; the days they were."""
    done = []
    for entry in os.scandir(root):
        if entry.name.startswith(layout.DELETING) and entry.is_dir(follow_symlinks=False):
            day = entry.name.removeprefix(layout.DELETING)
            if _held(Path(entry.path)):  # held just before the rename: kept
                if (root / day).exists():  # a new upload made the day again: never merge
                    log.error("%s was held while it was being deleted, and %s has been made"
                              " since: both kept; move the footage back by hand", entry.path, day)
                else:
                    os.rename(entry.path, root / day)
                    log.warning("%s: held while it was being deleted; kept", day)
                continue
            if _remove(Path(entry.path)):
                done.append(day)
    if done:
        durable.fsync_dir(root)
        log.warning("finished deleting %s, interrupted before", ", ".join(done))
    return done


def _held(folder: Path) -> bool:
    return os.path.lexists(folder / layout.HOLD)


def _remove(folder: Path) -> bool:
    """The day's objects in the store, if any (False, all kept, when the store cannot now);
    then its files (a checkpoint after each, for the crash tests), then the folders."""
    if not archived.forget_objects(folder):
        return False
    for n, path in enumerate(sorted(p for p in folder.rglob("*") if not p.is_dir()), 1):
        path.unlink(missing_ok=True)
        durable.checkpoint(f"delete-file-{n}")
    shutil.rmtree(folder, ignore_errors=True)
    return True
