"""The audit log: one JSON object a line (`audit.log` in the state folder) for every sign-in, failure,
share link, hold, deletion and account change. Never a password, token or cookie."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from .. import format

log = logging.getLogger(__name__)

FILE_NAME = "audit.log"


class AuditLog:
    def __init__(self, state_dir: Path, tz):
        self.path = Path(state_dir) / FILE_NAME
        self.tz = tz
        self._lock = threading.Lock()
        self._listeners: list = []  # called with each event written (alerts)

    def subscribe(self, listener) -> None:
        """Call `listener(event)` after each write; its exceptions are logged, never raised."""
        self._listeners.append(listener)

    def write(self, event: str, now: float | None = None, **fields: object) -> None:
        """Append one event; a line is written whole with one write, so lines never interleave."""
        now = time.time() if now is None else now
        line = json.dumps({"time": format.iso(now, self.tz), "event": event, **fields},
                          ensure_ascii=False, default=str)
        with self._lock:
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    os.write(fd, (line + "\n").encode())
                finally:
                    os.close(fd)
            except OSError as err:  # a full disk must not fail the request being audited
                log.error("audit log %s not written (%s): %s", self.path, err, line)
        for listener in self._listeners:
            try:
                listener({"time": now, "event": event, **fields})
            except Exception:  # a listener's bug must not fail the request being audited
                log.exception("audit log listener failed on %s", event)

    def read(self, last: int = 500) -> list[dict]:
        """The newest `last` events, oldest first."""
        return list(self._lines())[-last:]

    def _lines(self) -> Iterator[dict]:
        try:
            with open(self.path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    try:
                        yield json.loads(line)
                    except ValueError:  # a torn last line after a crash
                        continue
        except FileNotFoundError:
            return
