"""Pure: events, the stretches of activity above a camera's threshold, from its per-second measure.

Seconds at or above the threshold are joined into one event across pauses of up to `PAUSE`
seconds (someone stopping at the door is one visit, not two), and each event is padded by
`PAD` seconds either side (the approach and the leaving). A stretch needs `MIN_SECONDS` seconds
above the threshold to be an event, as an NVR's alarm frame count does: on a small, starved
picture an encoder catching up with blocks it skipped changes a percent of it for one second
now and then, which a figure, moving for longer, never looks like. An event's peak is its most
active second, its score that second's activity (percent of the picture changed). An event is
cut at midnight: a day's events come from that day's seconds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass

PAUSE = 6  # seconds below the threshold that still join two stretches
PAD = 3  # seconds added before and after
MIN_SECONDS = 2  # seconds above the threshold an event needs (not in a row: across its pauses)


@dataclass(frozen=True)
class Event:
    """A stretch of activity: Unix seconds, and the peak's activity as its score."""

    camera: str
    day: str
    start: float
    end: float
    peak: int  # the Unix second of the most activity: where its still is taken
    score: float  # percent of the picture that changed in that second

    def as_dict(self) -> dict:
        return asdict(self)


def find(seconds: dict[int, float], threshold: float, camera: str = "", day: str = "",
         pause: int = PAUSE, pad: int = PAD, min_seconds: int = MIN_SECONDS) -> list[Event]:
    """The events of one day's measured seconds, in time order."""
    above = sorted(s for s, v in seconds.items() if v >= threshold)
    events = []
    for run in _runs(above, max(pause, 2 * pad) + 1):
        if len(run) < min_seconds:
            continue
        peak = max(run, key=lambda s: (seconds[s], -s))
        events.append(Event(camera, day, float(run[0] - pad), float(run[-1] + 1 + pad), peak,
                            round(seconds[peak], 1)))
    return events


def _runs(above: list[int], gap: int) -> Iterable[list[int]]:
    """Groups of seconds in which neighbours are at most `gap` seconds apart."""
    run: list[int] = []
    for second in above:
        if run and second - run[-1] > gap:
            yield run
            run = []
        run.append(second)
    if run:
        yield run


def overlapping(events: Iterable[Event], start: float, end: float) -> list[Event]:
    """The events that overlap [start, end)."""
    return [e for e in events if e.end > start and e.start < end]


def heat(seconds: dict[int, float], start: float, end: float, step: int) -> list[float | None]:
    """The highest activity of each `step` seconds from `start` to `end` (None where nothing
    was measured): the player's heat strip."""
    found: list[float | None] = [None] * math.ceil((end - start) / step)
    for second, value in seconds.items():
        i = int((second - start) // step)
        if 0 <= i < len(found) and (found[i] is None or value > found[i]):
            found[i] = value
    return found
