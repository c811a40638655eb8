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
from functools import partial
from urllib.parse import quote
from zoneinfo import ZoneInfo

from .. import layout
from ..errors import InvalidInput, NotFound
from ..footage import timeline
from ..footage.catalog import Catalog
from ..footage.day import Piece
from ..footage.reader import Footage
from . import hls, remux, rendition
from .probes import Probes

log = logging.getLogger(__name__)

# What `playlist.php?date=D` may be asked as: the original media playlist (as the seed defines
# it), the H.264 rendition's media playlist, or the multivariant playlist offering both.
ORIGINAL, H264, VARIANTS = "original", "h264", "variants"
DAY_START = 0.0  # EXT-X-START of a day's playlists: at D, not at the live edge

CACHE_BYTES = 64 << 20  # rendered playlists kept: a 31-day live run is about 11 MB
PARTS_BYTES = 64 << 20  # rendered days of live runs kept
CHUNK_DAYS = 4  # days of a live run read from the footage model at once (memory: pieces)


@dataclass(frozen=True)
class Rendered:
    """A playlist body with its ETag and its gzip form, made once per catalog version."""

    text: bytes
    gzipped: bytes
    etag: str

    @property
    def size(self) -> int:
        return len(self.text) + len(self.gzipped)


class Playlists:
    """The playlists of one root, rendered from the footage model and cached by day version."""

    def __init__(self, footage: Footage, tz: ZoneInfo, live_window: float,
                 live_max_days: int = 31):
        self.footage = footage
        self.catalog = footage.catalog
        self.tz = tz
        self.live_window = live_window
        self.live_max_days = live_max_days
        self._cache = SizedCache(CACHE_BYTES)  # of Rendered, by kind and day versions
        self._parts = SizedCache(PARTS_BYTES)  # of DayPart: the days of live runs
        self._numbering = WindowNumbering(self.catalog)
        self.probes = Probes(layout.Root(footage.root))  # codecs and sizes, for the rendition
        # Called from worker threads. One render of each kind at a time: players asking for the
        # same new version wait for it instead of rendering it again, and a long live run being
        # rendered does not hold up /live.m3u8.
        self._rendering = {kind: threading.Lock() for kind in ("day", "live", "newest")}

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
        not ahead of the clock: footage dated in the future would sit after today's forever)."""
        return _made(self.prepare_day(day, live, now, variant))

    def prepare_day(self, day: str, live: bool, now: float,
                    variant: str = ORIGINAL) -> Rendered | Callable[[], Rendered]:
        """for_day's playlist if it is cached, else the function that makes it: for a caller
        that renders in a worker thread and wants no thread for a cached one. As `variant`:
        the original, its H.264 rendition, or the multivariant playlist of both."""
        layout.parse_day(day)
        versions = self.catalog.versions(day)
        if not versions or versions[0][0] != day:
            raise NotFound(f"no recordings for {day}")
        if live:
            today = self._today(now)
            versions = [v for v in versions if v[0] == day or not layout.is_future(v[0], today)]
            self._check_live_span(day, versions)
            if variant in (ORIGINAL, H264):  # joined from cached day parts: the long case
                return self._cached(("live", variant, tuple(versions)),
                                    lambda: self._render_live(versions, variant))
            return self._cached(("live", variant, tuple(versions)), lambda: self._render_days(
                [d for d, _ in versions], playlist_type="EVENT", ended=False, variant=variant,
                live=True))
        ended = now >= timeline.day_bounds(day, self.tz)[1]
        return self._cached(("day", variant, versions[0], ended), lambda: self._render_days(
            [day], playlist_type="VOD" if ended else "EVENT", ended=ended, variant=variant))

    def newest(self, now: float) -> Rendered:
        """`/live.m3u8`: a sliding window over the newest minutes, for watching now; a day
        ahead of the clock is never "now"."""
        return _made(self.prepare_newest(now))

    def prepare_newest(self, now: float) -> Rendered | Callable[[], Rendered]:
        """newest's playlist if it is cached, else the function that makes it."""
        last = layout.latest_possible(self._today(now))
        versions = tuple(self.catalog.versions(last_day=last)[-2:])
        if not versions:
            raise NotFound("there are no recordings yet")
        return self._cached(("newest", versions), lambda: self._render_newest([d for d, _ in versions]))

    def _check_live_span(self, day: str, versions: list[tuple[str, int]]) -> None:
        """What one live run may cost is bounded: at most `live_max_days` days of recordings.
        A request over more is refused rather than cut: an EVENT playlist may only grow at its
        end, so dropping its first days later would break the players following it."""
        if len(versions) > self.live_max_days:
            raise InvalidInput(
                f"a live run from {day} spans {len(versions)} days of recordings, more than "
                f"live_max_days ({self.live_max_days}): start at "
                f"{versions[-self.live_max_days][0]} or later")

    def _render_live(self, versions: list[tuple[str, int]], variant: str = ORIGINAL) -> bytes:
        """Every day from the first on, joined from each day's rendered part: only a day whose
        version changed (the newest, as it records) is read and rendered again. As `variant`:
        the original, or its H.264 rendition."""
        parts = self._live_parts(versions, variant)
        as_ts = any(p.fragments for p in parts) and any(p.segments for p in parts)
        chosen = [p.as_ts if as_ts else p.as_is for p in parts]
        head = hls.header(max([3] + [c.version for c in chosen]),
                          max([1] + [c.target for c in chosen]), playlist_type="EVENT",
                          start=DAY_START)
        return "\n".join(head).encode() + b"\n" + b"".join(c.text for c in chosen)

    def _live_parts(self, versions: list[tuple[str, int]], variant: str) -> list[DayPart]:
        """Each day's part, from the cache, else read from the footage model a few days at a
        time (with the day that comes before them, which decides their first break)."""
        found: list[DayPart] = []
        transcoded = self.probes.transcoded if variant == H264 else None
        while len(found) < len(versions):
            k = len(found)
            cached = self._parts.get((variant, _part_key(versions, found)))
            if cached is not None:
                found.append(cached)
                continue
            before = _last_with_entries(found)
            first = k if before is None else before
            end = k + self._missing(versions, k, variant)
            pieces = self.footage.run([d for d, _ in versions[first:end]])
            for day, _ in versions[k:end]:
                part = _day_part([p for p in pieces if p.day == day], self.tz,
                                 continues=_last_with_entries(found) is not None,
                                 transcoded=transcoded)
                self._parts.put((variant, _part_key(versions, found)), part, part.size)
                found.append(part)
        return found

    def _missing(self, versions: list[tuple[str, int]], k: int, variant: str) -> int:
        """How many days from the k-th on to read at once: up to CHUNK_DAYS, stopping before
        one whose part is cached (as it would be keyed if the days before it have footage)."""
        n = 1
        while (n < CHUNK_DAYS and k + n < len(versions)
               and self._parts.get((variant, ((versions[k + n - 1],), versions[k + n]))) is None):
            n += 1
        return n

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

    def _cached(self, key: tuple,
                make: Callable[[], str | bytes]) -> Rendered | Callable[[], Rendered]:
        found = self._cache.get(key)
        return found if found is not None else partial(self._render, key, make)

    def _render(self, key: tuple, make: Callable[[], str | bytes]) -> Rendered:
        with self._rendering[key[0]]:
            found = self._cache.get(key)  # made while this thread waited for the lock
            if found is None:
                made = make()
                text = made.encode() if isinstance(made, str) else made
                found = Rendered(text, gzip.compress(text, 6),
                                 '"' + hashlib.sha1(text).hexdigest() + '"')
                self._cache.put(key, found, found.size)
        return found


def _made(found: Rendered | Callable[[], Rendered]) -> Rendered:
    return found if isinstance(found, Rendered) else found()


class SizedCache:
    """A least-recently-used map bounded by the bytes of its values; safe across threads."""

    def __init__(self, budget: int):
        self.budget = budget
        self._items: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable):
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: Hashable, value: object, size: int) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            self._bytes += size - (old[1] if old else 0)
            self._items[key] = (value, size)
            while self._bytes > self.budget and len(self._items) > 1:
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped


@dataclass(frozen=True)
class Part:
    """One day's lines of a live run, and what the playlist's header needs to know of them."""

    text: bytes
    target: int
    version: int


@dataclass(frozen=True)
class DayPart:
    """One day of a live run, rendered both ways a run may need (see `entries`): its
    fragments as they are, or remuxed to MPEG-TS because other days hold segments."""

    fragments: bool
    segments: bool
    entries: int
    as_is: Part
    as_ts: Part

    @property
    def size(self) -> int:
        return len(self.as_is.text) + (len(self.as_ts.text) if self.as_ts is not self.as_is else 0)


def _day_part(pieces: Sequence[Piece], tz: ZoneInfo, continues: bool,
              transcoded: Callable[[Piece], bool] | None = None) -> DayPart:
    """Pure: a day's pieces (as the run placed them) as playlist lines; with `transcoded`, as
    the H.264 rendition's (rendition_entries), which are MPEG-TS whatever the other days hold."""
    fragments = any(p.is_fragment for p in pieces)
    segments = any(not p.is_fragment for p in pieces)
    if transcoded is not None:
        ts = _part(rendition_entries(pieces, transcoded), tz, continues)
        return DayPart(fragments, segments, len(pieces), ts, ts)
    as_is = _part([entry(p, False) for p in pieces], tz, continues)
    as_ts = _part([entry(p, True) for p in pieces], tz, continues) if fragments else as_is
    return DayPart(fragments, segments, len(pieces), as_is, as_ts)


def _part(found: list[hls.Entry], tz: ZoneInfo, continues: bool) -> Part:
    lines = hls.body(found, tz, continues)
    text = ("\n".join(lines) + "\n").encode() if lines else b""
    return Part(text, hls.target_duration(found), hls.version(found))


def _last_with_entries(before: list[DayPart]) -> int | None:
    return next((i for i in range(len(before) - 1, -1, -1) if before[i].entries), None)


def _part_key(versions: list[tuple[str, int]], before: list[DayPart]) -> tuple:
    """The next day's part is the same in every run with the same days (and versions) since
    the last day that had footage: that day decides its first break, and its clock when its
    names hold none."""
    k = len(before)
    last = _last_with_entries(before)
    return (None if last is None else tuple(versions[last:k]), versions[k])


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
    return [entry(p, as_ts) for p in pieces]


def entry(p: Piece, as_ts: bool) -> hls.Entry:
    """One piece as a playlist entry (see `entries`)."""
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
            found.append(entry(p, True))
            continue
        if (p.day, p.file) not in asked:
            asked[p.day, p.file] = transcoded(p)
        found.append(rendition.fragment_entry(p, asked[p.day, p.file]))
    return found
