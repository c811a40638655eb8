"""The on-disk layout of a root: every name a day folder may hold, listing them, and safe path resolution."""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import Forbidden, InvalidInput, NotFound

log = logging.getLogger(__name__)

DAY_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Every name a day folder may hold besides its segments: the compacted videos and their
# checksums; while a compaction runs, its journal, temp video, chunk folder and index sidecar
# (dotfiles, so the catalog and the web server never list them); and undecodable inputs.
VIDEO_NAME = "video.mp4"
CHECKSUM_SUFFIX = ".sha512sum"
QUARANTINE = "quarantine"
JOURNAL = ".compaction.json"
HOLD = ".hold.json"  # a hold on the day (retention keeps it): beside the footage, not in the catalog
DELETING = ".deleting-"  # + the day: a day folder being deleted, renamed out of sight first
_DIGITS = re.compile(r"(\d+)")
_ignored_once: set[str] = set()


def day_date(text: str) -> dt.date | None:
    """The calendar date a `YYYY-MM-DD` day name stands for; None for any other text."""
    if not DAY_RE.fullmatch(text or ""):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def parse_day(text: str) -> dt.date:
    """The calendar date in a `YYYY-MM-DD` string, or InvalidInput with the reason."""
    found = day_date(text)
    if found is None:
        form = "a real calendar date" if DAY_RE.fullmatch(text or "") else "of the form YYYY-MM-DD"
        raise InvalidInput(f"date {text!r} is not {form}")
    return found


def is_day_name(name: str) -> bool:
    return day_date(name) is not None


def temp_name(video: str) -> str:
    return f".{video}.partial"


def work_name(video: str) -> str:
    """The folder of chunk files and lists while a video is encoded; gone once it is joined."""
    return f".{video}.chunks"


def checksum_name(video: str) -> str:
    return video + CHECKSUM_SUFFIX


def next_video_name(existing: set[str]) -> str:
    """`video.mp4`, then `video-2.mp4`, `video-3.mp4` ... for footage that arrived later."""
    n = 1
    while True:
        name = VIDEO_NAME if n == 1 else f"video-{n}.mp4"
        if name not in existing and checksum_name(name) not in existing:
            return name
        n += 1


def sidecar_name(video: str) -> str:
    """The video's index: its fragments' bytes and wall-clock times (footage/videoindex.py)."""
    return f".{video}.json"


def natural_key(name: str) -> str:
    """A text key that sorts names naturally (numbers compared as numbers) under plain ordering."""
    return _DIGITS.sub(lambda m: f"{len(m.group(1)):02d}{m.group(1)}", name.lower())


def is_segment_name(name: str) -> bool:
    return name.endswith(".ts") and not name.startswith(".") and "/" not in name


def is_video_name(name: str) -> bool:
    """A compacted video: `video.mp4`, or `video-N.mp4` for footage that arrived after compaction."""
    return re.fullmatch(r"video(-\d+)?\.mp4", name) is not None


def list_days(root: Path) -> list[str]:
    """Day folder names in the root, oldest first; anything else is logged once and skipped."""
    days = []
    for entry in _scandir(root):
        if entry.name.startswith("."):
            continue
        if entry.is_dir(follow_symlinks=False) and is_day_name(entry.name):
            days.append(entry.name)
        else:
            _ignore(root / entry.name, "not a YYYY-MM-DD day folder")
    return sorted(days)


def list_day(day_dir: Path) -> tuple[dict[str, os.stat_result], dict[str, os.stat_result]]:
    """(segments, videos) of a day folder, each name -> stat; other files are logged once."""
    segments, videos = {}, {}
    for entry in _scandir(day_dir):
        if entry.name.startswith(".") or entry.name == QUARANTINE:
            continue
        if not entry.is_file(follow_symlinks=False):
            _ignore(day_dir / entry.name, "not a regular file")
        elif is_segment_name(entry.name):
            segments[entry.name] = entry.stat(follow_symlinks=False)
        elif is_video_name(entry.name):
            videos[entry.name] = entry.stat(follow_symlinks=False)
        elif not entry.name.endswith(CHECKSUM_SUFFIX):
            _ignore(day_dir / entry.name, "not a .ts segment")
    return segments, videos


def _scandir(path: Path) -> list[os.DirEntry]:
    try:
        with os.scandir(path) as it:
            return list(it)
    except FileNotFoundError:
        return []


def _ignore(path: Path, why: str) -> None:
    if str(path) not in _ignored_once:
        _ignored_once.add(str(path))
        log.info("ignoring %s: %s", path, why)


@dataclass(frozen=True)
class Root:
    """A recordings root and the only way to turn a request path into a file under it."""

    path: Path

    def day_dir(self, day: str) -> Path:
        parse_day(day)
        return self.path / day

    def resolve(self, day: str, name: str) -> Path:
        """The file `ROOT/day/name`, refusing anything that is not a plain file inside ROOT."""
        parse_day(day)
        if not name or name.startswith(".") or "/" in name or "\\" in name or "\0" in name:
            raise InvalidInput(f"file name {name!r} is not allowed")
        if not (is_segment_name(name) or is_video_name(name) or name.endswith(CHECKSUM_SUFFIX)):
            raise NotFound(f"{day}/{name} is not a recording")
        real_root = os.path.realpath(self.path)
        real = os.path.realpath(self.path / day / name)
        if os.path.commonpath([real_root, real]) != real_root:
            raise Forbidden(f"{day}/{name} leads outside the recordings root")
        if not os.path.isfile(real):
            raise NotFound(f"no file {day}/{name}")
        return Path(real)
