"""How slowly an upload's body may arrive: no pause longer than `idle`, and MIN_RATE on average after the first `idle` seconds.

The connection's own limits (web/connections.py) bound a request's head and a response, not a
body: without this, a client sending a byte every few seconds would hold its connection, and a
dotfile, for as long as it liked. One deadline at a time covers both a stall and a trickle.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

from ..errors import TooSlow

MIN_RATE = 32 * 1024  # bytes a second on average: 64 MB in 34 minutes at the slowest


def deadline(started: float, received: int, now: float, idle: float, min_rate: float) -> float:
    """Pure: when the next bytes must have arrived, `received` bytes into a body begun at
    `started`: within `idle` of now, and before the average would fall below `min_rate`
    (counted from `idle` after the start, so that a connection may take a moment to get going)."""
    return min(now + idle, started + idle + received / min_rate)


class Paced:
    """A request body read under the deadline; `finished` once the client has sent all of it."""

    def __init__(self, body: AsyncIterator[bytes], idle: float, min_rate: float = MIN_RATE,
                 clock: Callable[[], float] = time.monotonic):
        self.body = body
        self.idle = idle
        self.min_rate = min_rate
        self.clock = clock
        self.finished = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._pieces()

    async def _pieces(self) -> AsyncIterator[bytes]:
        source = aiter(self.body)
        started, received = self.clock(), 0
        while True:
            now = self.clock()
            wait = deadline(started, received, now, self.idle, self.min_rate) - now
            try:
                chunk = await asyncio.wait_for(anext(source), max(0.0, wait))
            except StopAsyncIteration:
                self.finished = True
                return
            except asyncio.TimeoutError:
                raise TooSlow(self._why(started, received)) from None
            received += len(chunk)
            yield chunk

    def _why(self, started: float, received: int) -> str:
        took = self.clock() - started
        return (f"the body came too slowly ({received} bytes in {took:.0f} s; at most"
                f" {self.idle:g} s without a byte, and {self.min_rate // 1024} KB/s on average)")
