"""Pure: where a day's stream changes (its codec, frame size or rate), so that each run is encoded on its own.

A camera whose settings change mid-day (or a token that sends odd files) leaves a day whose
segments are not one stream: the concat demuxer decodes a whole chunk with the decoder of its
first file, so an H.265 segment in a chunk that began with H.264 comes out as nothing, and the
day failed verification for ever. Each run (consecutive segments of one codec, size and rate)
therefore starts a chunk of its own. Re-encoded, every run comes out at one frame size in the
profile's codec, so the runs still join into one video; copied (`codec = "copy"`), runs of
another codec or size cannot share one track, so each becomes a video of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Rates this close are one rate: a camera's declared rate wobbles (29.97 and 30), and the rate
# only sets the length of a GOP in frames (frames keep their own times: -fps_mode passthrough).
RATE_TOLERANCE = 0.05
# Copied, a day may become at most this many videos: a token that alternates codecs must not
# turn a day into thousands of files. Such a day fails (and is given up): re-encoding joins it.
MAX_VIDEOS = 16


@dataclass(frozen=True)
class Stream:
    """What a segment's video stream is, as probed: codec (ffmpeg's name), frame size, rate."""

    codec: str | None
    width: int | None
    height: int | None
    fps: float | None

    @property
    def size(self) -> tuple[int, int] | None:
        return (self.width, self.height) if self.width and self.height else None


def same_rate(a: float | None, b: float | None) -> bool:
    """Whether two rates are one (an unknown rate is never a change)."""
    if not a or not b:
        return True
    return abs(a - b) <= RATE_TOLERANCE * max(a, b)


def same_run(a: Stream, b: Stream) -> bool:
    """Whether b may follow a in one chunk: same codec, frame size and rate."""
    return a.codec == b.codec and a.size == b.size and same_rate(a.fps, b.fps)


def joinable(a: Stream, b: Stream) -> bool:
    """Whether b's bytes may follow a's in one track as they are (copied): same codec and size."""
    return a.codec == b.codec and a.size == b.size


def starts(streams: Sequence[Stream]) -> list[int]:
    """The index of each stream that begins a run (the first always does)."""
    return [k for k, s in enumerate(streams) if k == 0 or not same_run(streams[k - 1], s)]


def first_video(streams: Sequence[Stream], copied: bool) -> int:
    """How many of the streams, from the first, go into the next video: all of them when they
    are re-encoded (every run comes out alike), else up to the first that cannot be joined."""
    if copied:
        for k in range(1, len(streams)):
            if not joinable(streams[k - 1], streams[k]):
                return k
    return len(streams)


def videos_needed(streams: Sequence[Stream], copied: bool) -> int:
    """How many videos the day's segments make (first_video, again and again)."""
    count, rest = 0, list(streams)
    while rest:
        rest, count = rest[first_video(rest, copied):], count + 1
    return count


def output_size(found: Sequence[tuple[Stream, float]]) -> tuple[int, int] | None:
    """The frame size every run is encoded at, from (stream, seconds) of each segment: the size
    the day spends longest in (the larger of two as long), rounded down to even numbers for
    4:2:0. The longest, not the largest: one odd file (a token's) must not make a day of 720p
    cost a 4K encode; a camera that changed its settings mid-day keeps most of its day as it was."""
    seconds: dict[tuple[int, int], float] = {}
    for stream, duration in found:
        if stream.size:
            seconds[stream.size] = seconds.get(stream.size, 0.0) + duration
    if not seconds:
        return None
    w, h = max(seconds, key=lambda s: (round(seconds[s], 3), s[0] * s[1]))
    return (max(2, w - w % 2), max(2, h - h % 2))


def fit_filter(size: tuple[int, int]) -> str:
    """A filter that fits a picture of any size into `size`, keeping its shape (bars fill the
    rest), so that runs of different sizes come out alike."""
    w, h = size
    return (f"scale={w}:{h}:force_original_aspect_ratio=decrease:force_divisible_by=2,"
            f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2,setsar=1")
