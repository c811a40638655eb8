"""Holds: a day kept as evidence. A hold is a small file in the day folder, so it travels with the footage
and survives the catalog being rebuilt; retention never deletes a held day, and compaction leaves
its segments alone unless the hold allows it (evidence may need the original bytes)."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .. import durable, layout
from ..errors import InvalidInput, NotFound


@dataclass(frozen=True)
class Hold:
    day: str
    reason: str
    by: str
    since: float
    allow_compaction: bool = False


def hold(root: Path, day: str, reason: str, by: str, allow_compaction: bool = False,
         now: float | None = None) -> Hold:
    """Hold a day (replacing an earlier hold of it); the day must exist."""
    layout.parse_day(day)
    if not reason.strip():
        raise InvalidInput("a hold needs a reason")
    if not (root / day).is_dir():
        raise NotFound(f"no day {day} to hold")
    found = Hold(day, reason.strip(), by, time.time() if now is None else now, allow_compaction)
    try:
        durable.write_atomic(root / day / layout.HOLD, json.dumps(asdict(found)).encode())
    except FileNotFoundError:  # retention took the day in this very instant
        raise NotFound(f"no day {day} to hold: it was deleted just now") from None
    return found


def release(root: Path, day: str) -> Hold:
    layout.parse_day(day)
    found = get(root, day)
    if found is None:
        raise NotFound(f"{day} is not held")
    durable.remove(root / day / layout.HOLD)
    durable.fsync_dir(root / day)
    return found


def get(root: Path, day: str) -> Hold | None:
    """The day's hold; an unreadable hold file still holds the day (better kept than lost)."""
    path = f"{root}/{day}/{layout.HOLD}"
    try:
        os.stat(path)  # most days have none: a stat is cheaper than an open (the index asks each)
        data = json.loads(Path(path).read_text())
        return Hold(**{k: data[k] for k in ("day", "reason", "by", "since")},
                    allow_compaction=bool(data.get("allow_compaction")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return Hold(day, "unreadable hold file: kept to be safe", "?", _mtime(path))


def all_held(root: Path) -> list[Hold]:
    return [h for day in layout.list_days(root) if (h := get(root, day))]


def allow_compaction(root: Path, day: str) -> bool:
    """Whether compaction may replace the day's segments: not held, or held with that allowed."""
    found = get(root, day)
    return found is None or found.allow_compaction


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0
