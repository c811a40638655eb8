"""What a share link lets through a camera's routes: pieces overlapping its range, and nothing else.

A share sees the player page of the days its range touches, their footage cut to the range (the
playlists and the timeline list only the pieces that overlap it), those pieces' files, and
exports inside the range. Its playlists carry the token in every URI, for players (VLC, ffmpeg)
that do not keep the cookie a browser is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from starlette.requests import Request

from ..access.shares import PARAM, Share
from ..errors import Forbidden
from ..footage import timeline
from ..footage.day import Piece
from ..playback import hls, playlists, rendition
from ..playback.probes import Probes
from . import guard


def share_of(request: Request) -> Share | None:
    who = guard.principal(request)
    return who.share if who.kind == "share" else None


def refuse(request: Request, what: str) -> None:
    """Forbidden for a share link: `what` shows more than its range."""
    if share_of(request) is not None:
        raise Forbidden(f"a share link shows its own range only, not {what}")


def first_day(share: Share, tz) -> str:
    """The day a share's range begins: where its redirects lead (never the camera's latest)."""
    return timeline.local_date(share.start, tz)


def check_day(share: Share | None, day: str, tz) -> None:
    """Forbidden, before anything is looked up, for a day the shared range does not touch:
    the same answer whether or not that day has footage."""
    if share is None:
        return
    start, end = timeline.day_bounds(day, tz)
    if not (share.start < end and start < share.end):
        raise outside(day)


def outside(what: str) -> Forbidden:
    return Forbidden(f"{what} is outside the shared range")


def within(share: Share, pieces: Sequence[Piece]) -> list[Piece]:
    """The pieces that overlap the shared range (a segment at its edges is shown whole)."""
    return [p for p in pieces if p.end > share.start and p.start < share.end]


def check(share: Share | None, piece: Piece | None, what: str) -> None:
    if share is not None and (piece is None or not within(share, [piece])):
        raise outside(what)


def check_range(share: Share | None, start: float, end: float) -> None:
    if share is not None and not share.covers(start, end):
        raise Forbidden("that range is not inside the shared range")


def playlist(pieces: Sequence[Piece], share: Share, token: str, tz, ended: bool,
             variant: str, probes: Probes, day: str, live: bool) -> str:
    """A day's (or a run's) playlist cut to the shared range, each URI carrying the token: the
    original (every fragment as MPEG-TS: the video's init section lies outside any one range),
    the H.264 rendition, or the multivariant playlist offering both."""
    shared = within(share, pieces)
    if variant == playlists.VARIANTS:
        found = rendition.sources(shared, probes.streams, probes.transcoded)
        offered = [replace(v, uri=_tokened(v.uri, token))
                   for v in rendition.variants(found, day, live)]
        return hls.render_multivariant(offered, start=playlists.DAY_START)
    if variant == playlists.H264:
        entries = playlists.rendition_entries(shared, probes.transcoded)
    else:
        entries = [playlists.entry(p, as_ts=True) for p in shared]
    return hls.render([replace(e, uri=_tokened(e.uri, token)) for e in entries], tz,
                      playlist_type="VOD" if ended else "EVENT", ended=ended,
                      start=playlists.DAY_START)


def token_of(request: Request) -> str:
    return request.query_params.get(PARAM) or request.cookies.get(guard.SHARE_COOKIE, "")


def _tokened(uri: str, token: str) -> str:
    return f"{uri}{'&' if '?' in uri else '?'}{PARAM}={token}"
