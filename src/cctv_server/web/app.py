"""create_app(settings): the Starlette app, its lifespan (catalog + watcher) and error mapping."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from ..activity.index import Index as ActivityIndex
from ..activity.index import path_for as activity_path
from ..activity.search import CameraActivity
from ..activity.worker import Measurer
from ..archive import health as archive_health
from ..compaction import status
from ..config import Settings
from ..errors import CctvError, NotFound
from ..footage.catalog import Catalog
from ..footage.reader import Footage
from ..footage.watcher import Watcher
from ..layout import Root
from ..media import ffmpeg
from ..playback import transcodes
from ..playback.daystills import DayStills
from ..playback.filecache import FileCache
from ..playback.playlists import Playlists
from ..playback.stills import Stills
from ..playback.transcodes import Transcodes
from ..storage import base as storage_base
from . import routes
from .clips import Slots

log = logging.getLogger(__name__)


class State:
    """What the handlers need: settings, root, catalog, the footage model, playlists, templates."""

    def __init__(self, settings: Settings, cameras: Sequence[str] = ()):
        assert settings.root is not None
        self.settings = settings
        self.cameras = list(cameras)  # every camera of the server, for the player's switcher
        self.root = Root(Path(settings.root))
        storage_base.configure(settings.archive, settings.archive_endpoint)
        self.catalog = Catalog(settings.catalog_path, memory_when_full=True)
        self.footage = Footage(self.root.path, self.catalog)  # the one model of the footage
        self.playlists = Playlists(self.footage, settings.tz, settings.live_window,
                                   settings.live_max_days)
        self.exports = Slots(settings.export_jobs)  # exports being made
        self.templates = Environment(
            loader=PackageLoader("cctv_server.web", "templates"),
            autoescape=select_autoescape(),
        )
        self.watcher = Watcher(settings, self.catalog)
        # The overview's still: at most one ffmpeg per camera every tenth of the live window.
        self.stills = Stills(self.footage, self.root, ffmpeg.locate(settings.ffmpeg),
                             settings.live_window / 10, settings.tz)
        self.transcodes = _transcodes(settings)  # the H.264 rendition of compacted days
        self.day_stills = DayStills(self.root, ffmpeg.locate(settings.ffmpeg))  # timeline, index
        self.sections: dict[str, tuple] = {}  # day -> (key, html) of its index section
        self.access = None  # the server's access control (web/server.py sets it)
        self.uploads = None  # the server's upload gate, shared by its cameras (web/server.py sets it)
        self.notices: list[str] = []  # page banners from the server (auth = none)
        self.checks: list[Callable[[], str | None]] = []  # more to report, e.g. the compactor's
        # Activity (activity/): the index beside the catalog, its events, the measuring thread.
        self.activity_index = ActivityIndex(activity_path(settings.catalog_path))
        self.activity = CameraActivity(settings.camera, self.activity_index,
                                       settings.activity_threshold, settings.tz)
        self.measurer = Measurer(settings, self.footage, self.activity_index, self.activity,
                                 ffmpeg.locate(settings.ffmpeg)) if settings.activity else None

    def problems(self) -> list[str]:
        """What keeps the server from full service while it still serves: /healthz and the index."""
        return self.own_problems() + [p for check in self.checks if (p := check())]

    def own_problems(self) -> list[str]:
        """This camera's alone (its catalog); `checks` are the server's, shared by its cameras."""
        found = [self.catalog.problem, "catalog being rebuilt from the recordings"
                 if self.watcher.rebuilding else None, _archive_problem(self.settings),
                 self.activity_index.problem]
        return [p for p in found if p] + self.given_up()

    def given_up(self) -> list[str]:
        """The days whose compaction is no longer retried (compaction_retries)."""
        try:
            return status.given_up(self.catalog, self.settings)
        except sqlite3.Error:  # the catalog's own trouble is reported already
            return []


def _archive_problem(settings: Settings) -> str | None:
    if not settings.archive:
        return None
    why = archive_health.problem_now(settings.archive, settings.archive_endpoint)
    return f"archive: {why}" if why else None


def _transcodes(settings: Settings) -> Transcodes:
    """Fragments re-encoded to H.264 on demand, cached in the camera's state folder."""
    jobs = settings.transcode_jobs or transcodes.default_jobs()
    binary, threads = ffmpeg.locate(settings.ffmpeg), transcodes.threads_per_job(jobs)
    cache = FileCache(settings.catalog_path.parent / "h264", settings.transcode_cache)
    return Transcodes(cache, jobs, lambda work: transcodes.make_fragment(work, binary, threads))


def create_app(settings: Settings, watch: bool = True, cameras: Sequence[str] = ()) -> Starlette:
    """One camera's whole server: `web/server.py` mounts one per camera."""
    state = State(settings, cameras)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        task = asyncio.create_task(state.watcher.run()) if watch else None
        measuring = state.measurer if watch else None
        if measuring:
            measuring.start()
        try:
            yield
        finally:
            if measuring:
                await asyncio.to_thread(measuring.stop)
            if task:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = Starlette(
        routes=routes.ROUTES,
        lifespan=lifespan,
        exception_handlers={CctvError: _domain_error, sqlite3.Error: _catalog_error},
    )
    app.state.cctv = state
    return app


async def _domain_error(request: Request, exc: Exception) -> PlainTextResponse:
    """As routes.error; but "no recordings" while the catalog is being refilled is not known yet:
    a 503 to retry, not a 404 that a player would give up on."""
    if isinstance(exc, NotFound) and request.app.state.cctv.watcher.rebuilding:
        return PlainTextResponse(f"the catalog is being rebuilt ({exc}); try again shortly\n",
                                 status_code=503, headers={"Retry-After": "2"})
    return await routes.error(request, exc)


async def _catalog_error(request: Request, exc: Exception) -> PlainTextResponse:
    """A query the catalog could not answer (its file deleted or damaged under us): a 503 while
    the watcher rebuilds it, never a 500 until a restart."""
    state = request.app.state.cctv
    state.catalog.suspect(exc)
    state.watcher.check_soon()
    log.warning("%s: catalog query failed: %s", request.url.path, exc)
    return PlainTextResponse(f"the catalog cannot answer now ({exc}); try again shortly\n",
                             status_code=503, headers={"Retry-After": "2"})
