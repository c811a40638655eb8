"""Measuring existing days again from their footage (`cctv-server activity --rebuild`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..config import Settings
from ..footage.reader import Footage
from . import files
from .index import Index
from .worker import Measurer


def rebuild_day(settings: Settings, footage: Footage, measurer: Measurer, index: Index, day: str,
                advance: Callable[[float], None] = lambda seconds: None) -> tuple[int, int]:
    """Measure every file of a day (its segments, its videos) and replace the day's rows, then
    make its events' stills; (files measured, files skipped). `advance` is told the seconds of
    footage each file held, for a progress bar."""
    root = Path(settings.root)
    rows = []
    for name, pieces in files.by_file(footage.day(day)).items():
        rows.append(files.measure_file(root / day / name, day, pieces, settings.activity_mask))
        advance(sum(p.duration for p in pieces))
    index.put(rows, replace_day=day)
    measurer.make_stills(day, limit=10_000)
    return len(rows), sum(1 for r in rows if r.error)
