"""The body's deadline: a pause, a trickle, and a body that keeps pace, with real asyncio timers."""

from __future__ import annotations

import asyncio

import pytest

from cctv_server.errors import TooSlow
from cctv_server.upload import pace


def test_the_next_bytes_are_due_within_the_pause_limit_and_before_the_average_falls_short():
    # 10 s pause limit, 1000 B/s: at the start, due after the grace of one pause
    assert pace.deadline(100.0, 0, 100.0, 10, 1000) == 110.0
    # fast so far (50 kB by 102 s): only the pause limit binds
    assert pace.deadline(100.0, 50_000, 102.0, 10, 1000) == 112.0
    # a trickle (3 kB by 109 s): due when the average would fall under 1000 B/s
    assert pace.deadline(100.0, 3_000, 109.0, 10, 1000) == 113.0


async def _body(pieces: list[tuple[float, bytes]]):
    for wait, data in pieces:
        await asyncio.sleep(wait)
        yield data


async def _read(body: pace.Paced) -> bytes:
    return b"".join([chunk async for chunk in body])


def test_a_body_that_keeps_pace_is_read_whole_and_finished():
    body = pace.Paced(_body([(0.01, b"a" * 100)] * 5), idle=0.5, min_rate=100)
    assert asyncio.run(_read(body)) == b"a" * 500 and body.finished


@pytest.mark.parametrize("pieces", [
    [(0.0, b"a" * 100), (0.6, b"b")],  # a pause longer than idle
    [(0.0, b"a")] + [(0.15, b"b")] * 10,  # never a long pause, but 7 B/s against 100
])
def test_a_pause_or_a_trickle_is_too_slow_and_not_finished(pieces):
    body = pace.Paced(_body(pieces), idle=0.3, min_rate=100)
    with pytest.raises(TooSlow, match="too slowly"):
        asyncio.run(_read(body))
    assert not body.finished
