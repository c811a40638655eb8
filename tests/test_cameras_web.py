"""Several cameras in one real server: per-camera URLs, the overview, and each camera kept to itself."""

from __future__ import annotations

import datetime as dt
import tempfile

import pytest
from playwright.sync_api import sync_playwright

from . import hlscheck
from .conftest import FPS, UTC, count_frames
from .test_player import CHROMIUM, CHROMIUM_ARGS, POLL
from .test_web import raw_get

NOON = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def two_cameras(tmp_path, record, server):
    """porch recorded 2026-01-01 (6 s), garden 2026-01-02 (4 s) and a minute ago (so it records)."""
    porch, garden = tmp_path / "porch", tmp_path / "garden"
    record(porch, NOON, 6)
    record(garden, NOON + dt.timedelta(days=1), 4)
    now = dt.datetime.now(UTC).replace(microsecond=0)
    record(garden, now - dt.timedelta(seconds=30), 4)
    return server({"porch": porch, "garden": garden})


def test_each_camera_plays_its_own_days_frame_for_frame(two_cameras, ffmpeg_bin):
    srv = two_cameras
    for name, day, seconds in (("porch", "2026-01-01", 6), ("garden", "2026-01-02", 4)):
        response = srv.get(f"/cam/{name}/playlist.php?date={day}")
        assert response.status_code == 200, response.text
        m = hlscheck.check(response.text)
        assert m.ended and len(m.uris) == seconds // 2
        assert count_frames(ffmpeg_bin, f"{srv.url}/cam/{name}/playlist.php?date={day}") == seconds * FPS
    assert srv.get("/cam/porch/playlist.php?date=2026-01-02").status_code == 404
    assert srv.get("/cam/garden/playlist.php?date=2026-01-01").status_code == 404
    assert srv.get("/cam/garden/2026-01-02/12-00-00.ts").status_code == 200
    assert srv.get("/cam/porch/2026-01-02/12-00-00.ts").status_code == 404


def test_without_a_camera_a_camera_url_names_the_per_camera_urls(two_cameras):
    srv = two_cameras
    for path in ("/playlist.php?date=2026-01-01", "/playlist.php", "/live.m3u8", "/day/2026-01-01",
                 "/2026-01-01/12-00-00.ts", "/export.mp4?from=2026-01-01T12:00&to=2026-01-01T12:01"):
        response = srv.get(path)
        assert response.status_code == 400, path
        assert "/cam/porch" in response.text or "/cam/garden" in response.text
        assert response.text.count("\n") == 1


def test_an_unknown_or_odd_camera_name_is_never_a_path(two_cameras):
    srv = two_cameras
    assert srv.get("/cam/drive/").status_code == 404
    assert srv.get("/cam/porch", follow_redirects=False).headers["location"].endswith("/cam/porch/")
    for path in ("/cam/../porch/", "/cam/%2e%2e/porch/", "/cam/porch%2f..%2fgarden/",
                 "/cam/..%2f..%2fetc/passwd", "/cam/.cctv/catalog.sqlite3", "/cam/PORCH/"):
        assert raw_get(srv, path) in (400, 404), path


def test_the_overview_shows_every_camera_and_which_records(two_cameras):
    srv = two_cameras
    for path in ("/", "/index.php"):
        page = srv.get(path)
        assert page.status_code == 200
        assert 'id="camera-porch"' in page.text and 'id="camera-garden"' in page.text
    text = srv.get("/").text
    garden = text.split('id="camera-garden"')[1].split("</article>")[0]
    porch = text.split('id="camera-porch"')[1].split("</article>")[0]
    assert "● recording" in garden and "not recording since 2026-01-01 12:00:06" in porch
    for name in ("porch", "garden"):
        still = srv.get(f"/cam/{name}/still.jpg")
        assert still.status_code == 200 and still.content[:2] == b"\xff\xd8"
    assert srv.get("/healthz").text == "ready\n"


def test_the_overview_shows_a_still_per_camera_and_a_click_plays_live(two_cameras):
    srv = two_cameras
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        browser = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 390, "height": 844})  # a phone
        page = browser.new_page()
        page.goto(srv.url + "/")
        page.wait_for_function("() => [...document.querySelectorAll('img.still')].length === 2 &&"
                               " [...document.querySelectorAll('img.still')].every("
                               "i => i.complete && i.naturalWidth > 0)", polling=POLL, timeout=20000)
        widths = page.evaluate("[...document.querySelectorAll('.tile')].map(t => t.offsetWidth)")
        assert all(w <= 390 for w in widths)  # one column on a phone, nothing wider than it
        page.click("#camera-garden a.watch")
        page.wait_for_function("() => document.getElementById('mode').classList.contains('live') &&"
                               " document.getElementById('video').currentTime > 0.5",
                               polling=POLL, timeout=30000)
        assert "/cam/garden/day/" in page.url
        switcher = page.eval_on_selector_all(".cameras a.camera-link", "els => els.map(e => e.textContent)")
        browser.close()
    assert switcher == ["porch"]
