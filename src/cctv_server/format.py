"""Pure: how times, durations and sizes read on the pages (Jinja filters)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def duration(seconds: float | None) -> str:
    """`1h 02m`, `4m 05s`, `9s`."""
    total = round(seconds or 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def size(num_bytes: int | None) -> str:
    """`812 KB`, `3.9 GB` (powers of 1024, as `du -h` counts)."""
    value = float(num_bytes or 0)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit in ("B", "KB") else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"  # unreachable: GB is the last unit


def clock(seconds: float | None, tz: ZoneInfo, day: str | None = None) -> str:
    """`14:32:05` in the root's zone; prefixed with the date when it falls on another day."""
    if seconds is None:
        return "–"
    moment = dt.datetime.fromtimestamp(seconds, tz)
    text = moment.strftime("%H:%M:%S")
    if day is not None and moment.date().isoformat() != day:  # "" always shows the date
        text = moment.strftime("%Y-%m-%d ") + text
    return text


def iso(seconds: float, tz: ZoneInfo) -> str:
    """`2026-11-20T14:32:05.000+00:00`: an instant in the root's zone, to the millisecond (the
    form of EXT-X-PROGRAM-DATE-TIME and of export's X-Clip-* headers)."""
    return dt.datetime.fromtimestamp(seconds, tz).isoformat(timespec="milliseconds")
