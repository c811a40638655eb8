"""A phone in the hand: the overview, the index and the player at 360-430 px with touch (Playwright's phone emulation, Debian's Chromium), installable to the home screen."""

from __future__ import annotations

import datetime as dt
import struct

import httpx
import pytest
from playwright.sync_api import sync_playwright

from .conftest import UTC
from .test_player import CHROMIUM, CHROMIUM_ARGS, POLL

DAY = "2026-11-20"
RUN = dt.datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC)
# What a thumb presses: buttons, the day's and the camera's links, the player's day links.
THUMB = "button, .button, nav a, .links a, .facts h2 a, #watch-now"


@pytest.fixture(scope="module")
def two_cameras(tmp_path_factory, ffmpeg_bin):
    from cctv_server import demo

    from .conftest import Server

    tmp = tmp_path_factory.mktemp("phone")
    roots = {"porch": tmp / "porch", "garden": tmp / "garden"}
    for root in roots.values():
        demo.record(ffmpeg_bin, root, RUN, 40, segment=2.0, size="160x90", fps=10)
    srv = Server(roots, tmp).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def pw():
    with sync_playwright() as found:
        yield found


def phone(pw, profile, width: int = 390, height: int = 844):
    """A phone: touch, a mobile viewport, three device pixels to a CSS pixel."""
    return pw.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
        viewport={"width": width, "height": height}, device_scale_factor=3, is_mobile=True,
        has_touch=True)


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def small_targets(page, selector: str, least: int = 36) -> list[str]:
    """Visible controls under `selector` smaller than a thumb (CSS pixels)."""
    return page.eval_on_selector_all(selector, f"""els => els
        .filter(e => e.offsetParent !== null)
        .filter(e => {{ const b = e.getBoundingClientRect(); return b.height < {least} || b.width < {least}; }})
        .map(e => e.id || e.textContent.trim())""")


@pytest.mark.parametrize("width", [360, 390, 430])
def test_overview_index_and_player_fit_a_phone_without_scrolling_sideways(two_cameras, pw, width,
                                                                        tmp_path):
    context = phone(pw, tmp_path, width)
    try:
        page = context.new_page()
        for path in ("/", "/cam/porch/", f"/cam/porch/day/{DAY}"):
            page.goto(two_cameras.url + path)
            page.wait_for_load_state("load")
            assert fits(page), f"{path} scrolls sideways at {width} px"
            assert small_targets(page, THUMB) == [], path
        box = page.locator("#timeline").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width and box["height"] >= 36
    finally:
        context.close()


def test_on_a_phone_a_tap_on_the_timeline_seeks_and_a_pinch_zooms(two_cameras, pw, tmp_path):
    context = phone(pw, tmp_path)
    try:
        page = context.new_page()
        page.goto(f"{two_cameras.url}/cam/porch/day/{DAY}")
        page.wait_for_function("() => document.getElementById('video').currentTime > 0.5",
                               timeout=30000, polling=POLL)
        page.tap("button[data-span='600']")
        span = page.evaluate("window.cctvTimeline")
        assert span["end"] - span["start"] == 600
        box = page.locator("#timeline").bounding_box()
        target = RUN.timestamp() + 30
        x = box["x"] + (target - span["start"]) / 600 * box["width"]
        page.tap("#timeline", position={"x": x - box["x"], "y": box["height"] / 2})
        page.wait_for_function(
            f"() => Math.abs(+document.getElementById('clock').dataset.clock - {target}) < 4",
            polling=POLL)
        pinch(context, page, box, apart=True)
        zoomed = page.evaluate("window.cctvTimeline")
        assert zoomed["end"] - zoomed["start"] < 600 * 0.7  # fingers apart: fewer minutes
    finally:
        context.close()


def pinch(context, page, box, apart: bool) -> None:
    """Two fingers on the timeline moving apart (or together), as real touch events."""
    cdp = context.new_cdp_session(page)
    y = box["y"] + box["height"] / 2
    mid = box["x"] + box["width"] / 2
    near, far = (20, 120) if apart else (120, 20)

    def touch(kind: str, spread: float) -> None:
        points = [] if kind == "touchEnd" else [
            {"x": mid - spread, "y": y, "id": 1}, {"x": mid + spread, "y": y, "id": 2}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    touch("touchStart", near)
    for step in range(1, 9):
        touch("touchMove", near + (far - near) * step / 8)
    touch("touchEnd", far)


def test_the_app_can_be_installed_with_a_manifest_and_icons_of_our_own(two_cameras):
    manifest = httpx.get(two_cameras.url + "/static/manifest.webmanifest")
    assert manifest.status_code == 200
    found = manifest.json()
    assert found["display"] == "standalone" and found["start_url"] == "/"
    sizes = {icon["sizes"] for icon in found["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in found["icons"]:
        got = httpx.get(two_cameras.url + icon["src"])
        assert got.status_code == 200 and got.headers["content-type"] == icon["type"]
        if icon["type"] == "image/png":
            assert png_size(got.content) == tuple(map(int, icon["sizes"].split("x")))
    page = httpx.get(two_cameras.url + f"/cam/porch/day/{DAY}").text
    assert '<link rel="manifest" href="/static/manifest.webmanifest">' in page
    assert "serviceWorker" not in httpx.get(two_cameras.url + "/static/player.js").text


def test_without_credentials_the_favicon_is_an_icon_that_names_no_camera(tmp_path, record, server):
    from .test_access_web import add_user

    roots = {"porch": tmp_path / "porch", "garden": tmp_path / "garden"}
    for root in roots.values():
        record(root, RUN, 2)
    add_user(roots, "alice", "admin")
    srv = server(roots)
    icon = httpx.get(srv.url + "/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/png"
    assert png_size(icon.content) == (32, 32)
    assert b"porch" not in icon.content and b"garden" not in icon.content
    assert httpx.get(srv.url + "/cam/porch/").status_code in (302, 303, 401)  # footage still guarded


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("size", [32, 64, 180])
def test_the_icon_drawn_by_flat_runs_is_the_icon_drawn_pixel_by_pixel(size):
    from cctv_server.web import icons

    px = 100 / size
    rows = b"".join(icons._row((j + 0.5) * px, size, px) for j in range(size))
    assert rows == icons._exact(size)
