"""The server: each camera's own app at /cam/NAME/ (and at / for a one-camera site), an overview, health.

A camera's app is the whole one-root server, unchanged (web/app.py). Composing them here keeps
the handlers ignorant of cameras: each reads its own camera's state from its own app.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import sqlite3
import time
from collections.abc import Callable, Sequence

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..access.rules import WATCH, allows
from ..access.service import Access
from ..cameras import Camera, server_state_dir
from ..config import Settings
from ..errors import CctvError, InvalidInput, NotFound
from ..footage import timeline
from ..playback import overview
from ..tasks import health as broker_health
from ..upload import receive
from ..upload.gate import Gate
from ..upload.limits import RECENT_DAYS, Day
from . import activityweb, app, diskview, guard, icons, login, metrics, routes, signin, workers
from .bodies import BodyLimits
from .guard import Guard
from .headers import SecurityHeaders
from .hosts import HostCheck, is_loopback, own_names

CAMERA_PREFIX = "/cam"

log = logging.getLogger(__name__)


def create_server(settings: Settings, cameras: Sequence[Camera], watch: bool = True) -> Starlette:
    """The whole server; `settings` are the server's own (host, allowed_hosts, auth ...)."""
    names = [c.name for c in cameras]
    apps = {c.name: app.create_app(c.settings, watch, cameras=names) for c in cameras}
    access = Access(server_state_dir(settings, cameras), settings.tz, settings.session_idle,
                    settings.session_max, sign_in_limit=settings.sign_in_limit,
                    audit_max=settings.audit_max, audit_keep=settings.audit_keep)
    checks = signin.PasswordChecks(settings.sign_in_jobs, settings.sign_in_wait)
    served = [Route("/healthz", health), Route("/metrics", metrics.metrics_page), *login.ROUTES,
              Route("/worker/whoami", workers.whoami)]
    served += icons.ROUTES  # the favicon and the home-screen icons: no camera named
    served += activityweb.SERVER_ROUTES  # activity: search across cameras
    for name, camera_app in apps.items():
        served += [Route(f"{CAMERA_PREFIX}/{name}", _to_slash),
                   Mount(f"{CAMERA_PREFIX}/{name}", app=camera_app)]
    served.append(Route(CAMERA_PREFIX + "/{name}/{path:path}", no_such_camera))
    if len(apps) == 1:
        served.append(Mount("", app=next(iter(apps.values()))))  # the seed's URLs stay put
    else:
        served += [Route("/", overview_page), Route("/index.php", overview_page),
                   Route(f"{CAMERA_PREFIX}/", lambda r: RedirectResponse("/", 302)),
                   Mount("/static", StaticFiles(directory=routes.STATIC), name="static"),
                   Route("/{path:path}", which_camera, methods=["GET", "HEAD", "PUT", "POST"])]

    @contextlib.asynccontextmanager
    async def lifespan(server: Starlette):
        sweep_uploads(cameras)
        async with contextlib.AsyncExitStack() as stack:
            for camera_app in apps.values():  # a mounted app's own lifespan is not run for it
                await stack.enter_async_context(camera_app.router.lifespan_context(camera_app))
            yield

    measured = metrics.for_server(settings, cameras, {n: a.state.cctv for n, a in apps.items()})
    server = Starlette(
        routes=served, lifespan=lifespan, exception_handlers={CctvError: routes.error},
        middleware=[
            Middleware(SecurityHeaders),  # outermost: the Host check's 421 carries them too
            Middleware(metrics.Measure, metrics=measured),
            # Before any account exists this is all that keeps a web page from reading the
            # footage through DNS rebinding; it stays on after (see hosts.py).
            Middleware(HostCheck, names=own_names(settings.host, settings.allowed_hosts)),
            Middleware(BodyLimits, idle=settings.header_timeout, form_max=settings.form_max),
            Middleware(Guard, access=access, cameras=names, open_server=settings.auth == "none",
                       loopback=is_loopback(settings.host), checks=checks),
        ],
    )
    server.state.metrics = measured
    # A slash added or dropped by a redirect could turn /cam/a%2f..%2fb/ into another camera's
    # path in a client that follows it: the only redirect is /cam/NAME -> /cam/NAME/, above.
    for router_of in (server, *apps.values()):
        router_of.router.redirect_slashes = False
    server.state.cameras = apps
    server.state.access = access
    server.state.password_checks = checks
    server.state.templates = next(iter(apps.values())).state.cctv.templates
    server.state.camera_settings = {c.name: c.settings for c in cameras}
    server.state.checks = []  # the server's own troubles (its compactor), for /healthz ...
    if settings.broker:  # an unreachable broker stops compaction: /healthz says so
        server.state.checks.append(broker_health.BrokerWatch(settings).problem)
    notices = ["auth = none: anyone who can reach this server watches every camera"
               ] if settings.auth == "none" else []
    server.state.notices = notices  # page banners that are no trouble of the server's health
    for camera_app in apps.values():
        camera_app.state.cctv.checks = server.state.checks  # ... and every camera's index page
        camera_app.state.cctv.access = access
        camera_app.state.cctv.notices = notices
    uploads = upload_gate(cameras, {n: a.state.cctv.catalog for n, a in apps.items()})
    for camera_app in apps.values():
        camera_app.state.cctv.uploads = uploads
    return server


def upload_gate(cameras: Sequence[Camera], catalogs: dict) -> Gate:
    """One gate for every camera: uploads to cameras on one filesystem share its free space;
    a camera's automatic quota comes from its catalog's recent days."""
    def recent(catalog) -> Callable[[], list[Day]]:
        def days() -> list[Day]:
            try:
                return [Day(d.day, d.size + d.video_size, d.duration)
                        for d in catalog.days()[:RECENT_DAYS + 2]]  # newest first
            except sqlite3.Error:  # a catalog being rebuilt: upload_quota_max until it is back
                return []
        return days
    return Gate(cameras, {name: recent(catalog) for name, catalog in catalogs.items()})


def sweep_uploads(cameras: Sequence[Camera]) -> None:
    """Before serving: the temp files of uploads a crash cut short go (docs/upload.md). No
    upload is under way yet, so every one found is a leftover."""
    for camera in cameras:
        try:
            removed = receive.sweep(camera.root)
        except OSError as err:  # the root unreadable: the catalog reports that
            log.warning("%s: cannot look for interrupted uploads (%s)", camera.name, err)
            continue
        if removed:
            log.warning("%s: removed %d temp file(s) of uploads interrupted by a crash: %s",
                        camera.name, len(removed), ", ".join(str(p) for p in removed[:5]))


async def _to_slash(request: Request) -> Response:
    return RedirectResponse(request.url.path + "/", 302)  # so that its page's relative links work


async def no_such_camera(request: Request) -> Response:
    raise NotFound(f"no camera named {request.path_params['name']!r}")


def _states(request: Request) -> dict:
    return {name: a.state.cctv for name, a in request.app.state.cameras.items()}


async def health(request: Request) -> Response:
    """The whole server: scanning until every camera is catalogued; degraded, naming the camera,
    while anything keeps one from full service (routes.health_response)."""
    states = _states(request)
    several = len(states) > 1
    scanning = [name for name, s in states.items() if not s.watcher.ready.is_set()]
    problems = [f"{name}: {p}" if several else p
                for name, s in states.items() for p in s.own_problems()]
    problems += [p for check in request.app.state.checks if (p := check())]
    return routes.health_response(scanning, problems, request.query_params.get("strict", ""))


async def which_camera(request: Request) -> Response:
    """A camera's URL without its camera, on a server of several: say where it is now."""
    names = list(request.app.state.cameras)
    example = f"{CAMERA_PREFIX}/{names[0]}{request.url.path}"
    raise InvalidInput(f"this server has several cameras ({', '.join(names)}): ask for"
                       f" {CAMERA_PREFIX}/NAME{request.url.path}, e.g. {example}")


async def overview_page(request: Request) -> HTMLResponse:
    """`/`: one tile per camera with its newest still, whether it records, today, disk, compaction."""
    who = guard.principal(request)
    states = {name: s for name, s in _states(request).items()
              if allows(who, WATCH, name) is None}  # a viewer sees only its cameras
    now = time.time()
    tiles, disks = await run_in_threadpool(_tiles_and_disks, states, now)  # catalog and statfs
    page = request.app.state.templates.get_template("overview.html").render(
        tiles=tiles, now=now, size=routes.format.size, duration=routes.format.duration,
        clock=lambda s: routes.format.clock(s, request.app.state.access.tz, day=""),
        notices=request.app.state.notices, me=guard.me(request),
        disks=disks, days=diskview.days_text,
    )
    return HTMLResponse(page)


def _tiles_and_disks(states: dict, now: float) -> tuple[list[dict], list[diskview.DiskView]]:
    return [_tile(name, state, now) for name, state in states.items()], \
        diskview.of_cameras(states, now)


def _tile(name: str, state, now: float) -> dict:
    """What the page shows of one camera: its tile, and the day its player opens on."""
    tz = state.settings.tz
    today = timeline.local_date(now, tz)
    summary = state.catalog.day(today)
    newest = state.footage.newest(dt.date.fromisoformat(today))
    used, states = state.catalog.usage()
    found = overview.tile(name, newest.end if newest else None,
                          summary.duration if summary else 0.0, len(summary.gaps) if summary else 0,
                          used, states, now, newest.duration if newest else 10.0)
    return {"tile": found, "day": newest.day if newest else today, "has_footage": newest is not None,
            "event": _latest_event(state, now)}


def _latest_event(state, now: float) -> dict | None:
    """The camera's latest event, for its tile (activity/)."""
    found = state.activity.before(now + 1)
    if found is None:
        return None
    return {"day": found.day, "start": found.start, "score": found.score,
            "still": f"cam/{found.camera}/activity/still/{found.day}/{found.peak}.jpg",
            "clock": routes.format.clock(found.start, state.settings.tz, day=""),
            "at": activityweb.search.iso(found.start, state.settings.tz)[11:19]}
