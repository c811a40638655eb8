"""Where a compaction's time goes: the wall and CPU seconds of each of its phases."""

from __future__ import annotations

import json
import resource
import time
from collections.abc import Callable

# In the order a job runs them; a job records those it ran.
PHASES = ("probe", "encode", "join", "verify", "index", "checksum", "quality")
Clock = Callable[[], tuple[float, float]]  # () -> (wall s, CPU s)


def process_clock() -> tuple[float, float]:
    """Monotonic wall seconds, and the CPU seconds of this process and of its finished children
    (every ffmpeg a phase starts has been waited for by the time the phase ends)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    return time.monotonic(), cpu


class Phases:
    """A stopwatch with one lap per phase: `begin(name)` ends the running phase and starts the next."""

    def __init__(self, clock: Clock = process_clock):
        self.clock = clock
        self.times: dict[str, tuple[float, float]] = {}
        self._running: tuple[str, float, float] | None = None

    def begin(self, name: str) -> None:
        self.end()
        self._running = (name, *self.clock())

    def end(self) -> None:
        if self._running is None:
            return
        name, wall0, cpu0 = self._running
        wall, cpu = self.clock()
        before = self.times.get(name, (0.0, 0.0))
        self.times[name] = (before[0] + wall - wall0, before[1] + cpu - cpu0)
        self._running = None

    def seconds(self, name: str) -> float:
        return self.times.get(name, (0.0, 0.0))[0]

    def dumps(self) -> str:
        return dumps(self.times)

    def text(self) -> str:
        return text(self.times)


def dumps(times: dict[str, tuple[float, float]]) -> str:
    """Pure: the catalog's text for the phase times, `{"encode": [wall, cpu], ...}`."""
    return json.dumps({k: [round(w, 3), round(c, 3)] for k, (w, c) in times.items()})


def loads(text: str | None) -> dict[str, tuple[float, float]]:
    """Pure: the phase times back from the catalog's text; empty for none or a damaged text."""
    try:
        raw = json.loads(text or "{}")
        return {k: (float(v[0]), float(v[1])) for k, v in raw.items()}
    except (ValueError, TypeError, IndexError, AttributeError):
        return {}


def text(times: dict[str, tuple[float, float]]) -> str:
    """Pure: `probe 0.1 s, encode 7.9 s (15.2 CPU s), ...` in the order a job runs them."""
    order = [p for p in PHASES if p in times] + sorted(set(times) - set(PHASES))
    return ", ".join(f"{p} {times[p][0]:.1f} s ({times[p][1]:.1f} CPU s)" for p in order)
