"""Reading a file's video frames with PyAV: decoded end to end, or counted from its packets."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
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
    times: list[float] = field(default_factory=list, repr=False, compare=False)  # each frame's
    # Seconds the file's earliest stream (its sound, often) starts before its first frame: the
    # concat demuxer lines a file up by that start, not by its picture's (compaction/chunks.py).
    lead: float = 0.0
    codec: str | None = None  # the video codec as ffmpeg names it (h264, hevc, mpeg2video)
    size: tuple[int, int] | None = None  # width and height, from the stream's header

    @property
    def duration(self) -> float:
        if not self.frames or self.first is None or self.last is None:
            return 0.0
        return self.last - self.first + self.frame_duration


def decode(path: Path) -> Decoded:
    """Decode all video frames; errors are reported in the result, never raised."""
    times: list[float] = []
    fps, audio, error, lead = None, False, None, 0.0
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.video:
                return Decoded(0, None, None, 0.0, None, False, "no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            fps = float(stream.average_rate) if stream.average_rate else None
            audio, lead = bool(container.streams.audio), _lead(container, stream)
            for frame in container.decode(stream):
                if frame.pts is not None:
                    times.append(float(frame.pts * frame.time_base))
                else:
                    times.append(times[-1] if times else 0.0)
    except (av.FFmpegError, OSError, ValueError) as err:
        error = _reason(err)
    return _summary(times, fps, audio, error, lead)


def probe(path: Path) -> Decoded:
    """Count the video frames from the demuxer's packets (one per frame) and decode only the first.

    A segment's frames cost a tenth of a decode this way; the encoder decodes them all anyway. A
    file whose first frame does not decode counts as having none.
    """
    times: list[float] = []
    fps, audio, error, first, lead, kind = None, False, None, None, 0.0, (None, None)
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.video:
                return Decoded(0, None, None, 0.0, None, False, "no video stream")
            stream = container.streams.video[0]
            fps = float(stream.average_rate) if stream.average_rate else None
            kind = _kind(stream.codec_context)
            audio, lead = bool(container.streams.audio), _lead(container, stream)
            first = _FirstFrame(stream)
            for packet in container.demux(stream):
                if packet.size == 0:  # the demuxer's flush packet
                    continue
                first.feed(packet)
                times.append(_packet_time(packet, times))
            first.finish()
    except (av.FFmpegError, OSError, ValueError) as err:
        error = _reason(err)
    if times and not (first and first.found):
        return Decoded(0, None, None, 0.0, fps, audio, error or "the first frame does not decode")
    return replace(_summary(times, fps, audio, error, lead), codec=kind[0], size=kind[1])


def _kind(ctx) -> tuple[str | None, tuple[int, int] | None]:
    """A stream's codec and frame size, as its header gives them."""
    return ctx.name, ((ctx.width, ctx.height) if ctx.width and ctx.height else None)


def _lead(container, stream) -> float:
    """Seconds from the container's start (its earliest stream's, as the demuxer found it) to the
    video stream's; 0 when either is unknown or the video comes first."""
    if container.start_time is None or stream.start_time is None:
        return 0.0
    video = float(stream.start_time * stream.time_base)
    return max(0.0, round(video - container.start_time / av.time_base, 6))


class _FirstFrame:
    """Decodes packets only until the first frame comes out."""

    def __init__(self, stream):
        self.stream, self.found = stream, False

    def feed(self, packet) -> None:
        if not self.found:
            self.found = bool(self.stream.codec_context.decode(packet))

    def finish(self) -> None:
        if not self.found:  # a decoder that holds frames back gives them up when flushed
            self.found = bool(self.stream.codec_context.decode(None))


def _packet_time(packet, before: list[float]) -> float:
    if packet.pts is not None:
        return float(packet.pts * packet.time_base)
    return before[-1] if before else 0.0


def frame_size(path: Path) -> tuple[int, int] | None:
    """Width and height of the first video stream, from its header; None if it has none."""
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            ctx = container.streams.video[0].codec_context if container.streams.video else None
            return (ctx.width, ctx.height) if ctx is not None and ctx.width else None
    except (av.FFmpegError, OSError, ValueError):
        return None


def codec_name(path: Path, kind: str = "video") -> str | None:
    """The codec of the first stream of this kind ("video", "audio") as ffmpeg names it (h264,
    hevc, av1; aac, mp2); None if there is none or the file is unreadable."""
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            streams = getattr(container.streams, kind)
            return streams[0].codec_context.name if streams else None
    except (av.FFmpegError, OSError, ValueError):
        return None


def _summary(times: list[float], fps: float | None, audio: bool, error: str | None,
             lead: float = 0.0) -> Decoded:
    if not times:
        return Decoded(0, None, None, 0.0, fps, audio, error or "no video frames")
    frame = _frame_duration(times) or (1 / fps if fps else DEFAULT_FRAME)
    repeated = len(times) - len(set(times))
    return Decoded(len(times), min(times), max(times), frame, fps, audio, error, repeated, times,
                   lead)


def _frame_duration(times: list[float]) -> float | None:
    """The commonest step between neighbouring frame times (to the microsecond)."""
    ordered = sorted(set(times))
    steps = Counter(round(b - a, 6) for a, b in zip(ordered, ordered[1:]) if b > a)
    return steps.most_common(1)[0][0] if steps else None


def _reason(err: Exception) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0][:300]
