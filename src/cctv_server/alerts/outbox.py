"""The durable outbox: alerts as files in the state folder, raised by any process, delivered by `serve`.

    alerts/new/NAME.json          raised, not yet given to the targets (any process writes here)
    alerts/queue/TARGET/NAME.json waiting for one target (serve moves them here, one per target)
    alerts/seen/KEY               an alert's key, remembered a day: the same alert again is dropped

Each file is written whole (temp, fsync, rename): a crash leaves an alert or none, never half of
one. One folder per target: a target that is down keeps only its own alerts waiting.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

from .. import durable
from .alert import Alert
from .rules import COALESCE_FOR, DROP_AFTER, wants
from .targets import Target

log = logging.getLogger(__name__)

FOLDER = "alerts"


class Outbox:
    def __init__(self, state_dir: Path):
        self.path = Path(state_dir) / FOLDER

    def put(self, alert: Alert, now: float | None = None) -> bool:
        """Queue the alert unless one with its key was raised within a day: False when coalesced."""
        now = time.time() if now is None else now
        if not self._first(alert.key, now):
            return False
        new = self.path / "new"
        name = f"{time.time_ns():020d}-{_digest(alert.key)[:12]}.json"
        try:
            new.mkdir(parents=True, exist_ok=True)
            durable.write_atomic(new / name, alert.to_json().encode())
        except OSError:
            durable.remove(self.path / "seen" / _digest(alert.key))  # not raised: not seen
            raise
        log.info("alert raised: %s", alert.title)
        return True

    def _first(self, key: str, now: float) -> bool:
        """Mark the key seen; False when it was seen within COALESCE_FOR (by any process)."""
        seen = self.path / "seen"
        seen.mkdir(parents=True, exist_ok=True)
        marker = seen / _digest(key)
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            if now - marker.stat().st_mtime < COALESCE_FOR:
                return False
        os.utime(marker, (now, now))
        return True

    def fan_out(self, targets: Iterable[Target], tz: ZoneInfo) -> int:
        """Give each new alert to every target that wants it (its own queue); the number given."""
        targets, moved = list(targets), 0
        for path in _files(self.path / "new"):
            alert = _read(path)
            if alert is not None:
                for target in targets:
                    if wants(target.events, target.cameras, target.quiet, alert, tz):
                        queue = self.queue(target)
                        queue.mkdir(parents=True, exist_ok=True)
                        durable.write_atomic(queue / path.name, path.read_bytes())
                moved += 1
            durable.remove(path)  # after every copy: a crash before it only repeats the copies
        return moved

    def queue(self, target: Target) -> Path:
        return self.path / "queue" / target.id

    def waiting(self, target: Target, now: float) -> Iterator[tuple[Path, Alert]]:
        """The target's alerts, oldest first; those a day old are dropped, with a log line."""
        for path in _files(self.queue(target)):
            alert = _read(path)
            if alert is None:
                durable.remove(path)
            elif now - alert.time > DROP_AFTER:
                log.error("alert dropped, undelivered to %s for a day: %s", target.name,
                          alert.title)
                durable.remove(path)
            else:
                yield path, alert

    def drop_unknown(self, targets: Iterable[Target]) -> None:
        """The queues of targets no longer in the config go, with a log line saying how much."""
        known = {t.id for t in targets}
        for queue in _files(self.path / "queue", suffix=""):
            if queue.name not in known and queue.is_dir():
                dropped = _files(queue)
                for path in dropped:
                    durable.remove(path)
                with contextlib.suppress(OSError):
                    queue.rmdir()
                log.warning("%d alert(s) dropped: their target is no longer in the config",
                            len(dropped))

    def forget_old_keys(self, now: float) -> None:
        for marker in _files(self.path / "seen", suffix=""):
            with contextlib.suppress(FileNotFoundError):
                if now - marker.stat().st_mtime >= COALESCE_FOR:
                    marker.unlink()


def _files(folder: Path, suffix: str = ".json") -> list[Path]:
    try:
        names = sorted(os.listdir(folder))
    except FileNotFoundError:
        return []
    return [folder / n for n in names if not n.startswith(".") and n.endswith(suffix)]


def _read(path: Path) -> Alert | None:
    try:
        return Alert.from_json(path.read_text())
    except FileNotFoundError:
        return None
    except (ValueError, TypeError) as err:  # written whole, so only a foreign file: say so once
        log.error("alert file %s is unreadable (%s): removed", path, err)
        return None


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
