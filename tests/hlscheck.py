"""An RFC 8216 checker for the media playlists the tests fetch (the rules the issue names)."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field


@dataclass
class Media:
    """A parsed media playlist."""

    version: int = 0
    target: int = 0
    sequence: int | None = None
    playlist_type: str | None = None
    ended: bool = False
    uris: list[str] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)
    discontinuities: list[int] = field(default_factory=list)  # index of the segment after
    dates: dict[int, dt.datetime] = field(default_factory=dict)  # segment index -> PDT
    byteranges: dict[int, str] = field(default_factory=dict)


def check(text: str) -> Media:
    """Parse and validate; raise AssertionError naming the broken rule."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert lines and lines[0] == "#EXTM3U", "must start with #EXTM3U"
    m = Media()
    pending_extinf = None
    pending_disc = False
    pending_pdt = None
    pending_range = None
    for line in lines[1:]:
        if line.startswith("#EXT-X-VERSION:"):
            m.version = int(line.split(":", 1)[1])
        elif line.startswith("#EXT-X-TARGETDURATION:"):
            m.target = int(line.split(":", 1)[1])
        elif line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            m.sequence = int(line.split(":", 1)[1])
        elif line.startswith("#EXT-X-PLAYLIST-TYPE:"):
            m.playlist_type = line.split(":", 1)[1]
        elif line == "#EXT-X-ENDLIST":
            m.ended = True
        elif line == "#EXT-X-DISCONTINUITY":
            pending_disc = True
        elif line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            pending_pdt = dt.datetime.fromisoformat(line.split(":", 1)[1])
            assert pending_pdt.tzinfo is not None, "PROGRAM-DATE-TIME needs a time zone"
        elif line.startswith("#EXT-X-BYTERANGE:"):
            pending_range = line.split(":", 1)[1]
        elif line.startswith("#EXTINF:"):
            value = line.split(":", 1)[1].split(",", 1)[0]
            assert re.fullmatch(r"\d+\.\d{3}", value), f"EXTINF {value!r} is not 3 decimals"
            pending_extinf = float(value)
        elif not line.startswith("#"):
            assert pending_extinf is not None, f"URI {line} has no EXTINF"
            index = len(m.uris)
            m.uris.append(line)
            m.durations.append(pending_extinf)
            if pending_disc:
                m.discontinuities.append(index)
            if pending_pdt:
                m.dates[index] = pending_pdt
            if pending_range:
                m.byteranges[index] = pending_range
            pending_extinf, pending_disc, pending_pdt, pending_range = None, False, None, None
    _rules(m)
    return m


def _rules(m: Media) -> None:
    assert m.version >= 3, "EXT-X-VERSION missing (floating EXTINF needs 3)"
    assert m.sequence is not None, "EXT-X-MEDIA-SEQUENCE missing"
    assert m.target > 0, "EXT-X-TARGETDURATION missing"
    for d in m.durations:
        assert math.floor(d + 0.5) <= m.target, f"EXTINF {d} exceeds TARGETDURATION {m.target}"
    if m.uris:
        assert 0 in m.dates, "PROGRAM-DATE-TIME missing at the start"
    for index in m.discontinuities:
        assert index in m.dates, f"PROGRAM-DATE-TIME missing after the discontinuity at {index}"
    if m.byteranges:
        assert m.version >= 4, "EXT-X-BYTERANGE needs version 4"
    for uri in m.uris:
        assert not uri.startswith("/") and "://" not in uri, f"URI {uri} is not relative"
