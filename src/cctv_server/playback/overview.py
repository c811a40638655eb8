"""Pure: what the overview says about one camera: recording now or not, today's footage, disk, compaction."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

RECORDING_WITHIN = 60.0  # seconds: newer footage than this means the camera is recording now


@dataclass(frozen=True)
class Tile:
    camera: str
    recording: bool
    newest: float | None  # wall-clock end of the newest footage
    today: float  # seconds of footage today
    gaps: int  # gaps in today's footage
    used: int  # bytes of recordings on disk (segments and videos)
    compaction: str


def tile(camera: str, newest: float | None, today: float, gaps: int, used: int,
         states: Counter, now: float, segment: float = 10.0) -> Tile:
    """`states` counts the camera's days by compaction state; `segment` is its newest segment's
    length: a camera that uploads minute-long segments is still recording a minute later."""
    recording = newest is not None and now - newest <= max(RECORDING_WITHIN, 3 * segment)
    return Tile(camera, recording, newest, today, gaps, used, compaction_text(states))


def compaction_text(states: Counter) -> str:
    """`2 waiting, 1 failed`: the days that need attention first, nothing when all is done."""
    order = ("given up", "failed", "compacting", "waiting")
    parts = [f"{states[s]} {s}" for s in order if states.get(s)]
    return ", ".join(parts) or ("all compacted" if states.get("compacted") else "nothing to compact")
