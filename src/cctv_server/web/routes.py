"""Thin handlers: index, playlists, recordings files. Each turns a request into a catalog question."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import format, layout
from ..compaction import status
from ..errors import CctvError, Forbidden, InvalidInput, NotFound, Unsupported
from ..media import ffmpeg
from ..media.mp4 import codec_of
from ..playback import dayview, export, exportplan, hls, remux
from ..playback.playlists import Rendered
from ..playback.stills import safe_newest
from ..retention import holds
from . import clips, diskview

MEDIA_TYPES = {".ts": "video/mp2t", ".mp4": "video/mp4", ".sha512sum": "text/plain; charset=utf-8"}
TRUE = {"1", "true", "yes", "on"}
STATIC = Path(__file__).parent / "static"
VENDOR = {"hls.min.js"}  # copied in by scripts/vendor-js.sh; git-ignored
EXPORT_RETRY = "30"  # seconds: exports take a while; soon, but not a storm of retries


# Where a domain error becomes an HTTP status: nowhere else knows them.
STATUS = {InvalidInput: 400, Forbidden: 403, NotFound: 404, Unsupported: 422}


async def error(request: Request, exc: Exception) -> PlainTextResponse:
    """Any CctvError as its status and its one-line reason; an unknown kind is a 500."""
    assert isinstance(exc, CctvError)
    status = next((s for kind, s in STATUS.items() if isinstance(exc, kind)), 500)
    return PlainTextResponse(str(exc) + "\n", status_code=status)


def _state(request: Request):
    return request.app.state.cctv


def _today(state) -> dt.date:
    """The root's local date: the days a request may name are counted from it (layout)."""
    return dt.datetime.now(state.settings.tz).date()


def _day(state, text: str) -> str:
    """A day a request names, checked: InvalidInput (400) unless a date the server keeps."""
    layout.parse_day(text, _today(state))
    return text


async def index(request: Request) -> HTMLResponse:
    state = _state(request)
    tz = state.settings.tz
    days = state.catalog.days()
    states = status.states(state.catalog, state.settings, time.time(),
                           lambda s: format.clock(s, tz, day=""), format.size, days)  # with date
    disk = diskview.of_cameras({state.settings.camera: state}, days={state.settings.camera: days})
    page = state.templates.get_template("index.html").render(
        sections=[_day_section(state, d, states.get(d.day)) for d in days],
        timezone=state.settings.timezone, problems=state.problems(),
        camera=state.settings.camera, several=len(state.cameras) > 1,
        disk=disk[0] if disk else None, size=format.size, days=diskview.days_text, settings=state.settings,
    )
    return HTMLResponse(page)


def _day_section(state, d, st) -> Markup:
    """One day's part of the index, rendered again only when the day, its state or its hold
    changes: a year of days renders in a few milliseconds instead of a few hundred."""
    hold = holds.get(state.root.path, d.day)  # on disk beside the footage, not in the catalog
    key = (d.version, st, hold)
    cached = state.sections.get(d.day)
    if cached and cached[0] == key:
        return cached[1]
    tz = state.settings.tz
    html = Markup(state.templates.get_template("day_section.html").render(
        d=d, st=st, videos=_videos(state, d.day) if d.videos else [],
        duration=format.duration, size=format.size,
        clock=lambda s, day=None: format.clock(s, tz, day), hold=hold,
    ))
    state.sections[d.day] = (key, html)
    return html


def _videos(state, day: str) -> list[tuple[str, int, bool]]:
    """(name, size, has a checksum file) of a day's compacted videos, for download links."""
    day_dir = state.root.day_dir(day)
    return [(name, size, (day_dir / (name + layout.CHECKSUM_SUFFIX)).is_file())
            for name, size in state.catalog.videos(day).items()]


async def playlist(request: Request) -> Response:
    """`playlist.php?date=D[&live=1]`, as the PHP script answered it; no date: to the latest."""
    state = _state(request)
    query = request.query_params
    live = query.get("live", "").lower() in TRUE
    date = query.get("date")
    if not date:
        params = dict(query) | {"date": state.playlists.latest_day(time.time())}
        return RedirectResponse(f"{request.url.path}?{urlencode(params)}", status_code=302)
    return _playlist(request, await _made(state.playlists.prepare_day(_day(state, date), live,
                                                                      time.time())))


async def health(request: Request) -> Response:
    """This camera's readiness (web/server.py answers /healthz for the whole server)."""
    state = _state(request)
    return health_response([] if state.watcher.ready.is_set() else [state.settings.camera],
                           state.problems(), request.query_params.get("strict", ""))


def health_response(scanning: list[str], problems: list[str], strict: str) -> Response:
    """503 until the first full scans are catalogued; then 200 `ready`, or 200 `degraded: ...`
    while footage is served but something is wrong (a load balancer keeps sending traffic);
    with `?strict=1` degraded is a 503."""
    if scanning:
        return Response("scanning\n", status_code=503, media_type="text/plain")
    if not problems:
        return Response("ready\n", media_type="text/plain")
    return Response("degraded: " + "; ".join(problems) + "\n",
                    status_code=503 if strict.lower() in TRUE else 200, media_type="text/plain")


async def newest(request: Request) -> Response:
    return _playlist(request, await _made(_state(request).playlists.prepare_newest(time.time())))


async def _made(found: Rendered | Callable[[], Rendered]) -> Rendered:
    """A cached playlist as it is; one to render in a worker thread: a long live run takes a
    while to read and render the first time, and the event loop must answer everyone else."""
    return found if isinstance(found, Rendered) else await run_in_threadpool(found)


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
    state = _state(request)
    path = state.root.resolve(_day(state, request.path_params["day"]), request.path_params["name"])
    media_type = next((t for ext, t in MEDIA_TYPES.items() if path.name.endswith(ext)), None)
    return FileResponse(path, media_type=media_type)


async def export_clip(request: Request) -> Response:
    """`/export.mp4?from=ISO&to=ISO`: the range by stream copy, cut at keyframes (X-Clip-*);
    at most `export_jobs` at once, 503 beyond."""
    state = _state(request)
    settings = state.settings
    query = request.query_params
    rng = exportplan.parse_range(query.get("from"), query.get("to"), settings.tz,
                                 settings.export_max, _today(state))
    release = state.exports.take()
    if release is None:
        return PlainTextResponse(
            f"{settings.export_jobs} exports are being made, as many as export_jobs allows: "
            "retry shortly\n", status_code=503, headers={"Retry-After": EXPORT_RETRY})
    try:
        plan = await run_in_threadpool(export.make_plan, state.footage, state.root, rng, settings.tz)
        return await clips.start(
            export.stream(ffmpeg.locate(settings.ffmpeg), plan),
            f"{query['from']} to {query['to']}",
            exportplan.headers(settings.camera, plan, settings.tz), release)
    except BaseException:
        release()
        raise


async def day_page(request: Request) -> HTMLResponse:
    """`/day/YYYY-MM-DD`: the player, the day's timeline, downloads and export."""
    state = _state(request)
    view = await run_in_threadpool(_day_view, state, request.path_params["day"])
    page = state.templates.get_template("day.html").render(
        view=view, view_json=json.dumps(view).replace("<", "\\u003c"), size=format.size,
        camera=state.settings.camera, cameras=state.cameras,
        vendor_ok=(STATIC / "vendor" / "hls.min.js").is_file(),
    )
    return HTMLResponse(page)


async def day_api(request: Request) -> JSONResponse:
    """`/api/day/YYYY-MM-DD`: footage runs in clock and playlist time, neighbours, videos."""
    state = _state(request)
    return JSONResponse(await run_in_threadpool(_day_view, state, request.path_params["day"]),
                        headers={"Cache-Control": "no-cache"})


def _day_view(state, day: str) -> dict:
    _day(state, day)
    days = [d for d, _ in state.catalog.versions()]
    if day not in days:
        raise NotFound(f"no recordings for {day}")
    downloads = [_download(state.root, day, name, size)
                 for name, size in state.catalog.videos(day).items()]
    return dayview.day_view(day, state.settings.tz, state.footage.day(day), days, downloads,
                            time.time())


def _download(root: layout.Root, day: str, name: str, size: int) -> dayview.Download:
    path = root.resolve(day, name)
    checksum = path.with_name(name + layout.CHECKSUM_SUFFIX).is_file()
    try:
        codec = codec_of(path)
    except OSError:
        codec = None
    return dayview.Download(name, size, checksum, codec)


async def fragment_ts(request: Request) -> StreamingResponse:
    """`DAY/video.mp4/OFFSET-LENGTH.ts`: one video fragment as MPEG-TS, for playlists that
    also hold segments (see remux.py)."""
    state = _state(request)
    day, video = _day(state, request.path_params["day"]), request.path_params["video"]
    offset, length = request.path_params["offset"], request.path_params["length"]
    path = state.root.resolve(day, video)
    piece = await run_in_threadpool(state.footage.fragment, day, video, offset, length)
    if piece is None:
        raise NotFound(f"{day}/{video} has no fragment at bytes {offset}-{offset + length}")
    ranges = [piece.init, piece.byterange]
    data = await run_in_threadpool(_read_ranges, path, ranges)
    binary = ffmpeg.locate(state.settings.ffmpeg)
    return StreamingResponse(ffmpeg.stream(remux.argv(binary), data), media_type="video/mp2t")


def _read_ranges(path: Path, ranges: list[tuple[int, int]]) -> bytes:
    with open(path, "rb") as f:
        return b"".join(os.pread(f.fileno(), length, offset) for offset, length in ranges)


async def newest_still(request: Request) -> Response:
    """`still.jpg`: the newest footage's keyframe, a small JPEG, refreshed at most every
    tenth of the live window however many ask."""
    found = await run_in_threadpool(safe_newest, _state(request).stills)
    if found is None:
        raise NotFound("no still: this camera has no footage yet")
    return Response(found.jpeg, media_type="image/jpeg",
                    headers={"Cache-Control": "no-cache", "X-Still-Time": f"{found.shows:.3f}"})


async def vendor(request: Request) -> FileResponse:
    """Browser libraries from npm; a missing one is a 404 that says how to install it."""
    name = request.path_params["name"]
    path = STATIC / "vendor" / name
    if name not in VENDOR:
        raise NotFound(f"no file static/vendor/{name}")
    if not path.is_file():
        raise NotFound(f"{name} is not installed on this server: run `npm ci && scripts/vendor-js.sh`")
    return FileResponse(path, media_type="text/javascript")


ROUTES = [
    Route("/", index),
    Route("/index.php", index),
    Route("/playlist.m3u8", playlist),
    Route("/playlist.php", playlist),
    Route("/live.m3u8", newest),
    Route("/healthz", health),
    Route("/still.jpg", newest_still),
    Route("/export.mp4", export_clip),
    Route("/day/{day}", day_page),
    Route("/api/day/{day}", day_api),
    Route("/static/vendor/{name}", vendor),
    Route("/{day}/{video}/{offset:int}-{length:int}.ts", fragment_ts),
    Mount("/static", StaticFiles(directory=STATIC), name="static"),
    Route("/{day}/{name}", recording),
]
