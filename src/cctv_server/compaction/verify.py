"""Bit-rot check: re-hash each compacted video against its `.sha512sum` file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import durable, layout


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
