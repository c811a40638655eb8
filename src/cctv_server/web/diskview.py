"""What the index and the overview show of the disk: space used per camera, the rates, the forecast, the alarm."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..footage import timeline
from ..retention import forecast, holds
from ..retention.space import disk


@dataclass
class CameraDisk:
    """One camera's recordings: bytes of segments and of videos, and its rate."""

    name: str
    segments: int
    videos: int
    rate: forecast.Rate | None
    archived: int = 0  # bytes of videos in the store: not on this disk, not in its forecast

    @property
    def used(self) -> int:
        return self.segments + self.videos


@dataclass
class DiskView:
    """One filesystem and the cameras on it."""

    mount: str
    free: int
    total: int
    keep_free: int
    cameras: list[CameraDisk] = field(default_factory=list)
    forecast: forecast.Forecast | None = None
    stuck: bool = False  # below keep_free, and only held days are left to delete

    @property
    def emergency(self) -> bool:
        return self.free < self.keep_free

    @property
    def rate(self) -> forecast.Rate | None:
        rates = [c.rate for c in self.cameras if c.rate]
        if not rates:
            return None
        return forecast.Rate(sum(r.before for r in rates), sum(r.after for r in rates))


def of_cameras(states: dict, now: float | None = None,
               days: dict[str, list] | None = None) -> list[DiskView]:
    """Each filesystem holding these cameras' roots, with their usage, rates and forecast;
    `days` gives a camera's day summaries when the caller has read them already (else only the
    recent days a rate needs are read)."""
    now = time.time() if now is None else now
    days = dict(days or {})
    views: dict[int, DiskView] = {}
    raw: dict[int, int] = {}
    on: dict[int, list[str]] = {}
    for name, state in states.items():
        try:
            d = disk(state.root.path, state.settings.keep_free)
        except OSError:  # a root gone or unmounted: its footage is still listed, without this
            continue
        view = views.setdefault(d.dev, DiskView(d.mount, d.free, d.total, d.keep_free))
        view.keep_free = max(view.keep_free, d.keep_free)
        raw[d.dev] = max(raw.get(d.dev, 0), forecast.raw_days(state.settings.settle))
        on.setdefault(d.dev, []).append(name)
        if name not in days:
            days[name] = state.catalog.sizes(recent=forecast.RECENT_COMPACTED)
        view.cameras.append(_camera(name, state, days[name], now))
    for dev, view in views.items():
        rates = [c.rate for c in view.cameras if c.rate]
        view.forecast = forecast.forecast(rates, sum(c.used for c in view.cameras), view.free,
                                          view.keep_free, raw[dev])
        view.stuck = view.emergency and all(_only_held(states[n], now) for n in on[dev])
    return list(views.values())


def _camera(name: str, state, days: list, now: float) -> CameraDisk:
    found = forecast.day_bytes(days, state.catalog.compactions())
    today = timeline.local_date(now, state.settings.tz)
    return CameraDisk(name, *state.catalog.bytes_on_disk(), forecast.rate(found, today),
                      state.catalog.bytes_archived())


def _only_held(state, now: float) -> bool:
    """Whether every day of the camera is held, or today's (or later): then retention has
    nothing left to delete. Read only in an emergency (a file per day)."""
    today = timeline.local_date(now, state.settings.tz)
    return all(d.day >= today or holds.get(state.root.path, d.day) for d in state.catalog.sizes())


def days_text(days: float) -> str:
    """`less than a day`, `1 day`, `45 days`, `3 years`."""
    if days < 1:
        return "less than a day"
    if days >= 100 * 365:
        return "more than 100 years"
    if days >= 730:
        return f"{days / 365:.0f} years"
    return "1 day" if round(days) == 1 else f"{days:.0f} days"
