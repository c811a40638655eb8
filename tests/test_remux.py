"""Playlists that run from a compacted day into days of segments: one container, played by
ffmpeg's HLS client and by hls.js in Chromium."""

from __future__ import annotations

import datetime as dt
import tempfile

from playwright.sync_api import sync_playwright

from cctv_server.footage.day import Piece
from cctv_server.playback import playlists

from . import hlscheck
from .conftest import FPS, UTC, frame_crcs
from .test_compactor import compact
from .test_player import CHROMIUM, CHROMIUM_ARGS, POLL

DAY = "2026-11-20"
T10 = dt.datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC)


def video(i: int) -> Piece:
    """Fragment i of a compacted day: 10 s each from 10:00, after an 848-byte init section."""
    return Piece(DAY, "video.mp4", T10.timestamp() + 10 * i, 10.0, False, 10.0 * i,
                 (848 + 1000 * i, 1000), (0, 848), i)


def segment(name: str, discontinuity: bool = False) -> Piece:
    return Piece("2026-11-21", name, T10.timestamp() + 86400, 2.0, discontinuity, 1.4)


def test_a_playlist_of_one_container_is_left_alone():
    fmp4 = playlists.entries([video(0), video(1)])
    assert [(e.uri, e.byterange, e.init) for e in fmp4] == [
        (f"{DAY}/video.mp4?fragment=0", (1000, 848), (f"{DAY}/video.mp4", 848, 0)),
        (f"{DAY}/video.mp4?fragment=1", (1000, 1848), (f"{DAY}/video.mp4", 848, 0))]
    ts = playlists.entries([segment("10-00-00.ts")])
    assert [(e.uri, e.byterange, e.init) for e in ts] == [("2026-11-21/10-00-00.ts", None, None)]


def test_where_videos_meet_segments_the_video_fragments_become_ts():
    mixed = playlists.entries([video(0), video(1), segment("10-00-00.ts", discontinuity=True)])
    assert [e.uri for e in mixed] == [
        f"{DAY}/video.mp4/848-1000.ts", f"{DAY}/video.mp4/1848-1000.ts", "2026-11-21/10-00-00.ts"]
    assert all(e.init is None and e.byterange is None for e in mixed)
    assert [e.start for e in mixed] == [video(0).start, video(1).start, segment("x").start]
    assert [e.discontinuity for e in mixed] == [False, False, True]  # the model's breaks, kept


def decoded_frames(ffmpeg_bin: str, url: str) -> int:
    """Frames ffmpeg's HLS client decodes from a live playlist, stopping after two reloads that
    bring nothing new (one stops it before the first segment). Timestamps jump back at a
    discontinuity: passthrough keeps ffmpeg from dropping the frame that lands behind."""
    return len(frame_crcs(ffmpeg_bin, url, "-live_start_index", "0", "-m3u8_hold_counters", "2",
                          output_args=("-fps_mode", "passthrough")))


def test_live_from_a_compacted_day_into_days_of_segments_plays_in_ffmpeg_and_hlsjs(
        tmp_path, record, server, ffmpeg_bin):
    root = tmp_path / "root"
    record(root, T10, 20)
    assert compact(root, CCTV_CODEC="h264").returncode == 0  # H.264: Chromium can decode it
    record(root, T10 + dt.timedelta(days=1), 10)  # the next day, still segments
    srv = server(root)
    url = f"{srv.url}/playlist.php?date={DAY}&live=1"
    m = hlscheck.check(srv.get(f"/playlist.php?date={DAY}&live=1").text)
    assert "#EXT-X-MAP" not in srv.get(f"/playlist.php?date={DAY}&live=1").text
    assert [u.split("/")[1] for u in m.uris[:2]] == ["video.mp4", "video.mp4"]
    assert m.uris[2:] == [f"2026-11-21/10-00-{s:02d}.ts" for s in range(0, 10, 2)]
    assert m.discontinuities == [2] and m.dates[2] == T10 + dt.timedelta(days=1)
    fragment = srv.get("/" + m.uris[0])
    assert fragment.status_code == 200 and fragment.headers["content-type"] == "video/mp2t"
    offset, length = map(int, m.uris[0].rsplit("/", 1)[1].removesuffix(".ts").split("-"))
    for other in (f"{offset}-{length - 1}", f"{offset + 1}-{length}"):  # only what a playlist lists
        assert srv.get(f"/{DAY}/video.mp4/{other}.ts").status_code == 404
    day_only = srv.get(f"/playlist.php?date={DAY}").text
    assert "#EXT-X-MAP" in day_only and "BYTERANGE" in day_only  # a video alone stays fMP4
    assert decoded_frames(ffmpeg_bin, url) == 30 * FPS
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        browser = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{srv.url}/day/{DAY}")  # for its copy of hls.js
        page.evaluate("""url => { const video = document.getElementById('video');
            window.cctvPlayer.hls().destroy();
            const h = new Hls({ startPosition: 16 }); window.errors = [];
            h.on(Hls.Events.ERROR, (_, d) => window.errors.push(d.details));
            h.loadSource(url); h.attachMedia(video); video.play(); }""", url)
        # From 4 s before the video's end to 3 s into the next day's segments.
        page.wait_for_function("() => document.getElementById('video').currentTime > 23",
                               timeout=30000, polling=POLL)
        errors = page.evaluate("window.errors")
        browser.close()
    assert not [e for e in errors if "Parsing" in e or "Incompatible" in e], errors
