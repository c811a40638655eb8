"""Reading MP4 boxes: a fragmented MP4's init section and fragments, and its video codec string.

One box reader serves both. Only box headers and the small `moov`/`moof` boxes are read, never
the media, so indexing a day's 380 MB video reads a few hundred kilobytes.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MP4_EPOCH_OFFSET = 2_082_844_800  # seconds from 1904-01-01 (MP4's epoch) to 1970-01-01
CONTAINERS = {b"moov", b"trak", b"mdia", b"mvex", b"moof", b"traf", b"minf", b"stbl"}
HEAD_BYTES = 1 << 20  # a fragmented MP4 starts with ftyp + moov, a few kilobytes
_VISUAL_ENTRY = 78  # bytes of a VisualSampleEntry before its boxes (ISO 14496-12 12.1.3)
_STSD_FIELDS = 8  # version, flags and entry count before stsd's sample entries
_SAMPLE_ENTRIES = (b"avc1", b"avc3", b"hvc1", b"hev1", b"av01")


class NotFragmented(ValueError):
    """The file is not a fragmented MP4 with a video track, or a box runs past its end."""


def box_header(data: bytes, pos: int, end: int) -> tuple[bytes, int, int]:
    """(type, header length, total length) of the box at `pos`; NotFragmented if it runs past `end`."""
    size, kind = struct.unpack_from(">I4s", data, pos)
    header = 8
    if size == 1:
        if pos + 16 > len(data):
            raise NotFragmented(f"box {kind!r} at {pos} is truncated")
        size, header = struct.unpack_from(">Q", data, pos + 8)[0], 16
    elif size == 0:
        size = end - pos
    if size < header or pos + size > end:
        raise NotFragmented(f"box {kind!r} at {pos} runs past its parent")
    return kind, header, size


def boxes(data: bytes, start: int = 0, end: int | None = None,
          partial: bool = False) -> Iterator[tuple[bytes, int, int, int]]:
    """(type, offset, header length, total length) of each box in data[start:end].

    A box that runs past the end raises NotFragmented, unless `partial`: then the data is the
    head of a file, cut inside a box, and reading stops there.
    """
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        try:
            kind, header, size = box_header(data, pos, end)
        except NotFragmented:
            if partial:
                return
            raise
        yield kind, pos, header, size
        pos += size


# --- a fragmented MP4's layout -------------------------------------------------------------


@dataclass(frozen=True)
class Fragment:
    """One moof+mdat pair: its byte range and its video timing in seconds from the file's start."""

    offset: int
    length: int
    start: float
    duration: float


@dataclass(frozen=True)
class Layout:
    init_length: int  # ftyp + moov, starting at byte 0
    fragments: list[Fragment]
    creation_time: float | None  # Unix seconds, from mvhd (whole seconds)

    @property
    def duration(self) -> float:
        return sum(f.duration for f in self.fragments)


def layout(path: Path) -> Layout:
    """The init section and fragments of a fragmented MP4 file."""
    with open(path, "rb") as f:
        tops = list(_top_boxes(f))
        moov = next((b for b in tops if b[0] == b"moov"), None)
        if moov is None or not any(b[0] == b"moof" for b in tops):
            raise NotFragmented(f"{path.name}: no moov, or no moof fragments")
        track = _video_track(_read(f, moov))
        fragments = list(_fragments(f, tops, track))
    init_length = moov[1] + moov[2]
    return Layout(init_length, fragments, track.creation_time)


def _top_boxes(f) -> Iterator[tuple[bytes, int, int]]:
    """(type, offset, length) of the top-level boxes, by seeking from header to header."""
    size = os.fstat(f.fileno()).st_size
    pos = 0
    while pos + 8 <= size:
        f.seek(pos)
        head = f.read(16)
        kind, _, length = box_header(head, 0, size - pos)
        yield kind, pos, length
        pos += length


def _read(f, box: tuple[bytes, int, int]) -> bytes:
    f.seek(box[1])
    return f.read(box[2])


@dataclass(frozen=True)
class _Track:
    track_id: int
    timescale: int
    default_duration: int
    creation_time: float | None


def _video_track(moov: bytes) -> _Track:
    creation, trex = None, {}
    tracks = []
    for kind, pos, head, size in boxes(moov, 8):
        body = moov[pos + head : pos + size]
        if kind == b"mvhd":
            creation = _mvhd_creation(body)
        elif kind == b"trak":
            tracks.append(body)
        elif kind == b"mvex":
            trex = _trex_durations(body)
    for trak in tracks:
        found = _trak_video(trak)
        if found:
            track_id, timescale = found
            return _Track(track_id, timescale, trex.get(track_id, 0), creation)
    raise NotFragmented("no video track in moov")


def _mvhd_creation(body: bytes) -> float | None:
    seconds = struct.unpack_from(">Q" if body[0] == 1 else ">I", body, 4)[0]
    return float(seconds - MP4_EPOCH_OFFSET) if seconds else None


def _trex_durations(mvex: bytes) -> dict[int, int]:
    found = {}
    for kind, pos, head, _ in boxes(mvex):
        if kind == b"trex":
            track_id, _, duration = struct.unpack_from(">III", mvex, pos + head + 4)
            found[track_id] = duration
    return found


def _trak_video(trak: bytes) -> tuple[int, int] | None:
    """(track id, timescale) when this trak is video."""
    flat: dict[bytes, bytes] = {}
    for kind, body in _walk(trak):
        flat.setdefault(kind, body)  # the first hdlr is mdia's; a later one in minf is not
    hdlr, tkhd, mdhd = flat.get(b"hdlr"), flat.get(b"tkhd"), flat.get(b"mdhd")
    if not (hdlr and tkhd and mdhd) or hdlr[8:12] != b"vide":
        return None
    track_id = struct.unpack_from(">I", tkhd, 20 if tkhd[0] == 1 else 12)[0]
    timescale = struct.unpack_from(">I", mdhd, 20 if mdhd[0] == 1 else 12)[0]
    return track_id, timescale


def _walk(data: bytes, partial: bool = False) -> Iterator[tuple[bytes, bytes]]:
    """(type, body) of every box, descending into the containers (and stsd's sample entries)."""
    for kind, pos, head, size in boxes(data, partial=partial):
        body = data[pos + head : pos + size]
        yield kind, body
        if kind in CONTAINERS:
            yield from _walk(body, partial)
        elif kind == b"stsd":
            yield from _walk(body[_STSD_FIELDS:], partial)


def _fragments(f, tops, track: _Track) -> Iterator[Fragment]:
    moofs = [i for i, b in enumerate(tops) if b[0] == b"moof"]
    for n, i in enumerate(moofs):
        stop = moofs[n + 1] if n + 1 < len(moofs) else len(tops)
        media = [b for b in tops[i + 1 : stop] if b[0] == b"mdat"]
        end = (media[-1] if media else tops[i])
        offset = tops[i][1]
        base, ticks = _moof_timing(_read(f, tops[i]), track)
        yield Fragment(offset, end[1] + end[2] - offset, base / track.timescale,
                       ticks / track.timescale)


def _moof_timing(moof: bytes, track: _Track) -> tuple[int, int]:
    """(decode time, duration) of the video track in one moof, in the track's timescale."""
    for kind, pos, head, size in boxes(moof, 8):
        if kind != b"traf":
            continue
        traf = moof[pos + head : pos + size]
        parts = {k: b for k, b in _walk(traf) if k in (b"tfhd", b"tfdt")}
        tfhd = parts.get(b"tfhd")
        if tfhd is None or struct.unpack_from(">I", tfhd, 4)[0] != track.track_id:
            continue
        default = _tfhd_default_duration(tfhd) or track.default_duration
        tfdt = parts.get(b"tfdt")
        base = 0 if tfdt is None else struct.unpack_from(">Q" if tfdt[0] == 1 else ">I", tfdt, 4)[0]
        ticks = sum(_trun_duration(b, default) for k, b in _walk(traf) if k == b"trun")
        return base, ticks
    raise NotFragmented("a moof has no fragment of the video track")


def _tfhd_default_duration(tfhd: bytes) -> int | None:
    flags = int.from_bytes(tfhd[1:4], "big")
    pos = 8 + (8 if flags & 0x01 else 0) + (4 if flags & 0x02 else 0)
    return struct.unpack_from(">I", tfhd, pos)[0] if flags & 0x08 else None


def _trun_duration(trun: bytes, default: int) -> int:
    flags = int.from_bytes(trun[1:4], "big")
    count = struct.unpack_from(">I", trun, 4)[0]
    if not flags & 0x100:
        return count * default
    pos = 8 + (4 if flags & 0x01 else 0) + (4 if flags & 0x04 else 0)
    stride = 4 * sum(1 for bit in (0x100, 0x200, 0x400, 0x800) if flags & bit)
    return sum(struct.unpack_from(">I", trun, pos + i * stride)[0] for i in range(count))


# --- the codec string (RFC 6381) -------------------------------------------------------------


def codec_of(path: Path) -> str | None:
    """The codec string of the first video track (avc1.64001f, hvc1.1.6.L93.B0), or None when
    the head holds no moov."""
    with open(path, "rb") as f:
        return codec_string(f.read(HEAD_BYTES))


def codec_string(data: bytes) -> str | None:
    for kind, body in _walk(data, partial=True):
        if kind in _SAMPLE_ENTRIES:
            config = {k: body[pos + head : pos + size]
                      for k, pos, head, size in boxes(body, _VISUAL_ENTRY, partial=True)}
            return _describe(kind, config)
    return None


def _describe(kind: bytes, config: dict[bytes, bytes]) -> str:
    name = kind.decode()
    if name.startswith("avc") and len(config.get(b"avcC", b"")) >= 4:
        return name + "." + config[b"avcC"][1:4].hex()
    if name in ("hvc1", "hev1") and len(config.get(b"hvcC", b"")) >= 13:
        return name + "." + _hevc(config[b"hvcC"])
    if name == "av01" and len(config.get(b"av1C", b"")) >= 3:
        return name + "." + _av1(config[b"av1C"])
    return name


def _hevc(c: bytes) -> str:
    """ISO 14496-15 annex E: profile space+idc, compatibility flags (bit-reversed), tier+level,
    constraint bytes without the trailing zeros."""
    space = "" if c[1] >> 6 == 0 else "ABC"[(c[1] >> 6) - 1]
    compat = int(f"{struct.unpack_from('>I', c, 2)[0]:032b}"[::-1], 2)
    tier = "H" if c[1] & 0x20 else "L"
    constraints = list(c[6:12])
    while constraints and constraints[-1] == 0:
        constraints.pop()
    parts = [f"{space}{c[1] & 0x1F}", f"{compat:X}", f"{tier}{c[12]}"]
    return ".".join(parts + [f"{b:X}" for b in constraints])


def _av1(c: bytes) -> str:
    profile, level = c[1] >> 5, c[1] & 0x1F
    tier = "H" if c[2] & 0x80 else "M"
    depth = 12 if c[2] & 0x40 and c[2] & 0x20 else 10 if c[2] & 0x40 else 8
    return f"{profile}.{level:02d}{tier}.{depth:02d}"
