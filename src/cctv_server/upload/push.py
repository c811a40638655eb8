"""`cctv-server push`: a camera's uploader. Finished segments go to the server oldest first, retried until taken.

It keeps nothing in memory that matters: what is uploaded is noted in a small file beside the
segments (or the segment is deleted, with --delete-after), so a restart picks up where it left
off, in the same order. A file is deleted only after the server answered 200 or 201.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from .. import durable, layout
from ..footage import arrival, timeline

log = logging.getLogger(__name__)

DONE_FILE = ".cctv-push-done"  # one line per uploaded file: name size mtime_ns
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 300.0
STABLE = 2.0  # seconds a file must be unchanged (and not open for writing) to be finished
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# An idle connection is let go before the server's keep-alive (5 s) ends it: one reused just as
# the server closes it fails the upload for nothing.
LIMITS = httpx.Limits(keepalive_expiry=2.0)


@dataclass(frozen=True)
class Segment:
    """A finished local segment and where it goes on the server."""

    path: Path
    day: str
    size: int
    mtime_ns: int

    @property
    def key(self) -> str:
        return f"{self.path.name} {self.size} {self.mtime_ns}"


def backoff(failures: int, rand: Callable[[], float] = random.random) -> float:
    """Pure: seconds to wait after `failures` failures in a row: doubling, capped, with jitter
    (a fleet of cameras coming back after an outage must not all knock at once)."""
    base = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** max(0, failures - 1))
    return base * (0.5 + rand() / 2)


def day_of(path: Path, tz: ZoneInfo) -> str:
    """Pure: the server day folder a segment belongs in: its folder's name when that is a day,
    else the date its name holds, else the date of its mtime (when it was recorded)."""
    if layout.is_day_name(path.parent.name):
        return path.parent.name
    when = timeline.dated_time_from_name(path.name, tz)
    return timeline.local_date(path.stat().st_mtime if when is None else when, tz)


class Pusher:
    """One folder of a camera's segments, uploaded to one camera of a server."""

    def __init__(self, folder: Path, url: str, token: str, tz: ZoneInfo, keep: float,
                 delete_after: bool, client: httpx.Client | None = None):
        self.folder = Path(folder)
        self.url = url.rstrip("/")
        self.tz = tz
        self.keep = keep
        self.delete_after = delete_after
        self.client = client or httpx.Client(timeout=TIMEOUT, limits=LIMITS,
                                              headers={"Authorization": f"Bearer {token}"})
        self.done_file = self.folder / DONE_FILE
        self.done = self._read_done()
        self.failures = 0

    def run(self, stop: Callable[[], bool], poll: float = 1.0) -> None:
        """Upload until `stop()`; waits `poll` seconds when there is nothing to do."""
        while not stop():
            pending = self.pending(time.time())
            if not pending:
                time.sleep(poll)
                continue
            if not self.upload(pending[0]):
                time.sleep(backoff(self.failures))

    def pending(self, now: float) -> list[Segment]:
        """Finished segments not yet uploaded, oldest first; those past `keep` are let go."""
        found = []
        for seg in self._finished(now):
            if self.keep and now - seg.mtime_ns / 1e9 > self.keep:
                self._let_go(seg)
            elif seg.key not in self.done:
                found.append(seg)
        return sorted(found, key=lambda s: (s.mtime_ns, s.path.name))

    def upload(self, seg: Segment) -> bool:
        """PUT one segment; True when the server has it (or refuses it for good), False to retry."""
        target = f"{self.url}/upload/{seg.day}/{seg.path.name}"
        try:
            with open(seg.path, "rb") as body:
                response = self.client.put(target, content=body,
                                           headers={"Content-Length": str(seg.size)})
        except (httpx.HTTPError, OSError) as err:
            return self._failed(seg, f"{type(err).__name__}: {err}")
        if response.status_code in (200, 201):
            self._uploaded(seg)
            return True
        reason = f"{response.status_code} {response.text.strip()[:200]}"
        if response.status_code in (400, 409, 413, 422):  # will never be taken: keep it, move on
            log.error("%s refused for good (%s); kept here, not retried", seg.path, reason)
            self._note(seg)
            return True
        return self._failed(seg, reason)  # 401/403 (a token to fix), 5xx, 507: try again later

    def _let_go(self, seg: Segment) -> None:
        """The backlog is bounded: a camera's card must not fill while the server is away."""
        if seg.key not in self.done:
            log.warning("%s is older than --keep and was never uploaded; deleting it", seg.path)
        seg.path.unlink(missing_ok=True)
        self.done.discard(seg.key)

    def _uploaded(self, seg: Segment) -> None:
        self.failures = 0
        if self.delete_after:
            seg.path.unlink(missing_ok=True)
        else:
            self._note(seg)
        log.info("uploaded %s", seg.path.name)

    def _failed(self, seg: Segment, reason: str) -> bool:
        self.failures += 1
        log.warning("upload of %s failed (%s); retry %d", seg.path.name, reason, self.failures)
        return False

    def _note(self, seg: Segment) -> None:
        with open(self.done_file, "a") as f:
            f.write(seg.key + "\n")
            f.flush()
            os.fsync(f.fileno())
        self.done.add(seg.key)

    def _read_done(self) -> set[str]:
        """The uploaded files still here; the note is rewritten without those that are gone."""
        try:
            noted = set(self.done_file.read_text().splitlines())
        except FileNotFoundError:
            return set()
        here = {s.key for s in self._finished(float("inf"))}
        kept = noted & here
        if kept != noted:
            durable.write_atomic(self.done_file, "".join(k + "\n" for k in sorted(kept)).encode())
        return kept

    def _finished(self, now: float) -> Iterator[Segment]:
        for path in [*self.folder.glob("*.ts"), *self.folder.glob("*/*.ts")]:
            if path.name.startswith("."):
                continue
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            if arrival.is_complete(path, st, now, STABLE):
                yield Segment(path, day_of(path, self.tz), st.st_size, st.st_mtime_ns)

