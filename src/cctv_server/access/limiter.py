"""Pure: how many failed sign-ins a client address or an account may have a minute, and for how long it waits."""

from __future__ import annotations

import threading
from collections import defaultdict, deque

WINDOW = 60.0  # seconds
LIMIT = 5  # failures per window, per address and per account


class Limiter:
    """Failures counted per key ('address:1.2.3.4', 'account:alice') in a sliding window."""

    def __init__(self, limit: int = LIMIT, window: float = WINDOW):
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def wait(self, keys: list[str], now: float) -> float:
        """Seconds until these keys may try again; 0 when they may now."""
        with self._lock:
            return max([self._wait(k, now) for k in keys] + [0.0])

    def failed(self, keys: list[str], now: float) -> None:
        with self._lock:
            for key in keys:
                self._failures[key].append(now)
                self._wait(key, now)  # drops what left the window

    def _wait(self, key: str, now: float) -> float:
        times = self._failures.get(key)
        if not times:
            return 0.0
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return 0.0
        return times[0] + self.window - now if len(times) >= self.limit else 0.0
