"""Pure: the H.264 rendition of a day or a live run, and the multivariant playlist that offers it beside the original.

A browser without an H.265 (or AV1) decoder cannot play a compacted day. The rendition is the
same pieces, in the same order with the same durations and breaks (so a playlist position means
the same clock time in both), in one container, MPEG-TS: a fragment of a video in another codec
is re-encoded to H.264 on its own when asked for (`transcodes.py`, served at `h264_uri`), a
fragment already in H.264 is remuxed (`remux.uri`), and segments are served as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from ..footage.day import Piece
from ..media import transcode
from ..media.streams import Streams
from . import hls, remux

TS_OVERHEAD = 1.04  # MPEG-TS packet and PES headers over the bare stream, beside per-frame padding


def h264_uri(day: str, video: str, offset: int, length: int) -> str:
    """The URI of a fragment of a video re-encoded to H.264 as MPEG-TS (routes: fragment_h264)."""
    return f"{day}/{video}/h264/{offset}-{length}.ts"


def playlist_query(day: str, live: bool) -> str:
    return urlencode({"date": day, **({"live": "1"} if live else {})})


def fragment_entry(p: Piece, transcoded: bool) -> hls.Entry:
    """A fragment in the rendition: re-encoded when its video is not H.264, else remuxed;
    either way MPEG-TS, with the model's time and break (segments: playlists.rendition_entries)."""
    offset, length = p.byterange
    uri = (h264_uri if transcoded else remux.uri)(p.day, p.file, offset, length)
    return hls.Entry(uri, p.duration, p.start, p.discontinuity)


@dataclass(frozen=True)
class Source:
    """One file's worth of a run (a video, or a day's segments) with what its streams are."""

    pieces: list[Piece]
    streams: Streams | None
    transcoded: bool


# Stretches of a day's segments whose first segment is probed: one per break, up to this many
# (a camera that changes its settings restarts its stream, a break), so that a day of many gaps
# costs a bounded number of probes.
SEGMENT_PROBES = 32


def sources(pieces: Sequence[Piece], streams: Callable[[Piece], Streams | None],
            transcoded: Callable[[Piece], bool]) -> list[Source]:
    """The run's pieces grouped by file: each video, and each day's segments from each break on
    (the first SEGMENT_PROBES breaks of a day), whose first file stands for the rest: a camera
    changes its codec or size only where its stream starts again."""
    groups: dict[tuple[str, str, int], list[Piece]] = {}
    breaks: dict[str, int] = {}
    for p in pieces:
        if not p.is_fragment and p.discontinuity and breaks.get(p.day, 0) < SEGMENT_PROBES:
            breaks[p.day] = breaks.get(p.day, 0) + 1
        key = (p.day, p.file, 0) if p.is_fragment else (p.day, "", breaks.get(p.day, 0))
        groups.setdefault(key, []).append(p)
    return [Source(g, streams(g[0]), transcoded(g[0])) for g in groups.values()]


def variants(found: Sequence[Source], day: str, live: bool) -> list[hls.Variant]:
    """The original, and the H.264 rendition when some video needs it: CODECS from each file's
    sample entries (or SPS), RESOLUTION the largest frame, BANDWIDTH the peak segment bitrate
    (of the rendition's re-encoded fragments: the bitrate cap they are made under)."""
    query = playlist_query(day, live)
    mixed = len({p.is_fragment for s in found for p in s.pieces}) > 1  # served as TS throughout
    original = hls.Variant(f"playlist.m3u8?{query}",
                           max((_peak(s, mixed) for s in found), default=0),
                           _codecs(s.streams for s in found), _resolution(found), _rate(found))
    if not any(s.transcoded for s in found):
        return [original]
    made = [(s, _target(s)) for s in found]
    rendition = hls.Variant(
        f"h264.m3u8?{query}",
        max((t.bandwidth if t else _peak(s, True) for s, t in made), default=0),
        _codecs(_as_made(s, t) for s, t in made),
        _resolution_of([(t.width, t.height) if t else _size(s) for s, t in made]),
        _rate(found))
    return [original, rendition]


def _target(s: Source) -> transcode.Target | None:
    if not s.transcoded:
        return None
    st = s.streams
    return transcode.target(st.width, st.height, st.fps) if st else transcode.target(1920, 1080, None)


def _as_made(s: Source, t: transcode.Target | None) -> Streams | None:
    if t is None or s.streams is None:
        return s.streams
    return Streams(t.codec, s.streams.audio, t.width, t.height, t.fps)


def _peak(s: Source, as_ts: bool) -> int:
    """The largest bits a second of any piece of the source, as served."""
    rates = []
    for p in s.pieces:
        size = p.byterange[1] if p.is_fragment else (p.segment.size if p.segment else 0)
        bits = size * 8 / max(p.duration, 0.001)
        fps = s.streams.fps if s.streams and s.streams.fps else transcode.ASSUMED_FPS
        if p.is_fragment and as_ts:
            bits = bits * TS_OVERHEAD + fps * transcode.TS_PACKET_BITS
        rates.append(bits)
    return int(max(rates, default=0))


def _codecs(found) -> tuple[str, ...]:
    """Every video codec, then every audio codec, each once, in order of appearance."""
    found = [s for s in found if s is not None]
    video = dict.fromkeys(s.video for s in found)
    audio = dict.fromkeys(s.audio for s in found if s.audio)
    return tuple(video) + tuple(audio)


def _size(s: Source) -> tuple[int, int] | None:
    return (s.streams.width, s.streams.height) if s.streams and s.streams.width else None


def _resolution(found: Sequence[Source]) -> tuple[int, int] | None:
    return _resolution_of([_size(s) for s in found])


def _resolution_of(sizes) -> tuple[int, int] | None:
    known = [s for s in sizes if s]
    return max(known, key=lambda s: s[0] * s[1]) if known else None


def _rate(found: Sequence[Source]) -> float | None:
    rates = [s.streams.fps for s in found if s.streams and s.streams.fps]
    return max(rates) if rates else None
