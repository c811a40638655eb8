"""The RFC 6381 codec string of an MP4's video track (avc1.64001f, hvc1.1.6.L93.B0), from its moov."""

from __future__ import annotations

import struct
from pathlib import Path

HEAD_BYTES = 1 << 20  # a fragmented MP4 starts with ftyp + moov, a few kilobytes
# Boxes to descend into on the way to the sample description, and how many bytes of
# fields come before their children.
_PATH = {b"moov": 0, b"trak": 0, b"mdia": 0, b"minf": 0, b"stbl": 0, b"stsd": 8}
_VISUAL_ENTRY = 78  # bytes of a VisualSampleEntry before its boxes (ISO 14496-12 12.1.3)


def codec_of(path: Path) -> str | None:
    """The codec string of the first video track, or None when the head holds no moov."""
    with open(path, "rb") as f:
        return codec_string(f.read(HEAD_BYTES))


def codec_string(data: bytes) -> str | None:
    for kind, body in _entries(data):
        if kind in (b"avc1", b"avc3", b"hvc1", b"hev1", b"av01"):
            config = dict(_boxes(body, _VISUAL_ENTRY))
            return _describe(kind, config)
    return None


def _boxes(data: bytes, start: int = 0):
    """(type, body) of each complete box in data[start:]."""
    pos = start
    while pos + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1 and pos + 16 <= len(data):
            size, header = struct.unpack_from(">Q", data, pos + 8)[0], 16
        if size < header or pos + size > len(data):
            return  # truncated: the head was cut inside this box
        yield kind, data[pos + header : pos + size]
        pos += size


def _entries(data: bytes, skip: int = 0):
    """The sample entries under moov/trak/mdia/minf/stbl/stsd, as (fourcc, body)."""
    for kind, body in _boxes(data, skip):
        if kind == b"stsd":
            yield from _boxes(body, _PATH[kind])
        elif kind in _PATH:
            yield from _entries(body, _PATH[kind])


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
