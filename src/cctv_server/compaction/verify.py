"""What "verified" means: a new video holds every frame that went in, its checksum reads back, and it still hashes to it."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

from .. import durable, layout
from ..errors import CctvError
from ..media import decode, mp4
from .chunks import Frames
from .inputs import Input, tolerance


class VerifyError(CctvError):
    """The new video does not hold what went in; nothing is deleted."""


TIME_SLACK = 0.001  # seconds a frame may sit from its place: the 90 kHz clock's rounding, and more


def verify_video(path: Path, inputs: list[Input], encoded: Frames | None = None,
                 decimated: bool = False) -> mp4.Layout:
    """The video decodes end to end, is fragmented, and holds what went in: every frame the
    encoders encoded (`encoded`, each chunk's frame times) at its place, and every frame of the
    inputs, or with still frames dropped (`decimated`) the inputs' span of time. docs/compaction.md
    says what this proves."""
    out = decode.decode(path)
    if out.error:
        raise VerifyError(f"the new video does not decode to its end: {out.error}")
    if out.repeated > sum(i.repeated for i in inputs):
        raise VerifyError(f"{out.repeated} frames of the new video share a timestamp")
    if encoded is not None:
        check_encoded(out.times, encoded, frame_of(inputs))
    if decimated:
        check_kept(out, inputs)
    else:
        check_every_frame(out, inputs)
    layout = mp4.layout(path)
    check_span(layout, out, inputs, decimated)
    return layout


def check_encoded(times: list[float], encoded: Frames, frame: float) -> None:
    """Every frame each chunk's encoder encoded is in the video, all of a chunk's moved by one
    offset; and nothing else is.

    The frames at a chunk's two ends may sit up to (less than) a `frame` away: where an encoder
    reorders frames (x264's B-frames, SVT-AV1's), the join's muxer moves a chunk's first or last
    frame by part of a frame. And the video's very first frame may sit earlier: a fragmented MP4
    has no edit list, so the muxer shows its first frame from zero.
    """
    want = sum(len(chunk) for chunk in encoded)
    if len(times) != want:
        raise VerifyError(f"the new video has {len(times)} frames, its encoders encoded {want}")
    ordered, start = sorted(times), 0
    for k, chunk in enumerate(encoded):
        mine, start = ordered[start:start + len(chunk)], start + len(chunk)
        made = sorted(chunk)
        moved = [got - took for got, took in zip(mine, made)]
        offset = statistics.median(moved) if moved else 0.0
        for n, (shift, took) in enumerate(zip(moved, made)):
            if not _in_place(shift - offset, n, len(made), frame, first=k == 0):
                raise VerifyError(f"chunk {k}: its frame at {took - made[0]:.3f} s is not in "
                                  f"the video (the frame in its place is "
                                  f"{shift - offset:+.3f} s off)")


def _in_place(off: float, n: int, count: int, frame: float, first: bool) -> bool:
    """Pure: whether frame n of a chunk of `count`, `off` s from its place, is where it belongs."""
    if abs(off) <= TIME_SLACK:
        return True
    if first and n == 0 and off < 0:
        return True
    return n in (0, count - 1) and abs(off) < frame


def frame_of(inputs: list[Input]) -> float:
    """The camera's frame duration (s), the commonest among the inputs'."""
    steps = [i.duration / i.frames for i in inputs if i.frames > 1]
    return statistics.median(steps) if steps else 0.0


def check_every_frame(out: decode.Decoded, inputs: list[Input]) -> None:
    """As many frames as the inputs hold, over as long, but for one a discontinuity or damage."""
    want, slack = sum(i.frames for i in inputs), tolerance(inputs)
    if abs(out.frames - want) > slack:
        raise VerifyError(f"the new video has {out.frames} frames, the segments {want}")
    length = sum(i.duration for i in inputs)
    if abs(out.duration - length) > (slack + 1) * out.frame_duration + 1e-3:
        raise VerifyError(f"the new video lasts {out.duration:.3f} s, the segments {length:.3f} s")


def check_kept(out: decode.Decoded, inputs: list[Input]) -> None:
    """Still frames dropped: no more frames than the inputs hold."""
    want = sum(i.frames for i in inputs)
    if out.frames > want + tolerance(inputs):
        raise VerifyError(f"the new video has {out.frames} frames, more than the segments' {want}")


def check_span(layout: mp4.Layout, out: decode.Decoded, inputs: list[Input],
               decimated: bool) -> None:
    """The fragments add up to the frames' span; with frames dropped, to the inputs' exactly."""
    if decimated:
        length = sum(i.duration for i in inputs)
        if abs(layout.duration - length) > TIME_SLACK:
            raise VerifyError(f"the new video spans {layout.duration:.3f} s, "
                              f"the segments {length:.3f} s")
        return
    if abs(layout.duration - out.duration) > (tolerance(inputs) + 1) * out.frame_duration + 1e-3:
        raise VerifyError(f"the new video's fragments last {layout.duration:.3f} s, "
                          f"its frames {out.duration:.3f} s")


def write_checksum(day_dir: Path, video: str, data_file: Path) -> str:
    """Write `video.sha512sum` for the bytes of data_file, then read both back and compare."""
    digest = durable.sha512(data_file)
    target = day_dir / layout.checksum_name(video)
    durable.write_atomic(target, durable.checksum_line(digest, video).encode())
    parsed = durable.parse_checksum(target.read_text())
    if parsed != (digest, video) or durable.sha512(data_file) != digest:
        raise VerifyError(f"{target.name} does not match the bytes on disk")
    return digest


# --- bit rot: a video's bytes against its checksum, any time later ------------------------


@dataclass(frozen=True)
class Problem:
    day: str
    video: str
    reason: str

    def __str__(self) -> str:
        return f"{self.day}/{self.video}: {self.reason}"


def check_day(day_dir: Path) -> tuple[int, list[Problem]]:
    """(videos checked, problems) for one day folder."""
    _, videos = layout.list_day(day_dir)
    problems = [p for name in sorted(videos) if (p := check_video(day_dir, name))]
    return len(videos), problems


def check_video(day_dir: Path, video: str) -> Problem | None:
    day = day_dir.name
    try:
        text = (day_dir / (video + layout.CHECKSUM_SUFFIX)).read_text()
    except FileNotFoundError:
        return Problem(day, video, "no .sha512sum file")
    except (OSError, UnicodeDecodeError) as err:
        return Problem(day, video, f"unreadable .sha512sum file ({err})")
    parsed = durable.parse_checksum(text)
    if parsed is None or parsed[1] != video:
        return Problem(day, video, ".sha512sum file is not a sha512sum line for this video")
    try:
        actual = durable.sha512(day_dir / video)
    except OSError as err:
        return Problem(day, video, f"cannot read the video ({err.strerror})")
    if actual != parsed[0]:
        return Problem(day, video, "MISMATCH: the bytes on disk differ from the checksum")
    return None
