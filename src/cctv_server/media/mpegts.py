"""Reading a segment's first video timestamp and duration straight out of its MPEG-TS packets.

Only the head and the tail of the file are read, so cataloguing a day of 8,640 segments costs
well under a second of parsing; opening each one with a full demuxer costs several times more.
Whatever a file's size, at most HEAD_BYTES + TAIL_MAX bytes of it are read.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..errors import CorruptSegment

PACKET = 188
SYNC = 0x47
CLOCK = 90_000
WRAP = 1 << 33
VIDEO_STREAM_TYPES = {0x01, 0x02, 0x10, 0x1B, 0x24, 0x42}
HEAD_BYTES = 32 * 1024
TAIL_BYTES = 32 * 1024
TAIL_MAX = 4 << 20  # the tail window's limit: a preallocated upload that stopped is GBs of zeros
TAIL_VALUES = 3  # enough timestamps to find the largest and one frame's length
# The longest gap between frames counted as one frame's length: a 1 fps camera's frames are a
# second apart, a time-lapse's several. A longer gap is footage missing inside the segment.
MAX_FRAME_GAP = 10 * CLOCK


@dataclass(frozen=True)
class Probe:
    """What the catalog keeps of a segment: first video PTS (90 kHz) and duration (seconds)."""

    first_pts: int
    duration: float
    frame_duration: float


def probe(path: Path) -> Probe:
    """Probe one segment file; CorruptSegment when it holds no timed video."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        head = f.read(HEAD_BYTES)
        start = _first_sync(head)
        pid = _video_pid(head, start)
        head_pts = _pts_values(head, start, pid)
        if not head_pts:
            raise CorruptSegment(f"{path.name}: no video timestamps in the first packets")
        tail_pts = head_pts if size <= HEAD_BYTES else _tail_pts(f, size, start, pid)
    if not tail_pts:
        raise CorruptSegment(f"{path.name}: no video timestamps in its last "
                             f"{TAIL_MAX >> 20} MB of {size} bytes (padded, or cut short?)")
    return _timing(head_pts, tail_pts)


def _tail_pts(f, size: int, start: int, pid: int) -> list[int]:
    """PTS values near the end; the window grows until it holds a few (big final frames), up
    to TAIL_MAX bytes."""
    window = TAIL_BYTES
    while True:
        offset = max(start, size - window)
        offset -= (offset - start) % PACKET
        f.seek(offset)
        found = _pts_values(f.read(size - offset), 0, pid)
        if len(found) >= TAIL_VALUES or offset == start or window >= TAIL_MAX:
            return found
        window = min(window * 4, TAIL_MAX)


def _timing(head_pts: list[int], tail_pts: list[int]) -> Probe:
    first = min(head_pts[:8])  # with B-frames the smallest PTS is among the first few
    last = max(tail_pts)
    frame = _frame_ticks(head_pts + tail_pts) or 0
    span = (last - first) % WRAP + frame
    return Probe(first_pts=first, duration=span / CLOCK, frame_duration=frame / CLOCK)


def _frame_ticks(values: list[int]) -> int | None:
    """The commonest gap between neighbouring timestamps, the smaller on a tie: one frame's
    duration. The jump between the head's values and the tail's is one gap among many."""
    ordered = sorted(set(values))
    gaps = Counter(b - a for a, b in zip(ordered, ordered[1:]) if 0 < b - a <= MAX_FRAME_GAP)
    return min(gaps, key=lambda gap: (-gaps[gap], gap)) if gaps else None


def _first_sync(data: bytes) -> int:
    for i in range(min(len(data), PACKET)):
        if data[i] == SYNC and all(
            data[j] == SYNC for j in range(i, min(len(data), i + PACKET * 4), PACKET)
        ):
            return i
    raise CorruptSegment("no MPEG-TS sync bytes found")


def _packets(data: bytes, start: int):
    """(pid, payload_unit_start, payload) for each whole packet from `start`."""
    for i in range(start, len(data) - PACKET + 1, PACKET):
        if data[i] != SYNC:
            continue
        flags = data[i + 1]
        pid = ((flags & 0x1F) << 8) | data[i + 2]
        control = (data[i + 3] >> 4) & 0x3
        if not control & 0x1:
            continue
        offset = i + 4 + (1 + data[i + 4] if control & 0x2 else 0)
        yield pid, bool(flags & 0x40), data[offset : i + PACKET]


def _section(payload: bytes) -> bytes:
    pointer = payload[0] if payload else 0
    return payload[1 + pointer :]


def _video_pid(data: bytes, start: int) -> int:
    """Find the PMT through the PAT, then the first video stream's PID in the PMT."""
    pmt_pids: set[int] = set()
    for pid, unit_start, payload in _packets(data, start):
        if pid == 0 and unit_start and not pmt_pids:
            pmt_pids = _pat_programs(_section(payload))
        elif pid in pmt_pids and unit_start:
            video = _pmt_video(_section(payload))
            if video is not None:
                return video
    raise CorruptSegment("no video stream in the program table")


def _pat_programs(sec: bytes) -> set[int]:
    length = ((sec[1] & 0x0F) << 8) | sec[2] if len(sec) > 3 else 0
    body = sec[8 : 3 + length - 4]
    return {
        ((body[i + 2] & 0x1F) << 8) | body[i + 3]
        for i in range(0, len(body) - 3, 4)
        if (body[i] << 8 | body[i + 1]) != 0
    }


def _pmt_video(sec: bytes) -> int | None:
    if len(sec) < 12:
        return None
    length = ((sec[1] & 0x0F) << 8) | sec[2]
    info = ((sec[10] & 0x0F) << 8) | sec[11]
    i, end = 12 + info, min(len(sec), 3 + length - 4)
    while i + 5 <= end:
        stream_type, pid = sec[i], ((sec[i + 1] & 0x1F) << 8) | sec[i + 2]
        if stream_type in VIDEO_STREAM_TYPES:
            return pid
        i += 5 + (((sec[i + 3] & 0x0F) << 8) | sec[i + 4])
    return None


def _pts_values(data: bytes, start: int, video_pid: int) -> list[int]:
    found = []
    for pid, unit_start, payload in _packets(data, start):
        if pid == video_pid and unit_start:
            pts = _pes_pts(payload)
            if pts is not None:
                found.append(pts)
    return found


def _pes_pts(p: bytes) -> int | None:
    if len(p) < 14 or p[0:3] != b"\x00\x00\x01" or not p[7] & 0x80:
        return None
    return (
        ((p[9] >> 1) & 0x07) << 30 | p[10] << 22 | (p[11] >> 1) << 15 | p[12] << 7 | p[13] >> 1
    )
