"""What "verified" means: a new video holds every frame that went in, its checksum reads back, and it still hashes to it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import durable, layout
from ..errors import CctvError
from ..media import decode, mp4
from .inputs import Input, tolerance


class VerifyError(CctvError):
    """The new video does not hold what went in; nothing is deleted."""


def verify_video(path: Path, inputs: list[Input]) -> mp4.Layout:
    """The video decodes end to end, holds the inputs' frames and duration, and is fragmented."""
    out = decode.decode(path)
    if out.error:
        raise VerifyError(f"the new video does not decode to its end: {out.error}")
    if out.repeated > sum(i.repeated for i in inputs):
        raise VerifyError(f"{out.repeated} frames of the new video share a timestamp")
    want = sum(i.frames for i in inputs)
    slack = tolerance(inputs)
    if abs(out.frames - want) > slack:
        raise VerifyError(f"the new video has {out.frames} frames, the segments {want}")
    length = sum(i.duration for i in inputs)
    if abs(out.duration - length) > (slack + 1) * out.frame_duration + 1e-3:
        raise VerifyError(f"the new video lasts {out.duration:.3f} s, the segments {length:.3f} s")
    layout = mp4.layout(path)
    if abs(layout.duration - out.duration) > (slack + 1) * out.frame_duration + 1e-3:
        raise VerifyError(f"the new video's fragments last {layout.duration:.3f} s, "
                          f"its frames {out.duration:.3f} s")
    return layout


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
