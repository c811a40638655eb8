"""Pure: when a day may be compacted, in what order, how failures back off, and the state a day shows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ..footage.timeline import day_bounds

BACKOFF_FIRST = 300.0  # seconds after the first failure
BACKOFF_MAX = 86400.0
STALE_PROGRESS = 120.0  # a "compacting" row not updated this long belongs to a dead process


def eligible_at(day: str, tz: ZoneInfo, settle: float, quiet: float,
                last_arrival: float | None) -> float:
    """Unix time from which a day may be compacted.

    `settle` counts from the end of the local day (so a 23- or 25-hour day ends when it really
    ends); `quiet` from the last segment to arrive. The quiet period is never longer than the
    settle, so `--settle 0` means "now".
    """
    settled = day_bounds(day, tz)[1] + settle
    if last_arrival is None:
        return settled
    return max(settled, last_arrival + min(quiet, settle))


def backoff(failures: int) -> float:
    """Seconds to wait before retrying a day that failed `failures` times in a row."""
    if failures <= 0:
        return 0.0
    return min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (failures - 1))


def given_up(row: dict | None, retries: int) -> bool:
    """Whether a day's compaction failed `retries` times in a row, so that the compactor no
    longer retries it (0 retries: it is retried for ever)."""
    row = row or {}
    return (retries > 0 and row.get("state") == "failed"
            and (row.get("failures") or 0) >= retries)


@dataclass(frozen=True)
class Candidate:
    """A day that has segments, and when it may be compacted next."""

    day: str
    ready_at: float  # eligibility, or the retry time after a failure, whichever is later


def candidate(day: str, tz: ZoneInfo, settle: float, quiet: float, last_arrival: float | None,
              retry_at: float | None = None) -> Candidate:
    ready = eligible_at(day, tz, settle, quiet, last_arrival)
    return Candidate(day, max(ready, retry_at or 0.0))


def due(candidates: Iterable[Candidate], now: float) -> list[str]:
    """Days ready now, oldest first: the oldest footage is the most settled and the largest debt."""
    return sorted(c.day for c in candidates if c.ready_at <= now)


def next_wakeup(candidates: Iterable[Candidate], now: float) -> float | None:
    """The earliest future moment a day becomes ready, if any."""
    future = [c.ready_at for c in candidates if c.ready_at > now]
    return min(future) if future else None


@dataclass(frozen=True)
class DayState:
    """What the index page and `status` say about a day's compaction."""

    kind: str  # "segments only", "waiting", "compacting", "compacted", "failed", "given up"
    text: str


def day_state(*, segments: int, videos: int, video_size: int, row: dict | None,
              ready_at: float | None, now: float, clock, size, retries: int = 0) -> DayState:
    """The state of one day from its catalog counts and compaction row; `clock`/`size` format."""
    row = row or {}
    if row.get("state") == "compacting" and now - (row.get("updated") or 0) < STALE_PROGRESS:
        why = f", {row['reason']}" if row.get("reason") else ""  # e.g. waiting for a worker
        return DayState("compacting", f"compacting ({row.get('percent') or 0:.0f}%{why})")
    if segments and given_up(row, retries):
        return DayState("given up", given_up_text(row))
    if segments and row.get("state") == "failed":
        retry = f", retry at {clock(row['retry_at'])}" if row.get("retry_at") else ""
        return DayState("failed", f"failed ({row.get('reason') or 'unknown'}{retry})")
    if segments and ready_at is not None and ready_at > now:
        prefix = "compacted, late segments " if videos else ""
        return DayState("waiting", f"{prefix}waiting (eligible at {clock(ready_at)})")
    if segments:
        return DayState("segments only", "segments only" + (" + compacted video" if videos else ""))
    if videos:
        return DayState("compacted", f"compacted ({report(row, video_size, size)})")
    return DayState("segments only", "empty")


def report(row: dict, video_size: int, size) -> str:
    """The last compaction's quality report, as far as it is known: its sizes, how much smaller,
    how fast, its SSIM and whether still frames were dropped; the day's video size first when
    more than that one video makes it up."""
    parts = [size(video_size)]
    if row.get("input_size") and row.get("output_size"):
        sizes = f"{size(row['input_size'])} → {size(row['output_size'])}"
        parts = [sizes] if row["output_size"] == video_size else [*parts, f"last {sizes}"]
    if row.get("ratio"):
        parts.append(f"{row['ratio']:.1f}x smaller")
    if row.get("realtime"):
        parts.append(f"{row['realtime']:.1f}x realtime")
    if row.get("ssim") is not None:
        parts.append(f"SSIM {row['ssim']:.3f}")
    if row.get("mode") == "drop":
        parts.append("still frames dropped")
    if row.get("workers"):  # its chunks were tasks (tasks/)
        parts.append(f"by {row['workers']} worker" + ("s" if row["workers"] > 1 else ""))
    return ", ".join(parts)


def given_up_text(row: dict, day: str | None = None) -> str:
    """What a day that is no longer retried says; with its name, how to try it again."""
    hint = f"; `cctv-server compact --date {day}` tries again" if day else ""
    return (f"failed {row.get('failures')} times, no longer retried"
            f" ({row.get('reason') or 'unknown'}); its segments are kept{hint}")
