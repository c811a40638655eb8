"""A compacted video's playlist index: each fragment's bytes and wall-clock time, kept in a sidecar file.

The sidecar `.video.mp4.json` sits beside the video (a dotfile, so the catalog ignores it) and is
written before the video gets its final name. Should it be lost, the index is rebuilt from the
video's own boxes with the start time from its metadata (gaps inside the day are then lost).
"""

from __future__ import annotations

import bisect
import json
import logging
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass
from pathlib import Path

from .. import layout
from ..media import mp4
from ..playback import hls
from .timeline import WALL_TOLERANCE

log = logging.getLogger(__name__)

FORMAT = 1
CACHE_SIZE = 256


@dataclass(frozen=True)
class Span:
    """Where one input segment sits in the video (offset, seconds) and on the wall clock."""

    name: str
    offset: float
    duration: float
    wall: float


@dataclass(frozen=True)
class Fragment:
    offset: int
    length: int
    duration: float
    wall: float
    discontinuity: bool


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
    fragments: list[Fragment] = []
    for f in layout.fragments:
        wall = wall_at(spans, f.start - origin)
        prev = fragments[-1] if fragments else None
        jump = prev is not None and abs(wall - (prev.wall + prev.duration)) > WALL_TOLERANCE
        fragments.append(Fragment(f.offset, f.length, f.duration, wall, jump))
    return VideoIndex(video, size, layout.init_length, fragments)


def dump(index: VideoIndex, spans: list[Span], **extra) -> bytes:
    body = {"format": FORMAT, **asdict(index), "spans": [asdict(s) for s in spans], **extra}
    return json.dumps(body, indent=1).encode()


def load(path: Path) -> VideoIndex:
    data = json.loads(path.read_text())
    if data.get("format") != FORMAT:
        raise ValueError(f"{path.name}: unknown index format {data.get('format')!r}")
    fragments = [Fragment(**f) for f in data["fragments"]]
    return VideoIndex(data["video"], data["size"], data["init_length"], fragments)


def read(day_dir: Path, video: str, size: int) -> VideoIndex:
    """The index of a video: its sidecar when it matches the file, else rebuilt from the file."""
    try:
        found = load(day_dir / layout.sidecar_name(video))
        if found.size == size:
            return found
        log.warning("%s/%s: index is for another size; rebuilding it", day_dir.name, video)
    except (OSError, ValueError, KeyError, TypeError) as err:
        log.warning("%s/%s: no usable index (%s); rebuilding it", day_dir.name, video, err)
    frags = mp4.layout(day_dir / video)
    start = frags.creation_time or 0.0
    return build(video, size, frags, [Span(video, 0.0, frags.duration, start)])


def entries(day: str, index: VideoIndex) -> list[hls.Entry]:
    """Playlist entries, one per fragment, each a byte range of the video.

    Each fragment's URI carries its number as a query the server ignores: ffmpeg's HLS client
    (9.0) merges back-to-back byte ranges of one URI into one HTTP request and then decodes only
    the first fragment; distinct URIs keep one request per fragment, as every player expects.
    """
    uri = f"{day}/{index.video}"
    init = (uri, index.init_length, 0)
    return [
        hls.Entry(f"{uri}?fragment={i}", f.duration, f.wall, i == 0 or f.discontinuity,
                  (f.length, f.offset), init)
        for i, f in enumerate(index.fragments)
    ]


class VideoEntries:
    """`Playlists`' video_entries: every video of a day as playlist entries, in wall-clock order."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._cache: OrderedDict[tuple, VideoIndex] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, day: str, catalog) -> list[hls.Entry]:
        indexes = []
        for name, size in catalog.videos(day).items():
            try:
                indexes.append(self._index(day, name, size))
            except (OSError, mp4.NotFragmented) as err:  # one bad video must not hide the day
                log.warning("%s/%s cannot be indexed: %s", day, name, err)
        indexes.sort(key=lambda ix: ix.start or 0.0)
        return [e for ix in indexes for e in entries(day, ix)]

    def _index(self, day: str, name: str, size: int) -> VideoIndex:
        key = (day, name, size)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        found = read(self.root / day, name, size)
        with self._lock:
            self._cache[key] = found
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return found
