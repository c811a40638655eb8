"""Pure: HLS playlist text (RFC 8216): media playlists from playlist entries, multivariant playlists from variants; no I/O."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from .. import format

MIME = "application/vnd.apple.mpegurl"


@dataclass(frozen=True)
class Entry:
    """One media segment of a playlist: a `.ts` file, or a byte range of a fragmented MP4."""

    uri: str
    duration: float
    start: float
    discontinuity: bool
    byterange: tuple[int, int] | None = None  # (length, offset)
    init: tuple[str, int, int] | None = None  # (uri, length, offset) of the fMP4 init section


def target_duration(entries: Sequence[Entry]) -> int:
    """The smallest integer that every EXTINF, rounded to the nearest integer, fits under."""
    return max([1] + [math.floor(e.duration + 0.5) for e in entries])


def version(entries: Sequence[Entry]) -> int:
    if any(e.init for e in entries):
        return 7  # EXT-X-MAP outside I-frame playlists, fMP4 segments
    if any(e.byterange for e in entries):
        return 4
    return 3  # floating-point EXTINF


def render(
    entries: Sequence[Entry],
    tz: ZoneInfo,
    *,
    playlist_type: str | None,
    ended: bool,
    media_sequence: int = 0,
    discontinuity_sequence: int = 0,
    min_target: int = 1,
    start: float | None = None,
) -> str:
    """The playlist text. `playlist_type` is "VOD", "EVENT" or None (a sliding window); `start`
    (seconds from the top) is where a player that honours EXT-X-START begins, instead of
    the live edge of a playlist without EXT-X-ENDLIST."""
    lines = header(version(entries), max(min_target, target_duration(entries)),
                   playlist_type=playlist_type, media_sequence=media_sequence,
                   discontinuity_sequence=discontinuity_sequence, start=start)
    lines += body(entries, tz)
    if ended:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def header(version: int, target: int, *, playlist_type: str | None, media_sequence: int = 0,
           discontinuity_sequence: int = 0, start: float | None = None) -> list[str]:
    """The lines before the first entry."""
    lines = [
        "#EXTM3U",
        f"#EXT-X-VERSION:{version}",
        f"#EXT-X-TARGETDURATION:{target}",
        f"#EXT-X-MEDIA-SEQUENCE:{media_sequence}",
    ]
    if discontinuity_sequence:
        lines.append(f"#EXT-X-DISCONTINUITY-SEQUENCE:{discontinuity_sequence}")
    if playlist_type:
        lines.append(f"#EXT-X-PLAYLIST-TYPE:{playlist_type}")
    lines.append("#EXT-X-INDEPENDENT-SEGMENTS")
    if start is not None:
        lines.append(_start(start))
    return lines


def body(entries: Sequence[Entry], tz: ZoneInfo, continues: bool = False) -> list[str]:
    """The lines of these entries. With `continues`, other entries come before them (a live
    run is rendered a day at a time): the first one is no longer the playlist's first."""
    lines: list[str] = []
    current_init = None
    for i, entry in enumerate(entries):
        first = i == 0 and not continues
        if not first and entry.discontinuity:
            lines.append("#EXT-X-DISCONTINUITY")
        if first or entry.discontinuity:
            lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{format.iso(entry.start, tz)}")
        if entry.init and entry.init != current_init:
            uri, length, offset = entry.init
            lines.append(f'#EXT-X-MAP:URI="{uri}",BYTERANGE="{length}@{offset}"')
            current_init = entry.init
        lines.append(f"#EXTINF:{entry.duration:.3f},")
        if entry.byterange:
            lines.append(f"#EXT-X-BYTERANGE:{entry.byterange[0]}@{entry.byterange[1]}")
        lines.append(entry.uri)
    return lines


def _start(offset: float) -> str:
    return f"#EXT-X-START:TIME-OFFSET={offset:.3f}".replace(".000", "")


@dataclass(frozen=True)
class Variant:
    """One variant stream of a multivariant playlist: a media playlist and what it holds."""

    uri: str
    bandwidth: int  # bits/s: the peak segment bitrate
    codecs: tuple[str, ...]  # RFC 6381, every format in any of its segments
    resolution: tuple[int, int] | None = None
    frame_rate: float | None = None


def render_multivariant(variants: Sequence[Variant], start: float | None = None) -> str:
    """A multivariant playlist; players take the first variant they can decode, in order."""
    lines = ["#EXTM3U", "#EXT-X-INDEPENDENT-SEGMENTS"]
    if start is not None:
        lines.append(_start(start))
    for v in variants:
        attrs = [f"BANDWIDTH={max(1, v.bandwidth)}"]
        if v.codecs:
            attrs.append(f'CODECS="{",".join(v.codecs)}"')
        if v.resolution:
            attrs.append(f"RESOLUTION={v.resolution[0]}x{v.resolution[1]}")
        if v.frame_rate:
            attrs.append(f"FRAME-RATE={v.frame_rate:.3f}")
        lines += ["#EXT-X-STREAM-INF:" + ",".join(attrs), v.uri]
    return "\n".join(lines) + "\n"
