"""Thin handlers: index, playlists, recordings files. Each turns a request into a catalog question."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import math
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from markupsafe import Markup
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
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
from ..access import rules
from ..compaction import status
from ..errors import (
    Busy,
    CctvError,
    Conflict,
    Forbidden,
    InvalidInput,
    NoSpace,
    NotFound,
    TooLarge,
    TooSlow,
    Unprocessable,
    Unsupported,
)
from ..footage import timeline
from ..media import ffmpeg
from ..media.mp4 import codec_of
from ..playback import daystills, dayview, export, exportplan, hls, playlists, remux, transcodes
from ..playback.playlists import Rendered
from ..playback.stills import safe_newest
from ..retention import holds
from ..storage import files
from ..storage.base import StoreError
from ..upload import limits, pace, receive
from . import activityweb, archived, clips, diskview, guard, sharing, workers

MEDIA_TYPES = {".ts": "video/mp2t", ".mp4": "video/mp4", ".sha512sum": "text/plain; charset=utf-8"}
TRUE = {"1", "true", "yes", "on"}
STATIC = Path(__file__).parent / "static"
VENDOR = {"hls.min.js"}  # copied in by scripts/vendor-js.sh; git-ignored
EXPORT_RETRY = "30"  # seconds: exports take a while; soon, but not a storm of retries

log = logging.getLogger(__name__)

# Where a domain error becomes an HTTP status: nowhere else knows them.
STATUS = {InvalidInput: 400, Forbidden: 403, NotFound: 404, Unsupported: 422, Busy: 503,
          TooSlow: 408, Conflict: 409, TooLarge: 413, Unprocessable: 422, NoSpace: 507}
STATUS[StoreError] = 503  # the archive's store cannot answer now (unreachable, refused, throttling)


async def error(request: Request, exc: Exception) -> PlainTextResponse:
    """Any CctvError as its status and its one-line reason; an unknown kind is a 500."""
    assert isinstance(exc, CctvError)
    status = next((s for kind, s in STATUS.items() if isinstance(exc, kind)), 500)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Busy) else None
    return PlainTextResponse(str(exc) + "\n", status_code=status, headers=headers)


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
    sharing.refuse(request, "the list of every day")
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
        notices=state.notices, me=guard.me(request),
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
    return [(name, size, _has_checksum(day_dir / (name + layout.CHECKSUM_SUFFIX)))
            for name, size in state.catalog.videos(day).items()]


def _has_checksum(path: Path) -> bool:
    """A video's checksum on the disk, or in the store with it."""
    return path.is_file() or files.remote(path) is not None


async def playlist(request: Request) -> Response:
    """`playlist.php?date=D[&live=1]`, as the PHP script answered it; no date: to the latest."""
    state = _state(request)
    query = request.query_params
    live = query.get("live", "").lower() in TRUE
    date = query.get("date")
    if not date:
        params = dict(query) | {"date": _latest_day(request, state)}
        return RedirectResponse(f"{request.url.path}?{urlencode(params)}", status_code=302)
    day = _day(state, date)
    if (share := sharing.share_of(request)) is not None:
        return await _shared_playlist(request, state, share, day, live)
    return _playlist(request, await _made(state.playlists.prepare_day(day, live, time.time())))


def _latest_day(request: Request, state) -> str:
    """Where a URL without a date leads: the latest day, or for a share link its own first day
    (the latest would tell it what the camera recorded since)."""
    if (share := sharing.share_of(request)) is not None:
        return sharing.first_day(share, state.settings.tz)
    return state.playlists.latest_day(time.time())


async def _shared_playlist(request: Request, state, share, day: str, live: bool,
                           variant: str = playlists.ORIGINAL) -> Response:
    """A share link's playlist: rendered for it alone (rare; never cached with the others)."""
    now = time.time()
    sharing.check_day(share, day, state.settings.tz)
    last = timeline.local_date(share.end, state.settings.tz)  # a share's run ends with its range
    days = [d for d, _ in state.catalog.versions(day, last)] if live else [day]
    if day not in days[:1]:
        raise sharing.outside(day)  # as for a day with footage outside the range
    pieces = await run_in_threadpool(state.footage.run, days)
    ended = not live and now >= share.end
    text = await run_in_threadpool(sharing.playlist, pieces, share, sharing.token_of(request),
                                   state.settings.tz, ended, variant, state.playlists.probes,
                                   day, live)
    return Response(text, media_type=hls.MIME, headers={"Cache-Control": "no-cache"})


async def variants_playlist(request: Request) -> Response:
    """`variants.m3u8?date=D[&live=1]`: the multivariant playlist the player loads, offering the
    original and, when a video is not in H.264, the H.264 rendition (playback/rendition.py)."""
    return await _variant(request, playlists.VARIANTS)


async def h264_playlist(request: Request) -> Response:
    """`h264.m3u8?date=D[&live=1]`: the H.264 rendition's media playlist."""
    return await _variant(request, playlists.H264)


async def _variant(request: Request, variant: str) -> Response:
    state = _state(request)
    query = request.query_params
    date = query.get("date")
    if not date:
        params = dict(query) | {"date": _latest_day(request, state)}
        return RedirectResponse(f"{request.url.path}?{urlencode(params)}", status_code=302)
    live = query.get("live", "").lower() in TRUE
    day = _day(state, date)
    if (share := sharing.share_of(request)) is not None:
        return await _shared_playlist(request, state, share, day, live, variant)
    return _playlist(request, await _made(state.playlists.prepare_day(day, live, time.time(),
                                                                      variant)))


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
    sharing.refuse(request, "the live view")
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


async def recording(request: Request) -> Response:
    """A segment, video or checksum under ROOT/DAY/, with byte ranges; nothing outside ROOT.
    One that lives in the store is a 302 to a URL signed now, or proxied (archived.py)."""
    state = _state(request)
    day, name = _day(state, request.path_params["day"]), request.path_params["name"]
    path = await run_in_threadpool(files.resolve, state.root, day, name)
    if (share := sharing.share_of(request)) is not None:  # a segment of the range, not a video
        pieces = await run_in_threadpool(state.footage.day, day)
        sharing.check(share, next((p for p in pieces if p.file == name and not p.is_fragment),
                                  None), f"{day}/{name}")
    media_type = next((t for ext, t in MEDIA_TYPES.items() if path.name.endswith(ext)), None)
    if (where := await run_in_threadpool(files.remote, path)) is not None:
        return await run_in_threadpool(archived.respond, state.settings, path, where,
                                       request.headers.get("range"), media_type)
    return FileResponse(path, media_type=media_type)


async def export_clip(request: Request) -> Response:
    """`/export.mp4?from=ISO&to=ISO`: the range by stream copy, cut at keyframes (X-Clip-*);
    at most `export_jobs` at once, 503 beyond; re-encoded to H.264 with `&codec=h264` (phones),
    and when the range mixes codecs unless `&codec=copy` (then 422)."""
    state = _state(request)
    settings = state.settings
    query = request.query_params
    rng = exportplan.parse_range(query.get("from"), query.get("to"), settings.tz,
                                 settings.export_max, _today(state))
    sharing.check_range(sharing.share_of(request), rng.start, rng.end)
    codec = exportplan.parse_codec(query.get("codec"))
    plan = await run_in_threadpool(export.make_plan, state.footage, state.root, rng, settings.tz,
                                   codec)
    if plan.codec == exportplan.H264:  # made whole first (its index in front), in a transcoding slot
        return await _reencoded_clip(state, plan)
    release = state.exports.take()
    if release is None:
        return PlainTextResponse(
            f"{settings.export_jobs} exports are being made, as many as export_jobs allows: "
            "retry shortly\n", status_code=503, headers={"Retry-After": EXPORT_RETRY})
    try:
        return await clips.start(
            export.stream(ffmpeg.locate(settings.ffmpeg), plan),
            f"{query['from']} to {query['to']}",
            exportplan.headers(settings.camera, plan, settings.tz), release)
    except BaseException:
        release()
        raise


async def _reencoded_clip(state, plan: exportplan.Plan) -> FileResponse:
    """The clip re-encoded in a transcoding slot (Busy: 503 when none is free) into a temporary
    file in the camera's state folder, sent, then deleted."""
    settings = state.settings
    folder = Path(tempfile.mkdtemp(prefix=".export-", dir=settings.catalog_path.parent))
    try:
        async with state.transcodes.slot():
            clip = await export.reencode(ffmpeg.locate(settings.ffmpeg), plan, folder,
                                         transcodes.threads_per_job(state.transcodes.jobs))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    headers = exportplan.headers(settings.camera, plan, settings.tz) | {"X-Clip-Codec": "h264"}
    return FileResponse(clip, media_type="video/mp4", headers=headers,
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


async def day_page(request: Request) -> HTMLResponse:
    """`/day/YYYY-MM-DD`: the player, the day's timeline, downloads and export."""
    state = _state(request)
    view = await run_in_threadpool(_day_view, state, request.path_params["day"],
                                   sharing.share_of(request))
    page = state.templates.get_template("day.html").render(
        view=view, view_json=json.dumps(view).replace("<", "\\u003c"), size=format.size,
        camera=state.settings.camera, cameras=_watchable(request, state), me=guard.me(request),
        notices=state.notices, hold=holds.get(state.root.path, view["day"]),
        vendor_ok=(STATIC / "vendor" / "hls.min.js").is_file(),
    )
    return HTMLResponse(page)


def _watchable(request: Request, state) -> list[str]:
    """The cameras the player links to: those this client may watch (a share link: none)."""
    who = guard.principal(request)
    if who.kind == "share":
        return [state.settings.camera]
    return [c for c in state.cameras
            if c == state.settings.camera or rules.allows(who, rules.WATCH, c) is None]


async def day_api(request: Request) -> JSONResponse:
    """`/api/day/YYYY-MM-DD`: footage runs in clock and playlist time, neighbours, videos."""
    state = _state(request)
    view = await run_in_threadpool(_day_view, state, request.path_params["day"],
                                   sharing.share_of(request))
    return JSONResponse(view, headers={"Cache-Control": "no-cache"})


def _day_view(state, day: str, share=None) -> dict:
    """The player's view of a day; through a share link, only the shared range of it (no other
    days to go to, no video to download)."""
    _day(state, day)
    sharing.check_day(share, day, state.settings.tz)
    days = [d for d, _ in state.catalog.versions()]
    if day not in days:
        if share is not None:
            raise sharing.outside(day)  # as for a day with footage outside the range
        raise NotFound(f"no recordings for {day}")
    pieces = state.footage.day(day)
    downloads = [_download(state.root, day, name, size)
                 for name, size in state.catalog.videos(day).items()]
    if share is not None:
        pieces, days, downloads = sharing.within(share, pieces), [day], []
        if not pieces:
            raise sharing.outside(day)
    return dayview.day_view(day, state.settings.tz, pieces, days, downloads, time.time())


def _download(root: layout.Root, day: str, name: str, size: int) -> dayview.Download:
    path = files.resolve(root, day, name)
    checksum = _has_checksum(path.with_name(name + layout.CHECKSUM_SUFFIX))
    try:
        codec = codec_of(files.head(path))
    except (OSError, NotFound):
        codec = None
    return dayview.Download(name, size, checksum, codec)


async def fragment_ts(request: Request) -> StreamingResponse:
    """`DAY/video.mp4/OFFSET-LENGTH.ts`: one video fragment as MPEG-TS, for playlists that
    also hold segments (see remux.py)."""
    state = _state(request)
    day, video = _day(state, request.path_params["day"]), request.path_params["video"]
    offset, length = request.path_params["offset"], request.path_params["length"]
    path = await run_in_threadpool(files.resolve, state.root, day, video)
    piece = await run_in_threadpool(state.footage.fragment, day, video, offset, length)
    sharing.check(sharing.share_of(request), piece, f"{day}/{video} at {offset}")  # 403 first
    if piece is None:
        raise NotFound(f"{day}/{video} has no fragment at bytes {offset}-{offset + length}")
    ranges = [piece.init, piece.byterange]
    data = await run_in_threadpool(files.read_ranges, path, ranges)
    binary = ffmpeg.locate(state.settings.ffmpeg)
    return StreamingResponse(ffmpeg.stream(remux.argv(binary), data), media_type="video/mp2t")


async def fragment_h264(request: Request) -> Response:
    """`DAY/video.mp4/h264/OFFSET-LENGTH.ts`: one fragment of a video re-encoded to H.264 (the
    rendition), made on demand, once, cached; the next ones made ahead. 503 when saturated."""
    state = _state(request)
    day, video = _day(state, request.path_params["day"]), request.path_params["video"]
    offset, length = request.path_params["offset"], request.path_params["length"]
    piece = await run_in_threadpool(state.footage.fragment, day, video, offset, length)
    sharing.check(sharing.share_of(request), piece, f"{day}/{video} at {offset}")  # 403 first
    if piece is None:
        raise NotFound(f"{day}/{video} has no fragment at bytes {offset}-{offset + length}")
    work, ahead = await run_in_threadpool(_works, state, piece)
    data, how = await state.transcodes.get(work, ahead)
    return Response(data, media_type="video/mp2t",
                    headers={"X-Transcode": how, "Cache-Control": "max-age=86400"})


def _works(state, piece) -> tuple[transcodes.Work, list[transcodes.Work]]:
    """The fragment's work and that of the ones after it, to make ahead."""
    work = transcodes.work_for(state.root, state.playlists.probes, piece)
    after = transcodes.following(state.footage.day(piece.day), piece)
    return work, [transcodes.work_for(state.root, state.playlists.probes, p) for p in after]


async def newest_still(request: Request) -> Response:
    """`still.jpg`: the newest footage's keyframe, a small JPEG, refreshed at most every
    tenth of the live window however many ask."""
    sharing.refuse(request, "the newest picture")
    found = await run_in_threadpool(safe_newest, _state(request).stills)
    if found is None:
        raise NotFound("no still: this camera has no footage yet")
    return Response(found.jpeg, media_type="image/jpeg",
                    headers={"Cache-Control": "no-cache", "X-Still-Time": f"{found.shows:.3f}"})


async def minute_still(request: Request) -> Response:
    """`stills/DAY/MINUTE.jpg` (MINUTE: the Unix time of a minute's start): the keyframe of the
    footage at that minute, for the timeline's hover preview. 404 for a minute without any."""
    state = _state(request)
    day, minute = _day(state, request.path_params["day"]), request.path_params["minute"]
    pieces = await run_in_threadpool(state.footage.day, day)
    piece = daystills.at_minute(pieces, minute - minute % daystills.MINUTE)
    sharing.check(sharing.share_of(request), piece, f"the still of {day} at {minute}")
    jpeg = await run_in_threadpool(state.day_stills.of, piece, f"in that minute of {day}")
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "max-age=3600"})


async def day_poster(request: Request) -> Response:
    """`stills/DAY/poster.jpg`: a still from halfway through the day's footage, for the index."""
    state = _state(request)
    day = _day(state, request.path_params["day"])
    sharing.refuse(request, "a day's poster")
    pieces = await run_in_threadpool(state.footage.day, day)
    jpeg = await run_in_threadpool(state.day_stills.of, daystills.poster(pieces), f"on {day}")
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "max-age=300"})


async def watch_now(request: Request) -> RedirectResponse:
    """`watch`: the player in live mode on the latest day (the index's "Watch now")."""
    if (share := sharing.share_of(request)) is not None:
        return RedirectResponse(f"day/{sharing.first_day(share, _state(request).settings.tz)}",
                                status_code=302)
    day = _state(request).playlists.latest_day(time.time())
    return RedirectResponse(f"day/{day}?live=1", status_code=302)


async def vendor(request: Request) -> FileResponse:
    """Browser libraries from npm; a missing one is a 404 that says how to install it."""
    name = request.path_params["name"]
    path = STATIC / "vendor" / name
    if name not in VENDOR:
        raise NotFound(f"no file static/vendor/{name}")
    if not path.is_file():
        raise NotFound(f"{name} is not installed on this server: run `npm ci && scripts/vendor-js.sh`")
    return FileResponse(path, media_type="text/javascript")


async def upload(request: Request) -> Response:
    """`PUT upload/DAY/NAME.ts`: one segment, stored whole or not at all (upload/receive.py,
    docs/upload.md): 201 with its SHA-256, 200 when these very bytes were there already, or went
    into a compacted video (named in "compacted"). Who may upload is the guard's to say (the
    camera's token, an admin)."""
    state = _state(request)
    day, name = request.path_params["day"], request.path_params["name"]
    body = pace.Paced(request.stream(), state.settings.header_timeout)
    try:
        stored = await _store(request, state, day, name, body)
    except ClientDisconnect:
        log.info("upload of %s/%s: the client went away; nothing was kept", day, name)
        return Response(status_code=400)  # nobody is there to read it
    except CctvError as err:
        return await _refused(request, err, body, f"{day}/{name}")
    digest = base64.b64encode(bytes.fromhex(stored.sha256)).decode()
    headers = {"Repr-Digest": f"sha-256=:{digest}:", "Cache-Control": "no-store"}
    answer = {"day": day, "name": name, "size": stored.size, "sha256": stored.sha256,
              "created": stored.created}
    if stored.compacted:
        answer["compacted"] = stored.compacted
    else:
        state.watcher.stored(day, name, stored.size, stored.mtime_ns)  # listed now, not in seconds
        headers["Location"] = f"{request.scope.get('root_path', '')}/{day}/{name}"
    return JSONResponse(answer, status_code=201 if stored.created else 200, headers=headers)


async def _store(request: Request, state, day: str, name: str,
                 body: pace.Paced) -> receive.Stored:
    """Every check that needs no byte of the body first, then the body itself."""
    settings = state.settings
    receive.check_name(name)
    receive.check_day(day, _today(state), math.ceil(settings.upload_backlog / 86400))
    receive.check_length(request.headers.get("content-length"), settings.upload_max)
    if not guard.csrf_ok(state.access, request, request.headers.get("x-csrf-token")):
        raise Forbidden("an upload signed in through the form must send its X-CSRF-Token")
    if state.uploads is None:  # a camera's app without its server: no disk or quota to share
        return await receive.receive(state.root.day_dir(day), name, body, settings.upload_max,
                                     settings.upload_max_mbps)
    return await state.uploads.receive(settings.camera, state.root.day_dir(day), name, body,
                                       receive.declared(request.headers.get("content-length")))


async def _refused(request: Request, err: CctvError, body: pace.Paced, what: str) -> Response:
    """The refusal; the connection closes when the body was not read to its end, rather than
    reading on what may be 64 MB (or a trickle) only to throw it away."""
    response = await error(request, err)
    if not body.finished:
        response.headers["Connection"] = "close"
    log.warning("upload of %s by %s refused (%d): %s", what, guard.principal(request).name,
                response.status_code, err)
    if isinstance(err, limits.Refusal):
        _audit_refusal(request, err)
    return response


def _audit_refusal(request: Request, err: limits.Refusal) -> None:
    """One audit record per camera and kind of refusal a minute, whatever the flood: the
    alerts read it. The token's id, never its secret."""
    state = _state(request)
    camera = state.settings.camera
    if state.access is None or state.uploads is None or not state.uploads.audit_due(camera, err.reason):
        return
    token = guard.principal(request).token
    state.access.audit.write("upload refused", camera=camera, reason=err.reason, bytes=err.bytes,
                             token=token.id if token else None)


ROUTES = [
    *workers.ROUTES,  # a worker's (tasks/): only a worker's token reaches them
    Route("/", index),
    Route("/index.php", index),
    Route("/playlist.m3u8", playlist),
    Route("/playlist.php", playlist),
    Route("/variants.m3u8", variants_playlist),
    Route("/h264.m3u8", h264_playlist),
    Route("/live.m3u8", newest),
    Route("/healthz", health),
    Route("/still.jpg", newest_still),
    Route("/watch", watch_now),
    Route("/stills/{day}/poster.jpg", day_poster),
    Route("/stills/{day}/{minute:int}.jpg", minute_still),
    Route("/export.mp4", export_clip),
    Route("/day/{day}", day_page),
    Route("/api/day/{day}", day_api),
    *activityweb.CAMERA_ROUTES,  # activity: a day's heat and events, stills
    Route("/static/vendor/{name}", vendor),
    Route("/{day}/{video}/{offset:int}-{length:int}.ts", fragment_ts),
    Route("/{day}/{video}/h264/{offset:int}-{length:int}.ts", fragment_h264),
    Route("/upload/{day}/{name}", upload, methods=["PUT"]),
    Mount("/static", StaticFiles(directory=STATIC), name="static"),
    Route("/{day}/{name}", recording),
]
