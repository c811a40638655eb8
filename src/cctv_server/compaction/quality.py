"""The quality report's SSIM: a sample of a new video compared with the segments that went into it.

Measured after the video is verified and before its segments are deleted (they are the
reference). It is a report, not a check: a measurement that fails is logged and left empty.
"""

from __future__ import annotations

import bisect
import logging
import os
import re
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import av

from ..errors import FFmpegError
from ..media import decode, ffmpeg
from . import runs

if TYPE_CHECKING:
    from .inputs import Input

log = logging.getLogger(__name__)

WINDOWS = 3  # a few windows spread over the day: the scene changes with the light
WINDOW_SECONDS = 2.0
ANCHOR_FRAMES = 5  # frames at the start that tie the video's clock to the segments'
LEAD = 0.002  # seconds to seek early: the 90 kHz clock's rounding must not drop the first frame
DELAY_FRAMES = 3  # frames an encoder may delay the whole video by (x264's B-frames: two)
TIMEOUT = 120.0  # seconds for one window; far more than a 2-s window of 1080p costs
# What reading a file with PyAV raises: a missing file, no video stream, undecodable data.
UNREADABLE = (av.FFmpegError, OSError, IndexError, ValueError)
_FRAME_ALL = re.compile(r"^n:\d+ .*\bAll:([0-9.]+)", re.M)


@dataclass(frozen=True)
class Window:
    """A stretch of the video to compare with the segment that it came from."""

    segment: str
    offset: float  # seconds: where the segment starts on the video's timeline
    within: float  # seconds from the segment's first frame to the window's
    length: float  # seconds


def sample_windows(inputs: Sequence[Input], count: int = WINDOWS,
                   length: float = WINDOW_SECONDS) -> list[Window]:
    """Pure: up to `count` windows, in the middle of the segments that hold `count` evenly spaced
    moments of the footage (or of the next undamaged one: a damaged end stops ffmpeg).

    A segment's offset is the sum of the durations before it: the compactor's concat list makes
    the video's timeline exactly that. The middle, since a segment's start is often a keyframe of
    the camera's and of the video, better than their average frame.
    """
    starts: list[float] = []
    total = 0.0
    for i in inputs:
        starts.append(total)
        total += round(i.duration, 6)  # as the concat list writes it
    chosen: dict[str, Window] = {}
    for k in range(count):
        moment = total * (k + 0.5) / count
        first = max(0, bisect.bisect_right(starts, moment) - 1)
        n = next((j for j in range(first, len(inputs)) if not inputs[j].damaged), None)
        if n is None or inputs[n].name in chosen:
            continue
        size = min(length, inputs[n].duration)
        within = (inputs[n].duration - size) / 2
        chosen[inputs[n].name] = Window(inputs[n].name, starts[n], within, size)
    return list(chosen.values())


def ssim_argv(binary: str, video: Path, video_at: float, segment: Path, within: float,
              length: float, before: float = 0.0,
              fit: tuple[int, int] | None = None) -> list[str]:
    """Pure: ffmpeg comparing `length` seconds of the video, from its timestamp `video_at`, with
    the segment's from `within` seconds after its first frame.

    The segment is read from its start and trimmed on a clock restarted at its first frame, since
    seeking in MPEG-TS can land past a keyframe and ffmpeg's zero for a file varies. Its frames
    drive the comparison: each is compared with the video's frame on show at its time, so a video
    whose still frames were dropped is scored as it plays, each kept frame standing for those
    dropped after it. The video is read on its own clock (`-copyts`) from `before` seconds ahead of
    the window (the longest a kept frame can stand) and moved so that its frame at `video_at`
    lands just before the segment's first. Each frame's SSIM goes to stdout, leaving stderr to
    errors alone. A segment of another frame size than the video's is first brought to it (`fit`)
    as its run was for the encoder (runs.fit_filter).
    """
    trim = f"trim=start={max(0.0, within - LEAD):.6f}:duration={length:.6f}"
    trim += f",{runs.fit_filter(fit)}" if fit else ""
    start = max(0.0, video_at - before - LEAD)
    return [binary, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-copyts",
            "-seek_timestamp", "1", "-ss", f"{start:.6f}", "-t", f"{video_at + length - start:.6f}",
            "-i", str(video), "-i", str(segment),
            "-lavfi", f"[0:v]setpts=PTS-{video_at + LEAD:.6f}/TB[a];"
                      f"[1:v]setpts=PTS-STARTPTS,{trim},setpts=PTS-STARTPTS[b];"
                      "[b][a]ssim=stats_file=-:shortest=1",
            "-an", "-f", "null", "-"]


def video_time(window: Window, shift: float) -> float:
    """Pure: the timestamp in the video of the window's first frame.

    The compactor's concat lists put each segment's first frame at the segment's offset (its
    sound, often a little earlier, does not move it: chunks.ffconcat); the encoder and muxer then
    move the whole timeline by one constant, `shift`.
    """
    return window.offset + window.within + shift


def shift_of(video: Sequence[float], first: Sequence[float]) -> float:
    """Pure: `shift`, from the first frames' times in the video and the first segment's frames'
    (counted from its first frame): the difference that the most of the video's frames share
    with some frame of the segment (a whole frame more or less often fits as well), and of those
    the one that puts the video's first frame on the segment's first, since every encoder keeps
    it (x264's B-frames delay the whole video by two frames; no more than DELAY_FRAMES), else the
    smallest (the pipeline keeps the camera's clock). Not every frame's: a muxer may pull the
    very first frame back to zero, and with still frames dropped the video holds only some of
    the segment's frames.
    """
    ordered = sorted(first)
    votes: dict[float, int] = {}
    for v in video:
        for f in ordered:
            shift = round(v - f, 4)
            if shift not in votes:
                votes[shift] = sum(1 for w in video if _has_near(ordered, w - shift))
    most = max(votes.values(), default=0)
    best = [c for c, n in votes.items() if n == most]
    near = DELAY_FRAMES * (ordered[1] - ordered[0]) if len(ordered) > 1 else 0.0
    on_first = [c for c in best if 0 <= c <= near and _has_near(ordered[:1], min(video) - c)]
    return on_first[0] if on_first else min(best, key=abs, default=0.0)


def _has_near(ordered: Sequence[float], t: float, slack: float = 0.0006) -> bool:
    k = bisect.bisect_left(ordered, t - slack)
    return k < len(ordered) and ordered[k] <= t + slack


def parse_ssim(stats: str) -> float | None:
    """Pure: the mean over frames of the `ssim` filter's "All" (every plane), as its own summary
    line gives it; None when no frame was compared."""
    found = [float(v) for v in _FRAME_ALL.findall(stats)]
    return sum(found) / len(found) if found else None


def measure(binary: str, video: Path, day_dir: Path, first: str,
            windows: Sequence[Window], before: float = 0.0) -> float | None:
    """The mean SSIM of the windows that could be measured; None, logged, when none could.

    `first` is the video's first segment, which ties the video's clock to the segments'; `before`
    the longest a frame of the video may stand (with still frames dropped).
    """
    try:
        anchor = frame_times(day_dir / first)
        shift = shift_of(frame_times(video, ANCHOR_FRAMES), [t - anchor[0] for t in anchor])
    except UNREADABLE as err:
        log.warning("%s: no SSIM: %s", day_dir.name, err)
        return None
    # One ffmpeg a window, side by side: each keeps about one core busy (decoding, then SSIM).
    with ThreadPoolExecutor(max(1, min(len(windows), os.cpu_count() or 1))) as pool:
        found = pool.map(lambda w: _measure_window(binary, video, day_dir, w, shift, before),
                         windows)
        scores = [s for s in found if s is not None]
    return sum(scores) / len(scores) if scores else None


def frame_times(path: Path, count: int | None = None) -> list[float]:
    """Seconds: a file's first `count` (or all) video frames' times, from its packets: a frame's
    packet carries its presentation time."""
    times: list[float] = []
    with av.open(str(path), metadata_errors="ignore") as container:
        for packet in container.demux(video=0):
            if packet.pts is not None and packet.size:
                times.append(float(packet.pts * packet.time_base))
            # A frame shown early may come in late (B-frames): read on a little, then sort.
            if count is not None and len(times) == 2 * count + 8:
                break
    if not times:
        raise OSError(f"{path.name}: no video frame with a timestamp")
    return sorted(times)[:count]


def _measure_window(binary: str, video: Path, day_dir: Path, window: Window,
                    shift: float, before: float) -> float | None:
    segment = day_dir / window.segment
    size = decode.frame_size(video)
    try:
        argv = ssim_argv(binary, video, video_time(window, shift), segment, window.within,
                         window.length, before,
                         size if size != decode.frame_size(segment) else None)
        proc = ffmpeg.run(argv, TIMEOUT)
    except (*UNREADABLE, FFmpegError, subprocess.TimeoutExpired) as err:
        log.warning("%s: no SSIM for %s: %s", day_dir.name, window.segment, _first_line(err))
        return None
    score = parse_ssim(proc.stdout.decode(errors="replace"))
    if score is None:
        log.warning("%s: no SSIM for %s: no frames compared", day_dir.name, window.segment)
    return score


def _first_line(err: Exception) -> str:
    """The first two lines: at `-loglevel error`, the one after "ffmpeg exited N:" is the cause."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return " ".join(lines[:2])[:300] if lines else type(err).__name__
