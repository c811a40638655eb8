"""The audit log: one JSON object a line (`audit.log` in the state folder) for every sign-in, failure,
share link, hold, deletion and account change. Never a password, token or cookie.

Bounded: every text field is cut to FIELD_MAX characters (a user name, path or user agent comes
from whoever asks), a list to LIST_MAX items, and the file is rotated at `audit_max` bytes
(audit.log.1 the newest of `audit_keep` old ones). The server, the compactor and the commands
all write it; rotation happens under a lock on the file, so two of them never rotate at once.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterator
from pathlib import Path

from .. import format

log = logging.getLogger(__name__)

FILE_NAME = "audit.log"
MAX_BYTES = 10 * 1024 * 1024
KEEP = 5
FIELD_MAX = 300  # characters of a text field
LIST_MAX = 50  # items of a list field
PAGE_MAX = 1000  # events one read returns at most
ONCE_MAX = 10_000  # (what, who) pairs remembered by `once`


class AuditLog:
    def __init__(self, state_dir: Path, tz, max_bytes: int = MAX_BYTES, keep: int = KEEP):
        self.path = Path(state_dir) / FILE_NAME
        self.tz = tz
        self.max_bytes = max_bytes
        self.keep = keep
        self._lock = threading.Lock()
        self._once: OrderedDict[tuple, float] = OrderedDict()
        self._listeners: list = []  # called with each event written (alerts)

    def subscribe(self, listener) -> None:
        """Call `listener(event)` after each write; its exceptions are logged, never raised."""
        self._listeners.append(listener)

    def write(self, event: str, now: float | None = None, **fields: object) -> None:
        """Append one event; a line is written whole with one write, so lines never interleave."""
        now = time.time() if now is None else now
        record = {"time": format.iso(now, self.tz), "event": bounded(event),
                  **{k: bounded(v) for k, v in fields.items()}}
        line = (json.dumps(record, ensure_ascii=False, default=str) + "\n").encode()
        with self._lock:
            try:
                self._append(line)
            except OSError as err:  # a full disk must not fail the request being audited
                log.error("audit log %s not written (%s): %s", self.path, err, line[:500])
        for listener in self._listeners:
            try:
                listener({**record, "time": now})  # bounded fields, as written
            except Exception:  # a listener's bug must not fail the request being audited
                log.exception("audit log listener failed on %s", event)

    def once(self, key: tuple, now: float, every: float) -> bool:
        """Whether an event of this key is due: True at most once in `every` seconds per key
        (a share link used by one client: once an hour, not for each of its requests)."""
        with self._lock:
            last = self._once.get(key)
            if last is not None and now - last < every:
                return False
            self._once[key] = now
            self._once.move_to_end(key)
            while len(self._once) > ONCE_MAX:
                self._once.popitem(last=False)
            return True

    def read(self, last: int = 500, kind: str | None = None, skip: int = 0) -> list[dict]:
        """The newest `last` events (of the kind `kind`, when given) after skipping the `skip`
        newest, oldest first; across the rotated files too."""
        last = max(0, min(last, PAGE_MAX))
        kept: deque[dict] = deque(maxlen=last + max(0, skip))
        for event in self._lines():
            if kind is None or event.get("event") == kind:
                kept.append(event)
        found = list(kept)
        return found[:len(found) - skip] if skip else found

    def files(self) -> list[Path]:
        """The log and its rotated files, oldest first."""
        old = [self.path.with_name(f"{FILE_NAME}.{n}") for n in range(self.keep, 0, -1)]
        return [p for p in old if p.is_file()] + [self.path]

    def _append(self, line: bytes) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if self._moved(fd):  # rotated by another process meanwhile: write to the new one
                os.close(fd)
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            if size and size + len(line) > self.max_bytes:
                self._rotate()
                os.close(fd)
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.write(fd, line)
        finally:
            os.close(fd)

    def _moved(self, fd: int) -> bool:
        try:
            return os.stat(self.path).st_ino != os.fstat(fd).st_ino
        except FileNotFoundError:
            return True

    def _rotate(self) -> None:
        """audit.log -> .1 -> .2 ...; the one beyond `keep` goes."""
        for n in range(self.keep, 0, -1):
            older = self.path.with_name(f"{FILE_NAME}.{n}")
            newer = self.path.with_name(f"{FILE_NAME}.{n - 1}") if n > 1 else self.path
            if newer.exists():
                os.replace(newer, older)

    def _lines(self) -> Iterator[dict]:
        for path in self.files():
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    for line in f:
                        try:
                            yield json.loads(line)
                        except ValueError:  # a torn last line after a crash
                            continue
            except FileNotFoundError:  # rotated away while being read
                continue


def bounded(value: object) -> object:
    """A field as the log keeps it: text cut to FIELD_MAX characters, lists to LIST_MAX items."""
    if isinstance(value, str):
        return value if len(value) <= FIELD_MAX else value[:FIELD_MAX] + "…"
    if isinstance(value, (list, tuple)):
        return [bounded(v) for v in list(value)[:LIST_MAX]]
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return bounded(str(value))
