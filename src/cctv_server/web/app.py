"""create_app(settings): the Starlette app, its lifespan (catalog + watcher) and error mapping."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette

from ..config import Settings
from ..errors import CctvError
from ..footage.catalog import Catalog
from ..footage.reader import Footage
from ..footage.watcher import Watcher
from ..layout import Root
from ..media import ffmpeg
from ..playback.playlists import Playlists
from ..playback.stills import Stills
from . import routes

log = logging.getLogger(__name__)


class State:
    """What the handlers need: settings, root, catalog, the footage model, playlists, templates."""

    def __init__(self, settings: Settings, cameras: Sequence[str] = ()):
        assert settings.root is not None
        self.settings = settings
        self.cameras = list(cameras)  # every camera of the server, for the player's switcher
        self.root = Root(Path(settings.root))
        self.catalog = Catalog(settings.catalog_path)
        self.footage = Footage(self.root.path, self.catalog)  # the one model of the footage
        self.playlists = Playlists(self.footage, settings.tz, settings.live_window)
        self.templates = Environment(
            loader=PackageLoader("cctv_server.web", "templates"),
            autoescape=select_autoescape(),
        )
        self.watcher = Watcher(settings, self.catalog)
        # The overview's still: at most one ffmpeg per camera every tenth of the live window.
        self.stills = Stills(self.footage, self.root, ffmpeg.locate(settings.ffmpeg),
                             settings.live_window / 10, settings.tz)
        self.sections: dict[str, tuple] = {}  # day -> (key, html) of its index section


def create_app(settings: Settings, watch: bool = True, cameras: Sequence[str] = ()) -> Starlette:
    """One camera's whole server: `web/server.py` mounts one per camera."""
    state = State(settings, cameras)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        task = asyncio.create_task(state.watcher.run()) if watch else None
        try:
            yield
        finally:
            if task:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = Starlette(
        routes=routes.ROUTES,
        lifespan=lifespan,
        exception_handlers={CctvError: routes.error},
    )
    app.state.cctv = state
    return app
