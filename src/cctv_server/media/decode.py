"""Decoding a file end to end with PyAV: how many video frames it yields, over what span, and why it stopped."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import av

DEFAULT_FRAME = 1 / 25  # seconds, when a file has a single frame and no rate


@dataclass(frozen=True)
class Decoded:
    """The outcome of decoding every video frame of one file."""

    frames: int
    first: float | None  # seconds, presentation time of the earliest frame
    last: float | None
    frame_duration: float
    fps: float | None
    audio: bool
    error: str | None = None  # why decoding stopped early, if it did
    repeated: int = 0  # frames whose timestamp an earlier frame already had: players drop them

    @property
    def duration(self) -> float:
        if not self.frames or self.first is None or self.last is None:
            return 0.0
        return self.last - self.first + self.frame_duration


def decode(path: Path) -> Decoded:
    """Decode all video frames; errors are reported in the result, never raised."""
    times: list[float] = []
    fps, audio, error = None, False, None
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.video:
                return Decoded(0, None, None, 0.0, None, False, "no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            fps = float(stream.average_rate) if stream.average_rate else None
            audio = bool(container.streams.audio)
            for frame in container.decode(stream):
                if frame.pts is not None:
                    times.append(float(frame.pts * frame.time_base))
                else:
                    times.append(times[-1] if times else 0.0)
    except (av.FFmpegError, OSError, ValueError) as err:
        error = _reason(err)
    return _summary(times, fps, audio, error)


def frame_size(path: Path) -> tuple[int, int] | None:
    """Width and height of the first video stream, from its header; None if it has none."""
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            ctx = container.streams.video[0].codec_context if container.streams.video else None
            return (ctx.width, ctx.height) if ctx is not None and ctx.width else None
    except (av.FFmpegError, OSError, ValueError):
        return None


def codec_name(path: Path) -> str | None:
    """The first video stream's codec as ffmpeg names it (h264, hevc, av1); None if unreadable."""
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            return container.streams.video[0].codec_context.name if container.streams.video else None
    except (av.FFmpegError, OSError, ValueError):
        return None


def _summary(times: list[float], fps: float | None, audio: bool, error: str | None) -> Decoded:
    if not times:
        return Decoded(0, None, None, 0.0, fps, audio, error or "no video frames")
    frame = _frame_duration(times) or (1 / fps if fps else DEFAULT_FRAME)
    repeated = len(times) - len(set(times))
    return Decoded(len(times), min(times), max(times), frame, fps, audio, error, repeated)


def _frame_duration(times: list[float]) -> float | None:
    """The commonest step between neighbouring frame times (to the microsecond)."""
    ordered = sorted(set(times))
    steps = Counter(round(b - a, 6) for a, b in zip(ordered, ordered[1:]) if b > a)
    return steps.most_common(1)[0][0] if steps else None


def _reason(err: Exception) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0][:300]
