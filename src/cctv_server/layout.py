"""The on-disk layout of a root: every name a day folder may hold, listing them, and safe path resolution."""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Iterator
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

# The days the server looks at (docs/catalog.md). The first is the Unix epoch, where a camera whose
# clock was reset starts counting: its footage is still footage. The last is a year past today:
# beyond it a folder is a typo or a clock gone wrong, and the calendar's edges (9999-12-31, whose
# end is not a date) are never reached. A day past tomorrow is listed but never "latest" or live.
FIRST_DAY = dt.date(1970, 1, 1)
AHEAD = dt.timedelta(days=366)
FUTURE = dt.timedelta(days=1)
# What no URI or playlist line may carry raw: the Unicode categories Cc (control characters:
# newline, tab, DEL, C1), Zl and Zp (line and paragraph separators), and Cs (lone surrogates,
# how Python spells bytes that are not UTF-8), as one character class (a test checks it).
UNSERVABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def day_date(text: str) -> dt.date | None:
    """The calendar date a `YYYY-MM-DD` day name stands for; None for any other text."""
    if not DAY_RE.fullmatch(text or ""):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def parse_day(text: str, today: dt.date | None = None) -> dt.date:
    """The calendar date in a `YYYY-MM-DD` string, or InvalidInput with the reason; given
    `today`, also a date inside the days the server looks at (`out_of_range`)."""
    found = day_date(text)
    if found is None:
        form = "a real calendar date" if DAY_RE.fullmatch(text or "") else "of the form YYYY-MM-DD"
        raise InvalidInput(f"date {printable(text or '')!r} is not {form}")
    why = None if today is None else out_of_range(found, today)
    if why:
        raise InvalidInput(f"date {text} is {why}")
    return found


def out_of_range(date: dt.date, today: dt.date) -> str | None:
    """Pure: why a day lies outside the days the server looks at, FIRST_DAY to a year past
    `today` (the root's local date); None inside."""
    last = today + AHEAD
    if FIRST_DAY <= date <= last:
        return None
    return f"outside the days this server keeps ({FIRST_DAY} to {last})"


def is_future(day: str, today: dt.date) -> bool:
    """Pure: a day more than a day ahead of `today`: a camera's clock gone wrong, listed but
    never taken as the latest day or as live."""
    return day > latest_possible(today)


def latest_possible(today: dt.date) -> str:
    """The newest day that may be the latest or live: tomorrow (a zone ahead of the server's)."""
    return (today + FUTURE).isoformat()


def name_problem(name: str) -> str | None:
    """Pure: why a file or folder name cannot be served or written into a playlist line as it is
    (any other name is served, percent-encoded in URIs); None for a servable name."""
    if not UNSERVABLE.search(name):
        return None
    if _SURROGATE.search(name):
        return "the name is not valid UTF-8"
    return "the name holds a control character or a line break"


def printable(name: str) -> str:
    """A name as safe text for a log line or a terminal: bytes that are not UTF-8 and control
    characters escaped (`\\xff`, `\\n`), so that a name can neither break a line nor an encoder."""
    try:
        text = os.fsencode(name).decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate no file name holds (from a request): escaped below
        text = name
    return UNSERVABLE.sub(lambda m: ascii(m.group())[1:-1], text)


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


def list_days(root: Path, today: dt.date | None = None) -> list[str]:
    """Day folder names in the root, oldest first; anything else is logged once and skipped.
    `today` (the root's local date; the machine's by default) bounds the days looked at."""
    today = today or dt.date.today()
    days = []
    for entry in _scandir(root):
        if entry.name.startswith("."):
            continue
        why = _day_skipped(entry, today)
        if why:
            _ignore(root / entry.name, why)
        else:
            days.append(entry.name)
    return sorted(days)


def _day_skipped(entry: os.DirEntry, today: dt.date) -> str | None:
    """Why an entry of the root is no day folder the server looks at; None for a day folder."""
    date = day_date(entry.name)
    if date is None:
        return name_problem(entry.name) or "not a YYYY-MM-DD day folder"
    if not entry.is_dir(follow_symlinks=False):
        return "not a folder"
    return out_of_range(date, today)


def list_day(day_dir: Path) -> tuple[dict[str, os.stat_result], dict[str, os.stat_result]]:
    """(segments, videos) of a day folder, each name -> stat; other files are logged once, and
    so is a segment whose name cannot be served (it is no input to anything, and never deleted)."""
    segments, videos = {}, {}
    for entry in _scandir(day_dir):
        if _hidden(entry.name):
            continue
        why = _file_skipped(entry)
        if why:
            _ignore(day_dir / entry.name, why)
            continue
        found = segments if is_segment_name(entry.name) else videos
        if not entry.name.endswith(CHECKSUM_SUFFIX):
            try:
                found[entry.name] = entry.stat(follow_symlinks=False)
            except FileNotFoundError:  # deleted since the listing (a compaction finishing)
                pass
    return segments, videos


def _hidden(name: str) -> bool:
    """Dotfiles (uploads in progress, the compactor's own files) and the quarantine folder."""
    return name.startswith(".") or name == QUARANTINE


def _file_skipped(entry: os.DirEntry) -> str | None:
    """Why an entry of a day folder is no recording; None for a segment, video or checksum."""
    why = name_problem(entry.name)
    if why:
        return why
    if not entry.is_file(follow_symlinks=False):
        return "not a regular file"
    name = entry.name
    if is_segment_name(name) or is_video_name(name) or name.endswith(CHECKSUM_SUFFIX):
        return None
    return "not a .ts segment"


@dataclass(frozen=True)
class Skipped:
    """A name in a root that listing passes over, and why (for `cctv-server doctor`)."""

    path: str  # relative to the root, printable
    reason: str
    warn: bool  # it looks like footage (a `.ts` file, a `YYYY-MM-DD` folder) or cannot be served


def skipped(root: Path, today: dt.date) -> Iterator[Skipped]:
    """Every name of the root and of its day folders that listing passes over, without logging."""
    for entry in _scandir(root):
        if entry.name.startswith("."):
            continue
        why = _day_skipped(entry, today)
        if why:
            yield _skipped(entry.name, why, DAY_RE.fullmatch(entry.name) is not None)
            continue
        try:
            entries = _scandir(root / entry.name)
        except OSError as err:
            yield Skipped(entry.name, f"cannot be read ({err.strerror})", True)
            continue
        for inner in entries:
            why = None if _hidden(inner.name) else _file_skipped(inner)
            if why:
                yield _skipped(inner.name, why, inner.name.endswith(".ts"), entry.name + "/")


def _skipped(name: str, why: str, looks_like_footage: bool, folder: str = "") -> Skipped:
    return Skipped(folder + printable(name), why, looks_like_footage or bool(name_problem(name)))


def _scandir(path: Path) -> list[os.DirEntry]:
    try:
        with os.scandir(path) as it:
            return list(it)
    except FileNotFoundError:
        return []


def _ignore(path: Path, why: str) -> None:
    if str(path) not in _ignored_once:
        _ignored_once.add(str(path))
        log.info("ignoring %s: %s", printable(str(path)), why)


@dataclass(frozen=True)
class Root:
    """A recordings root and the only way to turn a request path into a file under it."""

    path: Path

    def day_dir(self, day: str) -> Path:
        parse_day(day)
        return self.path / day

    def resolve(self, day: str, name: str) -> Path:
        """The file `ROOT/day/name` (a name as a URI's percent-decoding gives it back), refusing
        anything that is not a plain file directly inside a day folder of ROOT: a symlink may
        not lead out of the root, nor into its state folder or any dot-named folder or file."""
        parse_day(day)
        if not name or name.startswith(".") or "/" in name or name_problem(name):
            raise InvalidInput(f"file name {printable(name or '')!r} is not allowed")
        if not (is_segment_name(name) or is_video_name(name) or name.endswith(CHECKSUM_SUFFIX)):
            raise NotFound(f"{day}/{name} is not a recording")
        real_root = os.path.realpath(self.path)
        real = os.path.realpath(self.path / day / name)
        if os.path.commonpath([real_root, real]) != real_root:
            raise Forbidden(f"{day}/{name} leads outside the recordings root")
        inside = Path(os.path.relpath(real, real_root)).parts
        if len(inside) != 2 or not is_day_name(inside[0]) or inside[1].startswith("."):
            raise Forbidden(f"{day}/{name} leads to a file that is not a recording")
        if not os.path.isfile(real):
            raise NotFound(f"no file {day}/{name}")
        return Path(real)
