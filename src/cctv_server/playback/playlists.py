"""The playlists a root offers (one day, live from a day on, the newest minutes): projections of the footage model."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import logging
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from urllib.parse import quote
from zoneinfo import ZoneInfo

from .. import layout
from ..errors import NotFound
from ..footage import timeline
from ..footage.catalog import Catalog
from ..footage.day import Piece
from ..footage.reader import Footage
from . import hls, remux, rendition
from .probes import Probes

log = logging.getLogger(__name__)

CACHE_SIZE = 64
# What `playlist.php?date=D` may be asked as: the original media playlist (as the seed defines
# it), the H.264 rendition's media playlist, or the multivariant playlist offering both.
ORIGINAL, H264, VARIANTS = "original", "h264", "variants"
DAY_START = 0.0  # EXT-X-START of a day's playlists: at D, not at the live edge


@dataclass(frozen=True)
class Rendered:
    """A playlist body with its ETag and its gzip form, made once per catalog version."""

    text: bytes
    gzipped: bytes
    etag: str


class Playlists:
    """The playlists of one root, rendered from the footage model and cached by day version."""

    def __init__(self, footage: Footage, tz: ZoneInfo, live_window: float):
        self.footage = footage
        self.catalog = footage.catalog
        self.tz = tz
        self.live_window = live_window
        self._cache: OrderedDict[Hashable, Rendered] = OrderedDict()
        self._numbering = WindowNumbering(self.catalog)
        self.probes = Probes(layout.Root(footage.root))  # codecs and sizes, for the rendition

    def latest_day(self, now: float) -> str:
        """The newest day with footage that is not ahead of the clock (layout.is_future)."""
        day = self.catalog.latest_day(layout.latest_possible(self._today(now)))
        if day is None:
            raise NotFound("there are no recordings yet")
        return day

    def _today(self, now: float) -> dt.date:
        return dt.datetime.fromtimestamp(now, self.tz).date()

    def for_day(self, day: str, live: bool, now: float, variant: str = ORIGINAL) -> Rendered:
        """`playlist.php?date=DAY` (that day only) or with `live=1` (that day and every later one
        not ahead of the clock: footage dated in the future would sit after today's forever);
        as `variant`: the original, its H.264 rendition, or the multivariant playlist of both."""
        layout.parse_day(day)
        versions = self.catalog.versions(day)
        if not versions or versions[0][0] != day:
            raise NotFound(f"no recordings for {day}")
        if live:
            today = self._today(now)
            versions = [v for v in versions if v[0] == day or not layout.is_future(v[0], today)]
            return self._cached(("live", variant, tuple(versions)), lambda: self._render_days(
                [d for d, _ in versions], playlist_type="EVENT", ended=False, variant=variant, live=True))
        ended = now >= timeline.day_bounds(day, self.tz)[1]
        return self._cached(("day", variant, versions[0], ended), lambda: self._render_days(
            [day], playlist_type="VOD" if ended else "EVENT", ended=ended, variant=variant))

    def newest(self, now: float) -> Rendered:
        """`/live.m3u8`: a sliding window over the newest minutes, for watching now; a day
        ahead of the clock is never "now"."""
        last = layout.latest_possible(self._today(now))
        versions = tuple(self.catalog.versions(last_day=last)[-2:])
        if not versions:
            raise NotFound("there are no recordings yet")
        return self._cached(("newest", versions), lambda: self._render_newest([d for d, _ in versions]))

    def _render_days(self, days: list[str], *, playlist_type: str, ended: bool,
                     variant: str = ORIGINAL, live: bool = False) -> str:
        if variant == VARIANTS:
            return self._render_variants(days, live)
        pieces = self.footage.run(days)
        if variant == H264:
            found = rendition_entries(pieces, self.probes.transcoded)
        else:
            found = entries(pieces)
        return hls.render(found, self.tz, playlist_type=playlist_type, ended=ended,
                          start=DAY_START)

    def _render_variants(self, days: list[str], live: bool) -> str:
        found = rendition.sources(self.footage.run(days), self.probes.streams,
                                  self.probes.transcoded)
        return hls.render_multivariant(rendition.variants(found, days[0], live), start=DAY_START)

    def entries(self, days: list[str]) -> list[hls.Entry]:
        """Every piece of these days as a playlist entry, in the footage model's order."""
        return entries(self.footage.run(days))

    def _render_newest(self, days: list[str]) -> str:
        everything = self.entries(days)
        if not everything:
            raise NotFound("there are no playable recordings yet")
        # The newest minutes of wall-clock time: an old day's tail is not "now".
        since = everything[-1].start + everything[-1].duration - self.live_window
        start = len(everything) - 1
        while start > 0 and everything[start - 1].start >= since:
            start -= 1
        window = everything[start:]
        media, discontinuity = self._numbering.assign(window)
        return hls.render(window, self.tz, playlist_type=None, ended=False,
                          media_sequence=media, discontinuity_sequence=discontinuity)

    def _cached(self, key: Hashable, make: Callable[[], str]) -> Rendered:
        found = self._cache.get(key)
        if found is None:
            text = make().encode()
            found = Rendered(text, gzip.compress(text, 6), '"' + hashlib.sha1(text).hexdigest() + '"')
            self._cache[key] = found
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        self._cache.move_to_end(key)
        return found


class WindowNumbering:
    """Sequence numbers for a sliding window that stay with their entries as it slides.

    RFC 8216 wants a segment's media and discontinuity sequence numbers never to change while it
    is in the playlist, and neither sequence ever to go back. Each render finds the first entry
    it numbered before and counts on from it; numbers stay small (hls.js walks arrays indexed by
    them). The last window's numbers are kept in the catalog (a note), so that after a restart
    the count goes on where it was; only a catalog deleted while the server is stopped starts
    it again from 0, which a player survives as a reload.
    """

    NOTE = "live_numbering"
    SAVE_WAIT = 0.2  # seconds: a busy catalog skips a save (the next render saves) sooner than
    # it holds up the request

    def __init__(self, catalog: Catalog | None = None) -> None:
        self._catalog = catalog
        self._known: dict[str, tuple[int, int]] = {}
        self._first = (0, 0)
        self._last = (-1, -1)
        self._saved: str | None = None
        self._loaded = catalog is None
        self._lock = threading.Lock()

    def assign(self, window: list[hls.Entry]) -> tuple[int, int]:
        """(EXT-X-MEDIA-SEQUENCE, EXT-X-DISCONTINUITY-SEQUENCE) for this window."""
        with self._lock:  # renders may run in worker threads
            return self._assign(window)

    def _assign(self, window: list[hls.Entry]) -> tuple[int, int]:
        self._load()
        tags = [0]  # discontinuity tags before each entry (the first entry's is not written)
        for entry in window[1:]:
            tags.append(tags[-1] + entry.discontinuity)
        anchor = next((i for i, e in enumerate(window) if e.uri in self._known), None)
        if anchor is None:
            media, disc = self._last[0] + 1, self._last[1] + 1
        else:
            known_media, known_disc = self._known[window[anchor].uri]
            media, disc = known_media - anchor, known_disc - tags[anchor]
        first_media, first_disc = self._first
        media, disc = max(media, first_media), max(disc, first_disc)  # never backwards
        self._known = {e.uri: (media + i, disc + tags[i]) for i, e in enumerate(window)}
        self._first = (media, disc)
        self._last = (media + len(window) - 1, disc + tags[-1])
        self._save()
        return media, disc

    def _load(self) -> None:
        """The last run's numbering. A catalog that cannot answer fails the request (a 503)
        rather than let numbers go back; a note that makes no sense is dropped."""
        if self._loaded:
            return
        text = self._catalog.note(self.NOTE)
        self._loaded = True
        if text is None:
            return
        try:
            self._known, self._first, self._last = _numbering_from(text)
            self._saved = text
        except (ValueError, KeyError, TypeError, IndexError) as err:
            log.warning("live numbering in the catalog is unreadable (%s): counting from 0", err)

    def _save(self) -> None:
        text = json.dumps({"known": [[u, m, d] for u, (m, d) in self._known.items()],
                           "first": self._first, "last": self._last})
        if self._catalog is None or text == self._saved:
            return
        try:
            self._catalog.set_note(self.NOTE, text, wait=self.SAVE_WAIT)
            self._saved = text
        except sqlite3.Error as err:  # kept in memory meanwhile; the next render saves again
            log.debug("live numbering not saved: %s", err)


def _numbering_from(text: str) -> tuple[dict[str, tuple[int, int]], tuple[int, int], tuple[int, int]]:
    data = json.loads(text)
    known = {str(u): (int(m), int(d)) for u, m, d in data["known"]}
    first, last = data["first"], data["last"]
    return known, (int(first[0]), int(first[1])), (int(last[0]), int(last[1]))


def entries(pieces: Sequence[Piece]) -> list[hls.Entry]:
    """Pure: the playlist entries of these pieces, in one container.

    A playlist may not change container midway (an EXT-X-MAP holds for every later segment), so
    where videos meet segments each fragment is served remuxed to MPEG-TS (remux.py); a playlist
    of videos alone keeps the fragments as fMP4 byte ranges.
    """
    as_ts = any(p.is_fragment for p in pieces) and not all(p.is_fragment for p in pieces)
    return [_entry(p, as_ts) for p in pieces]


def _entry(p: Piece, as_ts: bool) -> hls.Entry:
    if not p.is_fragment:
        # Percent-encoded: `#`, `?`, `%` or a space in a camera's file name would otherwise end
        # or change the URI a player asks for (names no URI can carry are not listed: layout).
        return hls.Entry(f"{p.day}/{quote(p.file, safe='')}", p.duration, p.start,
                         p.discontinuity)
    offset, length = p.byterange
    if as_ts:
        return hls.Entry(remux.uri(p.day, p.file, offset, length), p.duration, p.start,
                         p.discontinuity)
    # The fragment's number in its URI is a query the server ignores: ffmpeg's HLS client (9.0)
    # merges back-to-back byte ranges of one URI into one request and then decodes only the first
    # fragment; distinct URIs keep one request per fragment, as every player expects.
    video = f"{p.day}/{p.file}"
    init_offset, init_length = p.init
    return hls.Entry(f"{video}?fragment={p.number}", p.duration, p.start, p.discontinuity,
                     (length, offset), (video, init_length, init_offset))


def rendition_entries(pieces: Sequence[Piece], transcoded: Callable[[Piece], bool]) -> list[hls.Entry]:
    """Pure: the H.264 rendition's entries, all MPEG-TS: the model's order, durations and breaks
    kept, so that a position in it is the same clock time as in the original (rendition.py).
    `transcoded` is asked once per video: a day has thousands of fragments."""
    asked: dict[tuple[str, str], bool] = {}
    found = []
    for p in pieces:
        if not p.is_fragment:
            found.append(_entry(p, True))
            continue
        if (p.day, p.file) not in asked:
            asked[p.day, p.file] = transcoded(p)
        found.append(rendition.fragment_entry(p, asked[p.day, p.file]))
    return found
