"""A property of the whole router: once an account exists, no URL it knows answers with footage to a
request that carries no credential, whatever its path parameters and method."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from cctv_server import cameras, config, demo
from cctv_server.access.service import Access
from cctv_server.web.server import create_server

from .conftest import UTC

DAY = "2026-01-01"
PUBLIC = {"/healthz", "/login", "/logout", "/favicon.ico"}  # and anything under /static/
# (the favicon is our own drawing: it names no camera and shows no footage)
DAYS = st.sampled_from([DAY, "2026-01-02", "1970-01-01", "2026-13-01", "..", "x"])
NAMES = st.sampled_from(["12-00-00.ts", "12-00-02.ts", "video.mp4", "video.mp4.sha512sum",
                         "..", "%2e%2e", "catalog.sqlite3", "x.ts"])
TEXT = st.text(alphabet="abc.-_%/0123456789", min_size=1, max_size=12)


def templates(routes, prefix: str = "") -> list[str]:
    """Every path template the router answers, mounted apps' routes under their prefix."""
    found = []
    for route in routes:
        if isinstance(route, Mount):
            if route.app is not None and hasattr(route.app, "routes"):
                found += templates(route.app.routes, prefix + route.path)
        elif isinstance(route, Route):
            found.append(prefix + route.path)
    return sorted(set(found))


def fill(template: str, draw) -> str:
    """A path from a template: its `{param}`s drawn from values that exist and values that don't."""
    def value(match):
        name, _, kind = match.group(1).partition(":")
        if kind == "int":
            return str(draw(st.integers(0, 10**7)))
        if name == "day":
            return draw(DAYS)
        if name in ("name", "video"):
            return draw(NAMES)
        if name in ("camera",):
            return draw(st.sampled_from(["porch", "nope"]))
        return draw(TEXT)
    return re.sub(r"\{([^}]+)\}", value, template)


@pytest.fixture(scope="module")
def client(tmp_path_factory, ffmpeg_bin):
    root = tmp_path_factory.mktemp("props") / "porch"
    demo.record(ffmpeg_bin, root, dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC), 4, segment=2.0,
                size="160x90", fps=10)
    server_settings = config.load(env={"CCTV_TIMEZONE": "UTC", "CCTV_STABLE_SECONDS": "0"})
    cams = cameras.load(server_settings, None, [f"porch={root}"])
    Access(cameras.server_state_dir(server_settings, cams), UTC).accounts.add(
        "alice", "admin", "a long password")
    app = create_server(server_settings, cams)
    with TestClient(app, base_url="http://127.0.0.1") as c:
        deadline = time.monotonic() + 30
        while c.get("/healthz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        c.templates = templates(app.routes)
        yield c


def test_the_router_knows_the_footage_routes(client):
    assert {"/cam/porch/playlist.php", "/cam/porch/{day}/{name}", "/playlist.php", "/still.jpg",
            "/cam/porch/export.mp4", "/admin/audit"} <= set(client.templates)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_route_shows_footage_without_a_credential(client, data):
    template = data.draw(st.sampled_from(client.templates))
    path = fill(template, data.draw)
    method = data.draw(st.sampled_from(["GET", "HEAD", "POST", "PUT"]))
    query = data.draw(st.sampled_from(["", f"?date={DAY}", f"?date={DAY}&live=1",
                                       f"?from={DAY}T12:00&to={DAY}T12:00:02", "?share=abc"]))
    response = client.request(method, path + query, follow_redirects=False)
    public = path in PUBLIC or "/static/" in path
    if not public:
        assert response.status_code in (302, 400, 401, 403, 404, 405), (method, path, query,
                                                                        response.status_code)
        assert not response.headers.get("content-type", "").startswith(
            ("video/", "image/", "application/vnd.apple.mpegurl", "application/json"))
