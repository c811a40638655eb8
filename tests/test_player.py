"""The player page: real hls.js in Debian's headless Chromium on the real server; the day view's pure parts."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Page, sync_playwright

from cctv_server.playback import dayview, hls

from .conftest import UTC, Server, wait_until
from .test_compactor import compact

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
DAY = "2026-11-20"
PREV = "2026-11-19"
RUN1 = dt.datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC)  # 40 s
RUN2 = dt.datetime(2026, 11, 20, 10, 30, 0, tzinfo=UTC)  # 5 min after a gap: wider than a pixel
SEGMENT = 2.0
LONDON = ZoneInfo("Europe/London")
POLL = 200  # ms: headless Chromium throttles animation frames, Playwright's default polling


# --- pure: the day view ----------------------------------------------------------------------

def entry(uri: str, start: float, duration: float = 2.0, discontinuity: bool = False) -> hls.Entry:
    return hls.Entry(uri, duration, start, discontinuity)


def test_runs_join_seamless_entries_and_break_at_gaps_and_discontinuities():
    t = RUN1.timestamp()
    entries = [entry("a", t), entry("b", t + 2), entry("c", t + 60, discontinuity=True),
               entry("d", t + 62), entry("e", t + 64.5)]  # 0.5 s late: within tolerance
    assert dayview.runs(entries) == [
        dayview.Run(t, t + 4, 0.0), dayview.Run(t + 60, t + 66.5, 4.0),
    ]


def test_a_day_of_23_hours_has_its_clock_change_in_the_offsets():
    spring = dayview.offsets("2026-03-29", LONDON)
    change = dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC).timestamp()
    assert spring == [(dt.datetime(2026, 3, 29, tzinfo=UTC).timestamp(), 0), (change, 3600)]
    assert dayview.offsets("2026-03-30", LONDON) == [
        (dt.datetime(2026, 3, 29, 23, 0, tzinfo=UTC).timestamp(), 3600)]


def test_neighbours_are_the_nearest_days_with_footage_either_side():
    days = ["2026-11-01", "2026-11-19", "2026-11-22"]
    assert dayview.neighbours(days, "2026-11-20") == ("2026-11-19", "2026-11-22")
    assert dayview.neighbours(days, "2026-11-01") == (None, "2026-11-19")


# --- the real page in a real browser ---------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1000, "height": 760},
        )
        yield context
        context.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory, ffmpeg_bin):
    """A past day of two runs with a gap, the day before, and today's footage, served."""
    from cctv_server import demo

    tmp = tmp_path_factory.mktemp("player")
    root = tmp / "root"
    kw = {"segment": SEGMENT, "size": "160x90", "fps": 10}
    demo.record(ffmpeg_bin, root, RUN1, 40, **kw)
    demo.record(ffmpeg_bin, root, RUN2, 300, **kw)
    demo.record(ffmpeg_bin, root, dt.datetime(2026, 11, 19, 22, 0, tzinfo=UTC), 6, **kw)
    srv = Server(root, tmp).start()
    yield srv
    srv.stop()


@pytest.fixture
def page(browser):
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    yield page
    page.close()
    assert not errors, errors


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def current_time(page: Page) -> float:
    return page.evaluate("document.getElementById('video').currentTime")


def playing_past(page: Page, seconds: float, timeout: float = 30) -> None:
    page.wait_for_function(
        f"() => document.getElementById('video').currentTime > {seconds}", timeout=timeout * 1000,
        polling=POLL)


def seek_done(page: Page, action, event: str = "seeked") -> float:
    """Run `action` (which seeks) and return the video's position at its `event`: `seeked`, where
    the seek landed, or `seeking`, where it was sent (a video that plays on after the seek has
    moved on by the time a busy machine runs the `seeked` handler)."""
    page.evaluate("""event => { window.seekedAt = null; document.getElementById('video')
        .addEventListener(event, e => { window.seekedAt = e.target.currentTime; },
                          {once: true}); }""", event)
    action()
    page.wait_for_function("() => window.seekedAt !== null", timeout=15000, polling=POLL)
    return page.evaluate("window.seekedAt")


def runs_of(srv: Server, day: str) -> list[list[float]]:
    return srv.get(f"/api/day/{day}").json()["runs"]


def test_the_player_page_plays_a_day_of_h264_segments(site, page):
    page.goto(f"{site.url}/day/{DAY}")
    playing_past(page, 5)
    clock = page.text_content("#clock")
    assert clock.startswith("10:00:0"), clock  # clock time of the frame, from the day's start
    assert page.evaluate("window.cctvPlayer.hls() !== null")  # played by hls.js, not natively
    level = page.evaluate("(h => h.levels[h.loadLevel].uri)(window.cctvPlayer.hls())")
    assert level.endswith(f"/playlist.m3u8?date={DAY}")  # the only variant: nothing to re-encode
    assert page.is_hidden("#rendition")
    shot(page, "player-day-of-segments")


def test_clicking_the_timeline_seeks_to_within_a_segment_of_that_clock_time(site, page):
    page.goto(f"{site.url}/day/{DAY}")
    playing_past(page, 1)
    box = page.locator("#timeline").bounding_box()
    day_start = RUN1.replace(hour=0).timestamp()
    target = RUN2.timestamp() + 150  # 10:32:30, inside the second run
    x = box["x"] + (target - day_start) / 86400 * box["width"]
    page.evaluate("""() => { window.clickedX = null; document.getElementById('timeline')
        .addEventListener('click', e => { window.clickedX = e.clientX; }, {once: true}); }""")
    position = seek_done(page, lambda: page.mouse.click(x, box["y"] + box["height"] / 2))
    # The clock time of the pixel the browser really reports (a pixel is 86 s of the day here).
    clicked = day_start + (page.evaluate("window.clickedX") - box["x"]) / box["width"] * 86400
    second = runs_of(site, DAY)[1]
    assert second[0] <= clicked < second[1]
    assert abs(position - (second[2] + clicked - second[0])) <= SEGMENT
    shown = float(page.get_attribute("#clock", "data-clock"))
    assert abs(shown - clicked) <= SEGMENT + 2  # and the clock under the video says so
    shot(page, "player-timeline-click")


def test_typing_a_time_seeks_there_and_a_time_in_a_gap_goes_to_the_next_footage(site, page):
    page.goto(f"{site.url}/day/{DAY}")
    playing_past(page, 1)
    position = seek_done(page, lambda: (page.fill("#goto-time", "10:00:30"),
                                        page.press("#goto-time", "Enter")))
    assert abs(position - 30) <= SEGMENT
    position = seek_done(page, lambda: (page.fill("#goto-time", "10:10"),
                                        page.press("#goto-time", "Enter")))
    assert abs(position - 40) <= SEGMENT  # the second run starts 40 s into the playlist
    assert "No footage at 10:10:00; showing the next footage, from 10:30:00" in page.text_content("#notice")
    page.fill("#goto-time", "25:99")
    page.press("#goto-time", "Enter")
    assert "is not a time of day" in page.text_content("#notice")


def test_keys_step_ten_seconds_and_pause(site, page):
    page.goto(f"{site.url}/day/{DAY}#")
    playing_past(page, 1)
    page.keyboard.press(" ")
    page.wait_for_function("() => document.getElementById('video').paused")
    before = current_time(page)
    after = seek_done(page, lambda: page.keyboard.press("ArrowRight"))
    assert after == pytest.approx(before + 10, abs=0.05)
    after = seek_done(page, lambda: page.keyboard.press("ArrowLeft"))
    assert after == pytest.approx(before, abs=0.05)
    page.keyboard.press("k")
    page.wait_for_function("() => !document.getElementById('video').paused")


def test_previous_and_next_day_and_the_export_selection(site, page):
    page.goto(f"{site.url}/day/{DAY}")
    today = dt.datetime.now(UTC).date().isoformat()
    assert page.get_attribute("#prev-day", "href") == f"day/{PREV}"
    assert page.locator("#next-day").count() == (1 if today > DAY and _has_today(site) else 0)
    page.fill("#sel-from", "10:30:05")
    page.fill("#sel-to", "10:30:15")
    href = page.get_attribute("#export-link", "href")
    assert href == "export.mp4?from=2026-11-20T10%3A30%3A05%2B00%3A00&to=2026-11-20T10%3A30%3A15%2B00%3A00"
    response = site.get("/" + href)
    assert response.status_code == 200
    assert response.headers["x-clip-start"] == "2026-11-20T10:30:04.000+00:00"
    page.select_option("#export-codec", "h264")  # for phones: re-encoded
    assert page.get_attribute("#export-link", "href") == href + "&codec=h264"
    page.click("#prev-day")
    page.wait_for_url(f"**/day/{PREV}")
    assert page.text_content("h1") == PREV


def _has_today(srv: Server) -> bool:
    return srv.get(f"/api/day/{dt.datetime.now(UTC).date().isoformat()}").status_code == 200


def test_the_live_button_plays_the_newest_footage(site, page, ffmpeg_bin, tmp_path):
    from cctv_server import demo

    now = dt.datetime.now(UTC).replace(microsecond=0)
    staged = demo.record(ffmpeg_bin, tmp_path / "staging", now - dt.timedelta(seconds=20), 40,
                         segment=SEGMENT, size="160x90", fps=10)
    stop = threading.Event()
    feeder = threading.Thread(target=_upload, args=(staged, site.root, stop), daemon=True)
    feeder.start()  # a camera uploading a 2-s segment every 2 s
    try:
        page.goto(f"{site.url}/day/{DAY}")
        playing_past(page, 1)
        wait_until(lambda: site.get("/live.m3u8").status_code == 200 and
                   site.get("/live.m3u8").text.count("EXTINF") >= 6, timeout=30)
        page.click("#live")
        assert page.text_content("#mode") == "Live"
        page.wait_for_function("() => window.cctvPlayer.hls().url.endsWith('/live.m3u8') && "
                               "document.getElementById('video').currentTime > 0", timeout=30000, polling=POLL)
        started = current_time(page)
        playing_past(page, started + 4)
        shown = float(page.get_attribute("#clock", "data-clock"))
        assert abs(shown - time.time()) < 60  # the newest minutes, not 10:00 on the 20th
        assert page.is_hidden("#rendition")  # segments: the original, nothing re-encoded
        shot(page, "player-live")
    finally:
        stop.set()
        feeder.join()


def _upload(staged: list[Path], root: Path, stop: threading.Event) -> None:
    for i, path in enumerate(staged):
        target = root / path.parent.name / path.name
        target.parent.mkdir(exist_ok=True)
        shutil.copy2(path, target)
        if i >= 10 and stop.wait(SEGMENT):  # a backlog first, then in real time
            return


def test_on_a_phone_sized_screen_nothing_overflows(site, browser):
    phone = browser.new_page()
    phone.set_viewport_size({"width": 390, "height": 844})
    try:
        phone.goto(f"{site.url}/day/{DAY}")
        playing_past(phone, 1)
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        box = phone.locator("#timeline").bounding_box()
        assert box["width"] >= 340 and box["x"] >= 0 and box["x"] + box["width"] <= 390
        shot(phone, "player-phone")
    finally:
        phone.close()


# --- compacted days --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def compacted(tmp_path_factory, ffmpeg_bin):
    """The same day compacted with the h264 profile and with the default (H.265), each served."""
    from cctv_server import demo

    servers = {}
    for codec in ("h264", "hevc"):
        tmp = tmp_path_factory.mktemp(f"compacted-{codec}")
        root = tmp / "root"
        kw = {"segment": SEGMENT, "size": "160x90", "fps": 10}
        demo.record(ffmpeg_bin, root, RUN1, 30, **kw)
        demo.record(ffmpeg_bin, root, RUN2, 20, **kw)
        done = compact(root, CCTV_CODEC=codec)
        assert done.returncode == 0, done.stderr
        assert (root / DAY / "video.mp4").is_file()
        if codec == "hevc":  # and the next day, still segments, for a live run across them
            demo.record(ffmpeg_bin, root, RUN1 + dt.timedelta(days=1), 6, **kw)
        servers[codec] = Server(root, tmp).start()
    yield servers
    for srv in servers.values():
        srv.stop()


def test_a_day_compacted_with_the_h264_profile_plays_in_clock_time(compacted, page):
    srv = compacted["h264"]
    page.goto(f"{srv.url}/day/{DAY}")
    playing_past(page, 3)
    assert page.text_content("#clock").startswith("10:00:0")
    assert page.is_hidden("#notice")
    position = seek_done(page, lambda: (page.fill("#goto-time", "10:30:10"),
                                        page.press("#goto-time", "Enter")))
    assert abs(position - 40) <= SEGMENT
    assert page.get_attribute(".video-link", "href") == f"{DAY}/video.mp4"
    assert page.get_attribute(".checksum-link", "href") == f"{DAY}/video.mp4.sha512sum"
    shot(page, "player-compacted-h264")


def hevc_decodes(page: Page, codec: str) -> bool:
    return page.evaluate(f"MediaSource.isTypeSupported('video/mp4; codecs=\"{codec}\"')")


def test_a_day_compacted_to_h265_plays_in_a_browser_without_an_h265_decoder(compacted, page):
    srv = compacted["hevc"]
    page.goto(f"{srv.url}/day/{DAY}")
    codec = srv.get(f"/api/day/{DAY}").json()["videos"][0]["codec"]
    assert codec.startswith(("hvc1.", "hev1."))
    playing_past(page, 4)
    assert page.is_hidden("#notice")
    assert page.text_content("#clock").startswith("10:00:0")
    level = page.evaluate("(h => h.levels[h.currentLevel].uri)(window.cctvPlayer.hls())")
    if hevc_decodes(page, codec):  # a build with H.265: the original, untouched
        assert level.endswith(f"/playlist.m3u8?date={DAY}") and page.is_hidden("#rendition")
    else:  # Debian's chromium: the H.264 rendition, and the page says so
        assert level.endswith(f"/h264.m3u8?date={DAY}") and page.is_visible("#rendition")
    assert page.get_attribute(".video-link", "href") == f"{DAY}/video.mp4"
    shot(page, "player-compacted-h265")


def test_a_seek_in_an_h265_day_lands_within_a_second_of_the_clock_time(compacted, page):
    srv = compacted["hevc"]
    page.goto(f"{srv.url}/day/{DAY}")
    playing_past(page, 1)
    target = RUN2.timestamp() + 7.4  # 10:30:07.4, inside the second run's first fragment
    # Where the player sends the seek: it plays on from there, and a fresh CI run's `seeked`
    # handler read 65 ms later. Where it lands is the clock's check below.
    position = seek_done(page, lambda: (page.fill("#goto-time", "10:30:07"),
                                        page.press("#goto-time", "Enter")), "seeking")
    assert abs(position - (30 + 7)) <= 0.05  # the second run starts 30 s into the playlist
    # A function, not an expression: polling an expression evals it in the page, which the
    # server's Content-Security-Policy refuses (it passes only when the first check is true).
    page.wait_for_function(f"() => +document.getElementById('clock').dataset.clock >= {target - 0.5}",
                           timeout=15000, polling=POLL)
    shown = float(page.get_attribute("#clock", "data-clock"))
    assert abs(shown - target) <= 1.0


def test_a_live_run_from_an_h265_day_crosses_into_the_next_days_segments(compacted, page):
    srv = compacted["hevc"]
    page.goto(f"{srv.url}/day/{DAY}?onward=1&t=10:30:15")
    assert page.text_content("#mode") == f"{DAY} and on"
    playing_past(page, 44)  # 10:30:15 is 45 s in: started where asked, at D, not at its end
    playing_past(page, 52)  # the video ends at 50 s; then the next day's segments
    shown = float(page.get_attribute("#clock", "data-clock"))
    next_day = RUN1.timestamp() + 86400
    assert next_day <= shown <= next_day + 6
    assert page.is_hidden("#notice")
    url = page.evaluate("window.cctvPlayer.hls().url")
    assert url.endswith(f"/variants.m3u8?date={DAY}&live=1")
    shot(page, "player-live-run-from-h265")


def test_the_video_is_served_with_byte_ranges_for_seeking(compacted):
    srv = compacted["h264"]
    whole = srv.get(f"/{DAY}/video.mp4")
    part = srv.get(f"/{DAY}/video.mp4", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == whole.content[100:200]
    index = srv.get("/").text
    assert f'href="day/{DAY}"' in index and f'href="{DAY}/video.mp4"' in index
    assert f'href="{DAY}/video.mp4.sha512sum"' in index


# --- the page's plain HTTP side --------------------------------------------------------------

def test_bad_days_and_a_missing_library_get_a_status_and_a_reason(site):
    assert site.get("/day/2026-13-01").status_code == 400
    missing = site.get("/day/2026-11-01")
    assert missing.status_code == 404 and missing.text == "no recordings for 2026-11-01\n"
    assert site.get("/api/day/nonsense").status_code == 400
    assert site.get("/static/vendor/other.js").status_code == 404
    assert site.get("/static/../config.py").status_code == 404
    assert site.get("/static/player.js").status_code == 200


def test_a_missing_hlsjs_is_a_404_that_says_how_to_install_it(tmp_path, record, monkeypatch):
    """A checkout without `npm ci`: the page still renders and says what to run."""
    from starlette.testclient import TestClient

    from cctv_server import config
    from cctv_server.footage.catalog import Catalog
    from cctv_server.web import app, routes

    record(tmp_path / "root", RUN1, 4)
    settings = config.load(env={"CCTV_TIMEZONE": "UTC", "CCTV_ROOT": str(tmp_path / "root")})
    Catalog(settings.catalog_path).rescan(settings.root, time.time(), 0, UTC, full=True)
    monkeypatch.setattr(routes, "STATIC", tmp_path / "static-without-vendor")
    # base_url: the server answers only to its own names (TestClient's default is "testserver")
    with TestClient(app.create_app(settings, watch=False), base_url="http://127.0.0.1") as client:
        missing = client.get("/static/vendor/hls.min.js")
        assert missing.status_code == 404 and "npm ci && scripts/vendor-js.sh" in missing.text
        page = client.get(f"/day/{DAY}")
        assert page.status_code == 200 and 'id="no-hlsjs"' in page.text
        assert "static/vendor/hls.min.js" not in page.text


def test_the_installed_hlsjs_is_served_as_javascript(site):
    response = httpx.get(f"{site.url}/static/vendor/hls.min.js")
    assert response.status_code == 200, "run `npm ci && scripts/vendor-js.sh` first"
    assert response.headers["content-type"].startswith("text/javascript")


# --- stills on the timeline and the index, and the index's links into the player -------------

def test_minute_and_poster_stills_are_the_pieces_at_that_time():
    from cctv_server.footage.day import Piece
    from cctv_server.playback import daystills

    t = RUN1.timestamp()
    pieces = [Piece(DAY, f"{i}.ts", t + 10 * i, 10.0, False, 0.0) for i in range(6)]
    pieces.append(Piece(DAY, "late.ts", t + 600 + 30, 10.0, True, 0.0))
    assert daystills.at_minute(pieces, int(t)).file == "0.ts"
    assert daystills.at_minute(pieces, int(t) + 600).file == "late.ts"  # the first in the minute
    assert daystills.at_minute(pieces, int(t) + 120) is None  # a minute without footage
    assert daystills.poster(pieces).file == "3.ts"
    assert daystills.poster([]) is None


def test_hovering_the_timeline_shows_the_still_of_that_minute(site, page):
    page.goto(f"{site.url}/day/{DAY}")
    playing_past(page, 1)
    box = page.locator("#timeline").bounding_box()
    day_start = RUN1.replace(hour=0).timestamp()
    target = RUN2.timestamp() + 120  # 10:32, inside the second run
    page.mouse.move(box["x"] + (target - day_start) / 86400 * box["width"], box["y"] + 5)
    page.wait_for_function("() => (i => !i.hidden && i.complete && i.naturalWidth > 0)"
                           "(document.getElementById('hover-still'))", timeout=15000, polling=POLL)
    src = page.get_attribute("#hover-still", "src")
    minute = int(src.rsplit("/", 1)[1].removesuffix(".jpg"))
    assert src == f"stills/{DAY}/{minute}.jpg" and minute % 60 == 0
    assert abs(minute - target) <= 86400 / box["width"] + 60  # the minute under the pointer
    assert page.text_content("#hover-time").startswith("10:3")
    still = site.get(f"/{src}")
    assert still.status_code == 200 and still.headers["content-type"] == "image/jpeg"
    assert still.content.startswith(b"\xff\xd8")
    assert site.get(f"/stills/{DAY}/{int(RUN1.timestamp()) + 900}.jpg").status_code == 404  # a gap
    shot(page, "player-hover-still")
    page.mouse.move(box["x"] + 5, box["y"] + box["height"] + 200)
    page.wait_for_function("() => document.getElementById('hover').hidden", polling=POLL)


def test_the_index_shows_a_poster_for_each_day_and_opens_the_player_live_or_from_a_day(site, page):
    page.goto(site.url + "/")
    poster = page.locator(f"#day-{DAY} img.poster")
    assert poster.get_attribute("src") == f"stills/{DAY}/poster.jpg"
    poster.scroll_into_view_if_needed()
    page.wait_for_function(f"() => (i => i.complete && i.naturalWidth > 0)(document.querySelector("
                           f"'#day-{DAY} img.poster'))", timeout=15000, polling=POLL)
    assert page.get_attribute(f"#day-{DAY} a.onward", "href") == f"day/{DAY}?onward=1"
    assert page.get_attribute(f"#day-{DAY} a.live-playlist", "href") == \
        f"playlist.php?date={DAY}&live=1"  # the raw playlist stays, for VLC
    assert page.get_attribute("#live-playlist", "href") == "live.m3u8"
    shot(page, "index-posters")
    page.click("#watch-now")
    page.wait_for_url("**/day/*?live=1")
    assert page.text_content("#mode") == "Live"
    latest = site.get("/watch", follow_redirects=False).headers["location"]
    assert latest.startswith("day/") and latest.endswith("?live=1")


def test_the_player_opened_from_a_day_on_plays_that_day_from_its_start(site, page):
    page.goto(f"{site.url}/day/{DAY}?onward=1")
    playing_past(page, 2)
    assert page.text_content("#mode") == f"{DAY} and on"
    shown = float(page.get_attribute("#clock", "data-clock"))
    assert RUN1.timestamp() <= shown < RUN1.timestamp() + 10  # D's first footage, not now
    assert page.evaluate("window.cctvPlayer.hls().url").endswith(f"/variants.m3u8?date={DAY}&live=1")
