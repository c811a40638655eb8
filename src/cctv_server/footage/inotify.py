"""inotify on a root and its day folders: which day an event concerns, new day folders watched as they appear.

The catalog's watcher and the compactor daemon both listen through this, so they see the same
events; what they do with them (debounce, wake up) is theirs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from asyncinotify import Inotify, Mask

from .. import layout

log = logging.getLogger(__name__)

ROOT_EVENTS = Mask.CREATE | Mask.MOVED_TO | Mask.DELETE | Mask.MOVED_FROM | Mask.ONLYDIR
DAY_EVENTS = (
    Mask.CLOSE_WRITE | Mask.MOVED_TO | Mask.MOVED_FROM | Mask.DELETE | Mask.CREATE | Mask.MODIFY
)
# A file closed, moved or deleted is done changing; a write (MODIFY, CREATE) may go on.
SETTLED = Mask.CLOSE_WRITE | Mask.MOVED_TO | Mask.DELETE | Mask.MOVED_FROM


@dataclass(frozen=True)
class Change:
    """A day folder changed: a day appeared or went, or one of its recordings changed."""

    day: str
    settled: bool  # False while a file is still being written


class RootWatch:
    """The watches of one root, kept on every day folder."""

    def __init__(self, inotify: Inotify, root: Path):
        self.inotify = inotify
        self.root = Path(root)

    def start(self) -> None:
        self._watch(self.root, ROOT_EVENTS)
        for day in layout.list_days(self.root):
            self._watch(self.root / day, DAY_EVENTS)

    def owns(self, event) -> bool:
        """Whether the event is about this root or one of its day folders (one inotify may
        watch several roots: the compactor watches every camera's)."""
        if event.watch is None:
            return False
        path = Path(event.watch.path)
        return path == self.root or path.parent == self.root

    def change(self, event) -> Change | None:
        """The change an event stands for; None for anything that is not a day or a recording."""
        if event.watch is None or event.name is None:
            return None
        parent, name = Path(event.watch.path), str(event.name)
        if parent == self.root:
            if not layout.is_day_name(name):
                return None
            if event.mask & (Mask.CREATE | Mask.MOVED_TO):
                self._watch(self.root / name, DAY_EVENTS)
            return Change(name, True)
        if layout.is_segment_name(name) or layout.is_video_name(name):
            return Change(parent.name, bool(event.mask & SETTLED))
        return None

    def _watch(self, path: Path, mask: Mask) -> None:
        try:
            self.inotify.add_watch(path, mask)
        except OSError as err:  # the watch limit, or the folder went: the rescan still sees it
            log.warning("cannot watch %s (%s); relying on the periodic rescan", path, err)
