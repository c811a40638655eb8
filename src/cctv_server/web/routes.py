"""Thin handlers: index, playlists, recordings files. Each turns a request into a catalog question."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import (
    FileResponse, HTMLResponse, RedirectResponse, Response, StreamingResponse,
)
from starlette.routing import Route

from .. import clips, export, ffmpeg, hls, status
from ..playlists import Rendered
from . import format

MEDIA_TYPES = {".ts": "video/mp2t", ".mp4": "video/mp4", ".sha512sum": "text/plain; charset=utf-8"}
TRUE = {"1", "true", "yes", "on"}


def _state(request: Request):
    return request.app.state.cctv


async def index(request: Request) -> HTMLResponse:
    state = _state(request)
    tz = state.settings.tz
    page = state.templates.get_template("index.html").render(
        days=state.catalog.days(),
        duration=format.duration,
        size=format.size,
        clock=lambda s, day=None: format.clock(s, tz, day),
        timezone=state.settings.timezone,
        states=status.states(state.catalog, state.settings, time.time(),
                             lambda s: format.clock(s, tz, day=""), format.size),  # with date
    )
    return HTMLResponse(page)


async def playlist(request: Request) -> Response:
    """`playlist.php?date=D[&live=1]`, as the PHP script answered it; no date: to the latest."""
    state = _state(request)
    query = request.query_params
    live = query.get("live", "").lower() in TRUE
    date = query.get("date")
    if not date:
        params = dict(query) | {"date": state.playlists.latest_day()}
        return RedirectResponse(f"{request.url.path}?{urlencode(params)}", status_code=302)
    return _playlist(request, state.playlists.for_day(date, live, time.time()))


async def health(request: Request) -> Response:
    """200 once the first full scan of the root is catalogued, 503 before."""
    ready = _state(request).watcher.ready.is_set()
    return Response("ready\n" if ready else "scanning\n", status_code=200 if ready else 503,
                    media_type="text/plain")


async def newest(request: Request) -> Response:
    return _playlist(request, _state(request).playlists.newest())


def _playlist(request: Request, rendered: Rendered) -> Response:
    headers = {"ETag": rendered.etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
    if request.headers.get("if-none-match") == rendered.etag:
        return Response(status_code=304, headers=headers)
    body = rendered.text
    if "gzip" in request.headers.get("accept-encoding", ""):
        body = rendered.gzipped
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=hls.MIME, headers=headers)


async def recording(request: Request) -> FileResponse:
    """A segment, video or checksum under ROOT/DAY/, with byte ranges; nothing outside ROOT."""
    path = _state(request).root.resolve(request.path_params["day"], request.path_params["name"])
    media_type = next((t for ext, t in MEDIA_TYPES.items() if path.name.endswith(ext)), None)
    return FileResponse(path, media_type=media_type)


async def export_clip(request: Request) -> StreamingResponse:
    """`/export.mp4?from=ISO&to=ISO`: the range by stream copy, cut at keyframes (X-Clip-*)."""
    state = _state(request)
    settings = state.settings
    query = request.query_params
    rng = export.parse_range(query.get("from"), query.get("to"), settings.tz, settings.export_max)
    plan = await run_in_threadpool(
        clips.make_plan, state.catalog, state.root, rng, settings.tz, state.video_sources
    )
    return StreamingResponse(
        clips.stream(ffmpeg.locate(settings.ffmpeg), plan), media_type="video/mp4",
        headers=export.headers(settings.camera, plan, settings.tz),
    )


ROUTES = [
    Route("/", index),
    Route("/index.php", index),
    Route("/playlist.m3u8", playlist),
    Route("/playlist.php", playlist),
    Route("/live.m3u8", newest),
    Route("/healthz", health),
    Route("/export.mp4", export_clip),
    Route("/{day}/{name}", recording),
]
