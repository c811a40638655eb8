"""What the files behind pieces hold (codecs, frame size and rate), read once per version of each file."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from pathlib import Path

from ..errors import CctvError
from ..footage.day import Piece
from ..layout import Root
from ..media import mp4, streams
from ..media.streams import Streams
from ..storage import files

log = logging.getLogger(__name__)

CACHE_SIZE = 512
H264 = ("avc1", "avc3")


class Probes:
    """One root's file probes, cached by (day, name, size, mtime): a changed file is read again."""

    def __init__(self, root: Root, size: int = CACHE_SIZE):
        self.root = root
        self.size = size
        self._found: OrderedDict[tuple, object] = OrderedDict()
        self._lock = threading.Lock()

    def streams(self, piece: Piece) -> Streams | None:
        """The streams of the piece's file; None when it cannot be read."""
        return self._cached("streams", piece, streams.probe)

    def video_codec(self, piece: Piece) -> str | None:
        """A fragment's video codec, from its sample entry alone (a few boxes, no demuxer)."""
        return self._cached("codec", piece, _codec_of)

    def transcoded(self, piece: Piece) -> bool:
        """Whether the H.264 rendition re-encodes this piece: a fragment of a video in another
        codec. Segments are H.264 already, and so is a video compacted with `codec = "h264"`
        or `"copy"`: those are served as they are."""
        if not piece.is_fragment:
            return False
        codec = self.video_codec(piece)
        return codec is None or not codec.startswith(H264)

    def _cached(self, kind: str, piece: Piece, read):
        try:
            path = files.resolve(self.root, piece.day, piece.file)
            size, mtime_ns = files.stat(path)
            path = files.head(path)  # a video in the store: the head kept on the disk
        except (CctvError, OSError):
            return None
        key = (kind, piece.day, piece.file, size, mtime_ns)
        with self._lock:
            if key in self._found:
                self._found.move_to_end(key)
                return self._found[key]
        found = read(path)
        with self._lock:
            self._found[key] = found
            while len(self._found) > self.size:
                self._found.popitem(last=False)
        return found


def _codec_of(path: Path) -> str | None:
    try:
        return mp4.codec_of(path)
    except (OSError, mp4.NotFragmented) as err:
        log.warning("%s: no codec: %s", path.name, err)
        return None
