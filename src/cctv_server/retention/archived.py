"""Retention of days in the store: their objects go with the day, and only for their age.

A day whose videos moved to the store takes a few kilobytes of the disk (its home, sidecars and
heads): deleting it frees no disk, so free space and `max_size` (which bound the disk) never
take it; `keep_days` does, and then its objects are deleted from the store before its folder
goes. A held day never reaches here (delete.py checks the hold first, and again after the
rename). A store that cannot delete now keeps the folder, renamed `.deleting-DAY`, for the next
pass: its objects are never orphaned.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..errors import CctvError
from ..storage import home
from ..storage.base import open_store
from .policy import AGE

log = logging.getLogger(__name__)

SPARED = "archived: deleting it frees no disk"


def spared(root: Path, day: str, reason: str) -> str | None:
    """Why a planned deletion does not touch an archived day (any reason but age); None to go on."""
    if reason == AGE or home.load(root / day) is None:
        return None
    return SPARED


def forget_objects(folder: Path) -> bool:
    """Delete the day's objects from its store; True when none is left there (or there were none)."""
    found = home.load(folder)
    if found is None:
        return True
    try:
        store = open_store(found.store, found.endpoint)
        for key in found.keys():
            store.delete(key)
    except CctvError as err:
        log.error("%s: its objects in %s not deleted now (%s); the day is deleted at the next"
                  " pass", folder.name, found.store, err)
        return False
    log.warning("%s: deleted from the store %s", folder.name, found.store)
    return True
