"""What a share link lets through a camera's routes: pieces overlapping its range, and nothing else.

A share sees the player page of the days its range touches, their footage cut to the range (the
playlists and the timeline list only the pieces that overlap it), those pieces' files, and
exports inside the range. Its playlists carry the token in every URI, for players (VLC, ffmpeg)
that do not keep the cookie a browser is given.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request

from ..access.shares import PARAM, Share
from ..errors import Forbidden
from ..footage.day import Piece
from ..playback import hls, playlists
from . import guard


def share_of(request: Request) -> Share | None:
    who = guard.principal(request)
    return who.share if who.kind == "share" else None


def refuse(request: Request, what: str) -> None:
    """Forbidden for a share link: `what` shows more than its range."""
    if share_of(request) is not None:
        raise Forbidden(f"a share link shows its own range only, not {what}")


def within(share: Share, pieces: Sequence[Piece]) -> list[Piece]:
    """The pieces that overlap the shared range (a segment at its edges is shown whole)."""
    return [p for p in pieces if p.end > share.start and p.start < share.end]


def check(share: Share | None, piece: Piece | None, what: str) -> None:
    if share is not None and (piece is None or not within(share, [piece])):
        raise Forbidden(f"{what} is outside the shared range")


def check_range(share: Share | None, start: float, end: float) -> None:
    if share is not None and not share.covers(start, end):
        raise Forbidden("that range is not inside the shared range")


def playlist(pieces: Sequence[Piece], share: Share, token: str, tz, ended: bool) -> str:
    """A day's (or a run's) playlist cut to the shared range, each URI carrying the token. Every
    fragment is served as MPEG-TS: the video's init section lies outside any one range."""
    entries = [_with_token(e, token) for e in
               (playlists.entry(p, as_ts=True) for p in within(share, pieces))]
    return hls.render(entries, tz, playlist_type="VOD" if ended else "EVENT", ended=ended)


def token_of(request: Request) -> str:
    return request.query_params.get(PARAM) or request.cookies.get(guard.SHARE_COOKIE, "")


def _with_token(entry: hls.Entry, token: str) -> hls.Entry:
    joiner = "&" if "?" in entry.uri else "?"
    return hls.Entry(f"{entry.uri}{joiner}{PARAM}={token}", entry.duration, entry.start,
                     entry.discontinuity, entry.byterange, entry.init)
