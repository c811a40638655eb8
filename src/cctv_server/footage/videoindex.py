"""A compacted video's index: each fragment's bytes, own timestamp and wall-clock time, kept in a sidecar file.

The sidecar `.video.mp4.json` sits beside the video (a dotfile, so the catalog ignores it) and is
written before the video gets its final name. Should it be lost, the index is rebuilt from the
video's own boxes with the start time from its metadata (gaps inside the day are then lost).
"""

from __future__ import annotations

import bisect
import json
import logging
import os
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from .. import layout
from ..media import mp4
from ..storage import home
from .timeline import WALL_TOLERANCE

log = logging.getLogger(__name__)

FORMAT = 2  # 2 added each fragment's own start; a format-1 sidecar is completed from the video
CACHE_SIZE = 256
# Seconds a fragment may start from the place of a run's first segment and still be its start:
# a run starts a chunk, so its first frame is a keyframe at that place to the 90 kHz clock.
RUN_SLACK = 0.01


@dataclass(frozen=True)
class Span:
    """Where one input segment sits in the video (offset, seconds) and on the wall clock."""

    name: str
    offset: float
    duration: float
    wall: float
    new_run: bool = False  # the camera's stream changed here (codec, size or rate): a break


@dataclass(frozen=True)
class Fragment:
    """One keyframe-started piece of the video: its bytes, its wall-clock start, and its own
    decode time in the video (`start`, seconds), which export cuts are written in."""

    offset: int
    length: int
    duration: float
    wall: float
    discontinuity: bool
    start: float = 0.0


@dataclass(frozen=True)
class VideoIndex:
    video: str
    size: int
    init_length: int
    fragments: list[Fragment]

    @property
    def start(self) -> float | None:
        return self.fragments[0].wall if self.fragments else None


def wall_at(spans: list[Span], t: float) -> float:
    """The wall-clock time of second `t` of the video: inside the input span that holds it."""
    offsets = [s.offset for s in spans]
    i = max(0, bisect.bisect_right(offsets, t + 1e-3) - 1)
    return spans[i].wall + (t - spans[i].offset)


def build(video: str, size: int, layout: mp4.Layout, spans: list[Span]) -> VideoIndex:
    """Pure: the index of a video from its layout and its inputs' spans."""
    origin = layout.fragments[0].start if layout.fragments else 0.0
    runs = [s.offset for s in spans if s.new_run]
    fragments: list[Fragment] = []
    for f in layout.fragments:
        wall = wall_at(spans, f.start - origin)
        prev = fragments[-1] if fragments else None
        jump = prev is not None and (abs(wall - (prev.wall + prev.duration)) > WALL_TOLERANCE
                                     or any(abs(f.start - origin - r) < RUN_SLACK for r in runs))
        fragments.append(Fragment(f.offset, f.length, f.duration, wall, jump, f.start))
    return VideoIndex(video, size, layout.init_length, fragments)


def dump(index: VideoIndex, spans: list[Span], **extra) -> bytes:
    body = {"format": FORMAT, **asdict(index), "spans": [asdict(s) for s in spans], **extra}
    return json.dumps(body, indent=1).encode()


def load(day_dir: Path, video: str) -> VideoIndex:
    """The sidecar's index; a format-1 sidecar gets its fragments' starts from the video's boxes."""
    data = json.loads((day_dir / layout.sidecar_name(video)).read_text())
    if data.get("format") not in (1, FORMAT):
        raise ValueError(f"{video}: unknown index format {data.get('format')!r}")
    fragments = [Fragment(**f) for f in data["fragments"]]
    if data["format"] == 1:
        starts = {f.offset: f.start for f in mp4.layout(day_dir / video).fragments}
        fragments = [replace(f, start=starts[f.offset]) for f in fragments]
    return VideoIndex(data["video"], data["size"], data["init_length"], fragments)


@dataclass(frozen=True)
class Compacted:
    """A segment that went into a video of its day, and its bytes' SHA-256 ("" if not recorded)."""

    video: str
    sha256: str


def compacted(day_dir: Path, name: str) -> Compacted | None:
    """Which of the day's videos holds the segment `name`, from their sidecars; None when none
    does. Names only are read (an upload asks this of a folder of thousands of segments); a
    sidecar that cannot be read, or whose video has no final name yet, names nothing."""
    try:
        sidecars = sorted(e.name for e in os.scandir(day_dir) if e.name.endswith(".mp4.json"))
    except OSError:
        return None
    for sidecar in sidecars:
        video = sidecar[1:-len(".json")]
        if sidecar != layout.sidecar_name(video) or not layout.is_video_name(video):
            continue
        try:
            data = json.loads((day_dir / sidecar).read_text())
            if any(span["name"] == name for span in data["spans"]) and (
                    (day_dir / video).is_file() or video in home.names(day_dir)):  # or archived
                return Compacted(video, data.get("sha256", {}).get(name, ""))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
    return None


def read(day_dir: Path, video: str, size: int) -> VideoIndex:
    """The index of a video: its sidecar when it matches the file, else rebuilt from the file."""
    try:
        found = load(day_dir, video)
        if found.size == size:
            return found
        log.warning("%s/%s: index is for another size; rebuilding it", day_dir.name, video)
    except (OSError, ValueError, KeyError, TypeError, mp4.NotFragmented) as err:
        log.warning("%s/%s: no usable index (%s); rebuilding it", day_dir.name, video, err)
    frags = mp4.layout(day_dir / video)
    start = frags.creation_time or 0.0
    return build(video, size, frags, [Span(video, 0.0, frags.duration, start)])


class Cache:
    """Indexes read once per (day, video, size): a video is never rewritten under its name, so
    its size is enough to tell a new file from the one read before."""

    def __init__(self, root: Path, size: int = CACHE_SIZE):
        self.root = Path(root)
        self.size = size
        self._found: OrderedDict[tuple[str, str, int], VideoIndex] = OrderedDict()
        self._lock = threading.Lock()

    def day(self, day: str, videos: dict[str, int]) -> list[VideoIndex]:
        """The indexes of a day's videos (name -> size); one that cannot be read is logged and
        left out, so that one bad video never hides the rest of the day."""
        found = []
        for name, size in videos.items():
            try:
                found.append(self.get(day, name, size))
            except (OSError, mp4.NotFragmented) as err:
                log.warning("%s/%s cannot be indexed: %s", day, name, err)
        return found

    def get(self, day: str, name: str, size: int) -> VideoIndex:
        key = (day, name, size)
        with self._lock:
            if key in self._found:
                self._found.move_to_end(key)
                return self._found[key]
        found = read(self.root / day, name, size)
        with self._lock:
            self._found[key] = found
            while len(self._found) > self.size:
                self._found.popitem(last=False)
        return found
