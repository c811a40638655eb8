"""Pure: what raises an alert, from plain state and `now`; which target wants it; how long to wait."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from .. import format
from .alert import URGENT, Alert

DROP_AFTER = 86400.0  # an alert not delivered within a day is dropped (with a log line)
COALESCE_FOR = 86400.0  # an alert's key is remembered this long: the same one again is dropped
FIRST_RETRY, MAX_RETRY = 2.0, 300.0
PURGE = "free space"  # retention's reason for deleting days when a disk runs short


@dataclass(frozen=True)
class Presence:
    """A camera's recording state as the rules last saw it."""

    newest: float | None = None  # the newest segment's arrival
    gone_since: float | None = None  # while offline: the arrival of its last segment before


def presence(camera: str, newest: float | None, was: Presence, now: float,
             offline_after: float) -> tuple[Presence, Alert | None]:
    """`offline` once no segment arrived for `offline_after` (never before the first one);
    `online` when one arrives again, with how long it was gone."""
    if newest is None:
        return was, None
    if was.gone_since is not None:
        if newest <= was.gone_since:
            return was, None
        gone = format.duration(newest - was.gone_since)
        return Presence(newest), Alert(
            "online", f"{camera} is recording again", f"{camera} is back after {gone}"
            " without a new segment.", f"online:{camera}:{newest:.3f}", now, camera)
    if now - newest < offline_after:
        return Presence(newest), None
    quiet = format.duration(now - newest)
    return Presence(newest, newest), Alert(
        "offline", f"{camera} has stopped recording", f"No new segment from {camera} for"
        f" {quiet}.", f"offline:{camera}:{newest:.3f}", now, camera)


def disk(short: Mapping[str, tuple[int, int]], was: frozenset[str], now: float,
         tz: ZoneInfo) -> tuple[frozenset[str], list[Alert]]:
    """`disk` when a filesystem falls below keep_free (retention then purges the oldest days);
    `short` maps each such mount to (free, keep_free); at most once a day per filesystem."""
    today = dt.datetime.fromtimestamp(now, tz).date().isoformat()
    alerts = [Alert("disk", f"{mount} is short of room", f"{mount} has {format.size(free)} free,"
                    f" below keep_free {format.size(keep)}: the oldest days are being deleted.",
                    f"disk:{mount}:{today}", now)
              for mount, (free, keep) in sorted(short.items()) if mount not in was]
    return frozenset(short), alerts


def compaction(camera: str, rows: Mapping[str, Mapping], now: float, tz: ZoneInfo) -> list[Alert]:
    """`compaction` for each day whose compaction is failing: once a day, not at every retry
    (the key carries today's date; the outbox drops a key it has seen)."""
    today = dt.datetime.fromtimestamp(now, tz).date().isoformat()
    return [Alert("compaction", f"{camera} {day}: compaction failing",
                  f"The compaction of {camera} {day} failed {row.get('failures') or 1} time(s):"
                  f" {row.get('reason') or 'no reason given'}.",
                  f"compaction:{camera}:{day}:{today}", now, camera)
            for day, row in sorted(rows.items()) if row.get("state") == "failed"]


def quarantine(camera: str, count: int, was: int | None, now: float) -> list[Alert]:
    """`compaction` when more files are quarantined than before (undecodable segments)."""
    if count <= (was or 0):
        return []
    return [Alert("compaction", f"{camera}: {count} file(s) quarantined",
                  f"{camera} has {count} undecodable file(s) moved to DAY/quarantine/.",
                  f"quarantine:{camera}:{count}", now, camera)]


def from_audit(event: Mapping, now: float) -> Alert | None:
    """The alert an audit log event raises, if any: the sign-in limiter firing, a revoked token
    still used, an upload refused (for room: `disk`; else `security`), days deleted by the
    emergency purge (`disk`, once a day per camera)."""
    name, hour = event.get("event"), int(now // 3600)
    if name == "sign-in limited":
        who, where = event.get("account") or "?", event.get("address") or "?"
        return Alert("security", "Repeated failed sign-ins", f"Sign-ins as {who!r} from {where}"
                     f" are refused for {event.get('retry_after', '?')} s after repeated"
                     " failures.", f"sign-in-limited:{who}:{where}:{hour}", now)
    if name == "revoked token used":
        camera, token = event.get("camera"), event.get("token") or "?"
        return Alert("security", f"{camera}: a revoked token is still used",
                     f"Token {token} of {camera} was revoked but is still presented, from"
                     f" {event.get('address') or '?'}.", f"revoked:{token}:{hour}", now, camera)
    if name == "retention-delete" and event.get("reason") == PURGE:
        camera = event.get("camera")
        day = dt.datetime.fromtimestamp(now, ZoneInfo("UTC")).date().isoformat()
        return Alert("disk", f"{camera}: days deleted to free space",
                     f"Free space was below keep_free: {camera} {event.get('day')} was deleted"
                     f" ({format.size(event.get('bytes') or 0)}), the oldest days first.",
                     f"purge:{camera}:{day}", now, camera)
    if name == "upload refused":
        camera, reason = event.get("camera"), event.get("reason") or "?"
        kind = "disk" if reason in ("disk", "quota") else "security"
        return Alert(kind, f"{camera}: uploads refused ({reason})",
                     f"An upload of {event.get('bytes', '?')} bytes from {camera} was refused:"
                     f" {reason}.", f"refused:{camera}:{reason}:{hour}", now, camera)
    return None


@dataclass(frozen=True)
class ActivityEvent:
    """What the activity subsystem gives an alert: an event, its still and the player there."""

    camera: str
    start: float
    end: float
    peak: float  # the moment of the most change
    score: float
    still: bytes | None
    url: str | None


def activity_due(last_sent: float | None, start: float, every: float) -> bool:
    """At most one activity alert per camera every `every` seconds (of event time)."""
    return last_sent is None or start - last_sent >= every


def activity(event: ActivityEvent, now: float, tz: ZoneInfo, base: str | None = None) -> Alert:
    """The alert of an activity event: its still, and a link to the player at its peak (the
    event's own, else one made from the server's address `base`)."""
    at = format.clock(event.peak, tz, day="")
    url = event.url or (player_link(base, event.camera, event.peak, tz) if base else None)
    return Alert("activity", f"{event.camera}: activity at {at}",
                 f"Activity on {event.camera} from {format.clock(event.start, tz)} for"
                 f" {format.duration(event.end - event.start)} (score {event.score:.2f})."
                 + (f"\n{url}" if url else ""),
                 f"activity:{event.camera}:{event.start:.3f}", now, event.camera,
                 event.still, url)


def player_link(base: str, camera: str, moment: float, tz: ZoneInfo) -> str:
    """The player of the camera's day, opened at that moment (its `t` is local clock time)."""
    local = dt.datetime.fromtimestamp(moment, tz)
    return (f"{base.rstrip('/')}/cam/{camera}/day/{local.date().isoformat()}"
            f"?t={local.strftime('%H:%M:%S')}")


Quiet = tuple[int, int]  # minutes of the day: from, until (may wrap past midnight)


def in_quiet(quiet: Quiet | None, minute: int) -> bool:
    if quiet is None:
        return False
    start, end = quiet
    return start <= minute < end if start <= end else minute >= start or minute < end


def wants(events: frozenset[str], cameras: frozenset[str] | None, quiet: Quiet | None,
          alert: Alert, tz: ZoneInfo) -> bool:
    """Whether a target takes the alert: its kind, its camera, and in quiet hours only urgent."""
    if alert.kind not in events:
        return False
    if cameras is not None and alert.camera is not None and alert.camera not in cameras:
        return False
    local = dt.datetime.fromtimestamp(alert.time, tz)
    return alert.kind in URGENT or not in_quiet(quiet, local.hour * 60 + local.minute)


def retry_after(failures: int) -> float:
    """Seconds before trying a target again after `failures` failures in a row: 2, 4, ... 300."""
    return min(MAX_RETRY, FIRST_RETRY * 2 ** max(0, failures - 1))
