"""create_app(settings): the Starlette app, its lifespan (catalog + watcher) and error mapping."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware

from ..config import Settings
from ..errors import CctvError
from ..footage.catalog import Catalog
from ..footage.reader import Footage
from ..footage.watcher import Watcher
from ..layout import Root
from ..playback.playlists import Playlists
from . import routes
from .clips import Slots
from .hosts import HostCheck, own_names

log = logging.getLogger(__name__)


class State:
    """What the handlers need: settings, root, catalog, the footage model, playlists, templates."""

    def __init__(self, settings: Settings):
        assert settings.root is not None
        self.settings = settings
        self.root = Root(Path(settings.root))
        self.catalog = Catalog(settings.catalog_path)
        self.footage = Footage(self.root.path, self.catalog)  # the one model of the footage
        self.playlists = Playlists(self.footage, settings.tz, settings.live_window,
                                   settings.live_max_days)
        self.exports = Slots(settings.export_jobs)  # exports being made
        self.templates = Environment(
            loader=PackageLoader("cctv_server.web", "templates"),
            autoescape=select_autoescape(),
        )
        self.watcher = Watcher(settings, self.catalog)
        self.sections: dict[str, tuple] = {}  # day -> (key, html) of its index section


def create_app(settings: Settings, watch: bool = True) -> Starlette:
    state = State(settings)

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
        # No accounts yet, so always: see hosts.py.
        middleware=[Middleware(HostCheck, names=own_names(settings.host, settings.allowed_hosts))],
    )
    app.state.cctv = state
    return app
