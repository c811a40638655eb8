"""The server's one account of what uploads may add to its disks: free space, each camera's daily quota.

Uploads are admitted before their body is read (the bytes they declare, reserved on their
filesystem so that uploads at once cannot together pass `keep_free`) and checked again once
written, before they get their name (the bytes they are). Decisions are limits.py's; this keeps
the figures: reservations, each camera-day's bytes (measured from the folder, then counted on),
each camera's quota, and when a refusal of each kind was last audited.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..cameras import Camera
from . import limits, receive
from .limits import Day, DiskRefusal, QuotaRefusal

MEASURE_EVERY = 60.0  # seconds a day folder's measured bytes are trusted (plus what is added)
QUOTA_EVERY = 600.0  # seconds an automatic quota is kept before the catalog is read again
AUDIT_EVERY = 60.0  # one audit record per camera and kind of refusal in this long, at most

Recent = Callable[[], list[Day]]  # a camera's days as its catalog has them


@dataclass
class Ticket:
    """One admitted upload: what it reserved, released when it is stored or refused."""

    camera: str
    day: str
    dev: int
    reserved: int
    declared: int | None


class Gate:
    def __init__(self, cameras: Sequence[Camera], recent: dict[str, Recent] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.cameras = {c.name: c for c in cameras}
        self.recent = recent or {}
        self.clock = clock
        self._lock = threading.Lock()
        self._reserved: dict[int, int] = {}  # st_dev -> bytes admitted, not yet stored
        self._coming: dict[tuple[str, str], int] = {}  # (camera, day) -> the same
        self._days: dict[tuple[str, str], tuple[float, int]] = {}  # -> (measured at, bytes)
        self._quotas: dict[str, tuple[float, int]] = {}
        self._audited: dict[tuple[str, str], float] = {}
        self._sent: dict[str, dict[int, int]] = {}  # camera -> {hour: bytes stored}, 24 hours

    async def receive(self, camera: str, day_dir: Path, name: str, body: AsyncIterator[bytes],
                      declared: int | None) -> receive.Stored:
        """receive.receive, admitted first and checked again before the segment is named."""
        settings = self.cameras[camera].settings
        ticket = await receive._io(self.admit, camera, day_dir.name, declared, settings.upload_max)
        stored = None
        try:
            stored = await receive.receive(day_dir, name, body, settings.upload_max,
                                           settings.upload_max_mbps,
                                           lambda size: self.written(ticket, size))
            return stored
        finally:
            self.release(ticket, stored.size if stored is not None and stored.created else 0)

    def admit(self, camera: str, day: str, declared: int | None, upload_max: int) -> Ticket:
        """Before the body: DiskRefusal or QuotaRefusal, or the upload's Ticket. Blocking I/O
        (a statvfs, perhaps a day folder's listing): run it off the event loop."""
        dev, free, keep, mount = self._disk(camera)
        incoming = upload_max if declared is None else declared
        limit = self._quota(camera)
        held = self._day_bytes(camera, day)
        with self._lock:
            reason = limits.room(free, keep, incoming + self._reserved.get(dev, 0), mount)
            if reason:
                raise DiskRefusal(reason, declared or 0)
            reason = limits.over_quota(day, held + self._coming.get((camera, day), 0),
                                       declared or 0, limit, self._automatic(camera)) \
                or limits.over_sent(self._sent_today(camera), declared or 0, limit)
            if reason:
                raise QuotaRefusal(reason, declared or 0)
            self._reserved[dev] = self._reserved.get(dev, 0) + incoming
            self._coming[(camera, day)] = self._coming.get((camera, day), 0) + incoming
        return Ticket(camera, day, dev, incoming, declared)

    def written(self, ticket: Ticket, size: int) -> None:
        """The body is on disk (counted in the free space now), not yet named: it must still
        leave `keep_free`, and its real size fit the quota."""
        _, free, keep, mount = self._disk(ticket.camera)
        reason = limits.room(free, keep, 0, mount)
        if reason:
            raise DiskRefusal(reason, size)
        held = self._day_bytes(ticket.camera, ticket.day)
        limit = self._quota(ticket.camera)
        with self._lock:
            others = self._coming.get((ticket.camera, ticket.day), 0) - ticket.reserved
            sent = self._sent_today(ticket.camera)
        reason = limits.over_quota(ticket.day, held + max(others, 0), size, limit,
                                   self._automatic(ticket.camera)) \
            or limits.over_sent(sent, size, limit)
        if reason:
            raise QuotaRefusal(reason, size)

    def release(self, ticket: Ticket, stored: int = 0) -> None:
        """The upload is over: its reservation goes, and the bytes stored now count for its day."""
        key = (ticket.camera, ticket.day)
        with self._lock:
            self._reserved[ticket.dev] = self._reserved.get(ticket.dev, 0) - ticket.reserved
            self._coming[key] = self._coming.get(key, 0) - ticket.reserved
            if not self._coming[key]:
                del self._coming[key]
            if stored and key in self._days:
                at, size = self._days[key]
                self._days[key] = (at, size + stored)
            if stored:
                hours = self._sent.setdefault(ticket.camera, {})
                hour = int(self.clock() // 3600)
                hours[hour] = hours.get(hour, 0) + stored
                for old in [h for h in hours if h <= hour - 24]:
                    del hours[old]

    def audit_due(self, camera: str, reason: str) -> bool:
        """True at most once a minute per camera and kind: a flood of refusals is one record."""
        now = self.clock()
        with self._lock:
            if now - self._audited.get((camera, reason), -AUDIT_EVERY) < AUDIT_EVERY:
                return False
            self._audited[(camera, reason)] = now
            return True

    def _sent_today(self, camera: str) -> int:
        """Bytes the camera's uploads stored in the last 24 hours (by the hour; this process's
        only: a restart forgets them, the day folders' own bytes stay counted)."""
        hour = int(self.clock() // 3600)
        return sum(b for h, b in self._sent.get(camera, {}).items() if h > hour - 24)

    def _disk(self, camera: str) -> tuple[int, int, int, str]:
        """(st_dev, free bytes, keep_free, mount) of the camera's filesystem; keep_free the
        largest of the cameras on it, as retention keeps it."""
        root = self.cameras[camera].root
        st, dev = os.statvfs(root), os.stat(root).st_dev
        total = st.f_blocks * st.f_frsize
        keep = max(c.settings.keep_free.of(total) for c in self.cameras.values()
                   if _dev(c.root) == dev)
        return dev, st.f_bavail * st.f_frsize, keep, _mount(root)

    def _quota(self, camera: str) -> int:
        settings = self.cameras[camera].settings
        if settings.upload_quota:
            return settings.upload_quota
        now = self.clock()
        found = self._quotas.get(camera)
        if found is None or now - found[0] > QUOTA_EVERY:
            today = _today(self.cameras[camera])
            recent = self.recent.get(camera, list)()
            found = (now, limits.quota(0, settings.upload_quota_max, recent, today))
            self._quotas[camera] = found
        return found[1]

    def _automatic(self, camera: str) -> bool:
        return not self.cameras[camera].settings.upload_quota

    def _day_bytes(self, camera: str, day: str) -> int:
        """The day folder's bytes (its files' sizes, uploads under way not counted), measured
        at most once a MEASURE_EVERY and counted on in between."""
        key, now = (camera, day), self.clock()
        found = self._days.get(key)
        if found is None or now - found[0] > MEASURE_EVERY:
            found = (now, folder_bytes(self.cameras[camera].root / day))
            with self._lock:
                self._days = {k: v for k, v in self._days.items() if now - v[0] <= MEASURE_EVERY}
                self._days[key] = found
        return found[1]


def folder_bytes(folder: Path) -> int:
    """The sizes of a day folder's files, dotfiles (uploads under way) left out."""
    total = 0
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return 0
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            if entry.is_file(follow_symlinks=False):
                total += entry.stat(follow_symlinks=False).st_size
        except FileNotFoundError:
            continue
    return total


def _dev(path: Path) -> int:
    try:
        return os.stat(path).st_dev
    except OSError:
        return -1


def _mount(path: Path) -> str:
    current = Path(os.path.abspath(path))
    while not os.path.ismount(current):
        current = current.parent
    return str(current)


def _today(camera: Camera) -> str:
    return dt.datetime.now(camera.settings.tz).date().isoformat()
