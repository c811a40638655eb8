"""The journal of a compaction and what it guards: commit, rollback, and recovery after a crash.

`.compaction.json` in the day folder says which video is being made from which inputs and how
far it got; docs/compaction.md has every step, what is on disk after it, and why a crash there
is safe. Roll forward only from a verified video whose hash still matches; otherwise roll back.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import durable, layout
from ..footage.daylock import day_lock  # noqa: F401 (compaction's callers take it from here)
from . import verify
from .inputs import Input

log = logging.getLogger(__name__)


@dataclass
class Journal:
    """What is being done in a day folder, so that the next start can finish or undo it."""

    phase: str  # "encode": nothing final yet; "verified": the temp file is good, sha512 is its hash
    video: str
    inputs: list[Input]
    started: float
    sha512: str | None = None
    stats: dict = field(default_factory=dict)  # sizes and speed, for the state row after a crash

    def dumps(self) -> bytes:
        return json.dumps(asdict(self), indent=1).encode()

    @staticmethod
    def loads(data: bytes) -> Journal:
        raw = json.loads(data)
        raw["inputs"] = [Input(**i) for i in raw["inputs"]]
        return Journal(**raw)


def commit(day_dir: Path, journal: Journal) -> None:
    """Give the verified temp file its final name, then delete exactly the inputs."""
    temp, video = day_dir / layout.temp_name(journal.video), day_dir / journal.video
    if video.exists():
        raise verify.VerifyError(f"{video.name} appeared while it was being made; nothing deleted")
    os.rename(temp, video)
    durable.checkpoint("renamed")
    durable.fsync_dir(day_dir)
    durable.checkpoint("renamed-synced")
    finish(day_dir, journal)


def finish(day_dir: Path, journal: Journal) -> None:
    """Delete the inputs that are unchanged since they went in, then the journal."""
    for n, item in enumerate(journal.inputs, 1):
        path = day_dir / item.name
        try:
            st = path.stat()
        except FileNotFoundError:
            continue
        if (st.st_size, st.st_mtime_ns) == (item.size, item.mtime_ns):
            path.unlink()
            durable.checkpoint(f"deleted-{n}")
        else:  # rewritten since it went in: it is new footage, a later pass compacts it
            log.warning("%s/%s changed after it was compacted; kept", day_dir.name, item.name)
    durable.fsync_dir(day_dir)
    durable.checkpoint("deletions-synced")
    durable.remove(day_dir / layout.JOURNAL)
    durable.fsync_dir(day_dir)
    durable.checkpoint("journal-removed")
    log.info("%s: %s is final; %d segments deleted", day_dir.name, journal.video,
             len(journal.inputs))


def rollback(day_dir: Path, journal: Journal | None) -> None:
    """Undo an unfinished job: remove what it made, touch no segment, the journal last."""
    names = []
    if journal is not None:
        shutil.rmtree(day_dir / layout.work_name(journal.video), ignore_errors=True)
        names += [layout.temp_name(journal.video), layout.sidecar_name(journal.video)]
        if not (day_dir / journal.video).exists():  # else the checksum is that video's own
            names.append(layout.checksum_name(journal.video))
    for name in names:
        durable.remove(day_dir / name)
    durable.checkpoint("rolled-back")
    durable.remove(day_dir / layout.JOURNAL)
    durable.fsync_dir(day_dir)


def read_journal(day_dir: Path) -> Journal | None | bool:
    """The journal; None when there is none; False when it cannot be read."""
    try:
        return Journal.loads((day_dir / layout.JOURNAL).read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, KeyError) as err:
        log.error("%s: unreadable journal (%s)", day_dir.name, err)
        return False


def recover(day_dir: Path) -> tuple[str, dict] | None:
    """Finish or undo an interrupted job in a day folder; call with the day locked.

    Returns what was done and, when a job was finished, its stats; None when there was no job.
    """
    journal = read_journal(day_dir)
    if journal is None:
        _remove_strays(day_dir)
        return None
    if journal is False:
        _remove_strays(day_dir)
        durable.remove(day_dir / layout.JOURNAL)
        return "rolled back (unreadable journal)", {}
    if journal.phase == "verified" and _roll_forward(day_dir, journal):
        return f"finished {journal.video}", journal.stats or {"output_size": None}
    rollback(day_dir, journal)
    log.warning("%s: rolled back the unfinished %s; segments kept", day_dir.name, journal.video)
    return f"rolled back {journal.video}", {}


def _roll_forward(day_dir: Path, journal: Journal) -> bool:
    """Finish a job whose video was verified; False when its bytes no longer match."""
    temp, video = day_dir / layout.temp_name(journal.video), day_dir / journal.video
    if not video.exists():
        if not temp.exists() or durable.sha512(temp) != journal.sha512:
            return False
        verify.write_checksum(day_dir, journal.video, temp)
        os.rename(temp, video)
        durable.checkpoint("recover-renamed")
        durable.fsync_dir(day_dir)
    elif durable.sha512(video) != journal.sha512:
        _set_aside(day_dir, journal.video, "its bytes changed after verification")
        return False
    finish(day_dir, journal)
    return True


def _set_aside(day_dir: Path, video: str, reason: str) -> None:
    """Move a video that failed its check into quarantine: it must not stand as final."""
    folder = day_dir / layout.QUARANTINE
    folder.mkdir(exist_ok=True)
    target = folder / f"{video}.unverified-{int(time.time())}"
    os.rename(day_dir / video, target)
    durable.fsync_dir(day_dir)
    log.error("%s/%s moved to %s: %s", day_dir.name, video, target, reason)


def _remove_strays(day_dir: Path) -> None:
    """Temp files with no journal (made by hand, or by an older version) are never final."""
    for name in os.listdir(day_dir):
        if name.startswith(".video") and name.endswith(".partial"):
            durable.remove(day_dir / name)
        elif name.startswith(".video") and name.endswith(".chunks"):
            shutil.rmtree(day_dir / name, ignore_errors=True)
        else:
            continue
        log.warning("%s: removed stray %s", day_dir.name, name)


def days_with_journals(root: Path) -> list[str]:
    return [d for d in layout.list_days(root) if (root / d / layout.JOURNAL).exists()]
