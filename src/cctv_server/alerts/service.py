"""The alerts loop in `serve`: the rules every few seconds, the outbox given out, Home Assistant.

Each pass reads each camera's state, gives new alerts to the targets' queues and keeps Home
Assistant current; the loop stops cleanly with the server."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from . import rules
from .audittail import AuditTail
from .deliver import Counts, Courier
from .homeassistant import CameraState, HomeAssistant
from .outbox import Outbox
from .rules import ActivityEvent, Presence
from .targets import Target

log = logging.getLogger(__name__)

EventsSince = Callable[[str, float], Iterable[ActivityEvent]]  # (camera, since) -> events after
ACTIVE_FOR = 60.0  # Home Assistant's "activity" stays on this long after an event ends
STILL_EVERY = 60.0  # Home Assistant's still: at most one new one a minute (each is an ffmpeg)


@dataclass
class CameraSource:
    """What the rules read of one camera, as plain callables (the server's catalog and root)."""

    name: str
    offline_after: float
    newest: Callable[[], float | None]  # the newest segment's arrival
    compactions: Callable[[], Mapping[str, Mapping]]  # day -> its compaction row
    quarantined: Callable[[], int]
    still: Callable[[], bytes | None] = lambda: None
    disk_free: Callable[[], int | None] = lambda: None
    # what the rules remember between passes
    presence: Presence = field(default_factory=Presence)
    quarantine_seen: int | None = None
    activity_since: float = 0.0
    activity_sent: float | None = None
    activity_end: float = 0.0
    still_of: float | None = None  # the newest arrival whose still Home Assistant has
    still_at: float = 0.0  # when that still was sent


def interval(cameras: Sequence[CameraSource]) -> float:
    """Seconds between passes: often enough that `offline` comes well within a minute late."""
    shortest = min((c.offline_after for c in cameras), default=60.0)
    return max(0.5, min(10.0, shortest / 4))


class Service:
    """serve's alerts: the loop, the courier's threads and the Home Assistant client."""

    def __init__(self, outbox: Outbox, targets: Sequence[Target], cameras: Sequence[CameraSource],
                 tz: ZoneInfo, short: Callable[[], Mapping[str, tuple[int, int]]] = dict,
                 events_since: EventsSince | None = None, activity_every: float = 300.0,
                 home: HomeAssistant | None = None, counts: Counts | None = None,
                 player_base: str | None = None, audit_file: Path | None = None):
        self.outbox, self.targets, self.cameras, self.tz = outbox, list(targets), list(cameras), tz
        self.short, self.events_since, self.activity_every = short, events_since, activity_every
        self.home, self.player_base = home, player_base
        self.audit_tail = AuditTail(audit_file) if audit_file else None  # other processes'
        self.counts = counts or Counts()
        self.courier = Courier(outbox, self.targets, self.counts)
        self.interval = interval(self.cameras)
        self._short: frozenset[str] = frozenset()
        self._stop = threading.Event()
        self._news = threading.Event()
        self._thread: threading.Thread | None = None
        self._keys_forgotten = 0.0
        self._failing: dict[str, str] = {}  # part -> its error, while it fails

    def start(self) -> None:
        now = time.time()
        for camera in self.cameras:
            camera.activity_since = now  # events from now on; the past is no news
        self.outbox.drop_unknown(self.targets)
        if self.audit_tail is not None:
            self.audit_tail.skip_to_end()
        self.courier.start()
        if self.home is not None:
            self.home.start()
        self._thread = threading.Thread(target=self._run, name="alerts", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._news.set()
        if self._thread is not None:
            self._thread.join(10)
        self.courier.stop()
        if self.home is not None:
            self.home.stop()

    def raise_alert(self, alert: rules.Alert) -> None:
        """From any thread (the audit log's listener): queued now, given out at once."""
        if self.outbox.put(alert):
            self._news.set()

    def on_audit(self, event: Mapping) -> None:
        alert = rules.from_audit(event, time.time())
        if alert is not None:
            self.raise_alert(alert)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.tick(time.time())
            self._news.wait(self.interval)
            self._news.clear()

    def tick(self, now: float) -> None:
        """One pass; each part on its own, so that one failing (a catalog being rebuilt) does not
        keep the others from running."""
        for c in self.cameras:
            self._guarded(f"{c.name} camera", lambda: self._camera(c, now))
        for name, part in (("disk", lambda: self._disk(now)),
                           ("activity", lambda: self._activity(now)),
                           ("audit log", lambda: self._purges(now)),
                           ("home assistant", lambda: self._home(now)),
                           ("delivery", self._fan_out)):
            self._guarded(name, part)

    def _guarded(self, name: str, part: Callable[[], None]) -> None:
        """Run one part; a failure is logged when it starts or changes, not at every pass."""
        try:
            part()
        except Exception as err:  # the loop must outlive any one bug or broken catalog
            said = f"{type(err).__name__}: {err}"
            if self._failing.get(name) == said:
                pass
            elif isinstance(err, (OSError, sqlite3.Error)):  # a full disk (the outbox is a
                # folder), a catalog deleted or damaged under us (the watcher rebuilds it): one line
                log.error("alerts: the %s pass failed: %s", name, err)
            else:
                log.exception("alerts: the %s pass failed", name)
            self._failing[name] = said
        else:
            if self._failing.pop(name, None) is not None:
                log.info("alerts: the %s pass works again", name)

    def _camera(self, c: CameraSource, now: float) -> None:
        c.presence, alert = rules.presence(c.name, c.newest(), c.presence, now, c.offline_after)
        found = [alert] if alert else []
        found += rules.compaction(c.name, c.compactions(), now, self.tz)
        count = c.quarantined()
        found += rules.quarantine(c.name, count, c.quarantine_seen, now)
        c.quarantine_seen = count
        for a in found:
            self.outbox.put(a, now)

    def _disk(self, now: float) -> None:
        self._short, found = rules.disk(self.short(), self._short, now, self.tz)
        for a in found:
            self.outbox.put(a, now)

    def _purges(self, now: float) -> None:
        """Retention's deletions, which the compactor's process writes to the audit log: this
        process's own events reach `on_audit` as they are written."""
        if self.audit_tail is None:
            return
        for event in self.audit_tail.new_events():
            if event.get("event") == "retention-delete":
                alert = rules.from_audit(event, now)
                if alert is not None:
                    self.outbox.put(alert, now)

    def _activity(self, now: float) -> None:
        if self.events_since is None:
            return
        for c in self.cameras:
            for event in sorted(self.events_since(c.name, c.activity_since), key=lambda e: e.start):
                c.activity_since = max(c.activity_since, event.end)
                c.activity_end = max(c.activity_end, event.end)
                if rules.activity_due(c.activity_sent, event.start, self.activity_every):
                    c.activity_sent = event.start
                    self.outbox.put(rules.activity(event, now, self.tz, self.player_base), now)

    def _home(self, now: float) -> None:
        if self.home is None or not self.home.client.is_connected():
            return  # all is sent again once it is (the still too)
        for c in self.cameras:
            newest = c.presence.newest
            still = None
            if newest is not None and newest != c.still_of and now - c.still_at >= STILL_EVERY:
                still, c.still_of, c.still_at = c.still(), newest, now
            self.home.publish(c.name, CameraState(
                recording=newest is not None and c.presence.gone_since is None,
                activity=now - c.activity_end < ACTIVE_FOR,
                last_segment=_iso(newest, self.tz), disk_free=c.disk_free(), still=still))

    def _fan_out(self) -> None:
        if self.outbox.fan_out(self.targets, self.tz):
            self.courier.wake()
        now = time.time()
        if now - self._keys_forgotten > 3600:
            self.outbox.forget_old_keys(now)
            self._keys_forgotten = now


def _iso(t: float | None, tz: ZoneInfo) -> str | None:
    return None if t is None else dt.datetime.fromtimestamp(t, tz).isoformat(timespec="seconds")
