"""The real server on loopback: playlists read by ffmpeg's HLS client, the PHP URLs, files, safety."""

from __future__ import annotations

import datetime as dt
import http.client
import os
import shutil
import time

import pytest

from . import hlscheck
from .conftest import FPS, UTC, count_frames, wait_until

DAY = "2026-01-01"
NOON = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def upload(paths, root) -> None:
    """Drop recorded segments into their day folders under root, as a camera's upload would."""
    for path in paths:
        (root / path.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, root / path.parent.name / path.name)


def playlist(srv, query: str) -> hlscheck.Media:
    response = srv.get(f"/playlist.php?{query}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.apple.mpegurl"
    return hlscheck.check(response.text)


def test_a_day_plays_through_ffmpegs_hls_client_frame_for_frame(tmp_path, record, server, ffmpeg_bin):
    record(tmp_path / "root", NOON, 8)
    srv = server(tmp_path / "root")
    m = playlist(srv, f"date={DAY}")
    assert m.uris == [f"{DAY}/12-00-0{s}.ts" for s in (0, 2, 4, 6)]
    assert m.ended and m.playlist_type == "VOD"
    assert m.dates[0] == NOON
    assert count_frames(ffmpeg_bin, f"{srv.url}/playlist.php?date={DAY}") == 8 * FPS


def test_live_runs_across_midnight_into_the_next_day(tmp_path, record, server, ffmpeg_bin):
    record(tmp_path / "root", dt.datetime(2026, 1, 1, 23, 59, 56, tzinfo=UTC), 8)
    srv = server(tmp_path / "root")
    assert playlist(srv, f"date={DAY}").uris == [f"{DAY}/23-59-56.ts", f"{DAY}/23-59-58.ts"]
    live = playlist(srv, f"date={DAY}&live=1")
    assert live.uris[2:] == ["2026-01-02/00-00-00.ts", "2026-01-02/00-00-02.ts"]
    assert live.discontinuities == [] and not live.ended and live.playlist_type == "EVENT"
    url = f"{srv.url}/playlist.php?date={DAY}&live=1"
    frames = count_frames(ffmpeg_bin, url, "-live_start_index", "0", "-m3u8_hold_counters", "2")
    assert frames == 8 * FPS


def test_a_late_segment_in_yesterdays_folder_takes_its_place(tmp_path, record, server):
    staged = record(tmp_path / "staging", NOON, 8)
    root = tmp_path / "root"
    late = staged.pop(2)
    upload(staged, root)
    srv = server(root)
    before = playlist(srv, f"date={DAY}")
    assert before.discontinuities == [2]  # 12:00:04 is missing
    upload([late], root)
    after = wait_until(lambda: (m := playlist(srv, f"date={DAY}")).uris != before.uris and m)
    assert after.uris == [f"{DAY}/12-00-0{s}.ts" for s in (0, 2, 4, 6)]
    assert after.discontinuities == []


def test_a_file_still_being_written_is_listed_only_once_complete(tmp_path, record, server):
    staged = record(tmp_path / "staging", NOON, 6)
    root = tmp_path / "root"
    upload(staged[:2], root)
    srv = server(root)
    data = staged[2].read_bytes()
    with open(root / DAY / staged[2].name, "wb") as growing:
        growing.write(data[: len(data) // 2])
        growing.flush()
        time.sleep(3)  # longer than stable_seconds and a rescan: only the open writer holds it back
        assert len(playlist(srv, f"date={DAY}").uris) == 2
        growing.write(data[len(data) // 2 :])
    done = wait_until(lambda: (m := playlist(srv, f"date={DAY}")).uris[2:] and m)
    assert done.durations[2] == pytest.approx(2.0)


def test_no_date_redirects_to_the_latest_day_keeping_live(tmp_path, record, server):
    record(tmp_path / "root", NOON, 2)
    record(tmp_path / "root", NOON + dt.timedelta(days=3), 2)
    srv = server(tmp_path / "root")
    for path in ("/playlist.php?live=1", "/playlist.m3u8?live=1"):
        response = srv.get(path)
        assert response.status_code == 302
        assert response.headers["location"] == f"{path.split('?')[0]}?live=1&date=2026-01-04"
    assert srv.get("/playlist.php").headers["location"] == "/playlist.php?date=2026-01-04"


def test_a_date_with_a_later_day_still_gets_that_day_only(tmp_path, record, server):
    record(tmp_path / "root", NOON, 2)
    record(tmp_path / "root", NOON + dt.timedelta(days=1), 2)
    srv = server(tmp_path / "root")
    assert playlist(srv, f"date={DAY}").uris == [f"{DAY}/12-00-00.ts"]


@pytest.mark.parametrize("query,status", [
    ("date=2026-02-30", 400), ("date=2026-1-1", 400), ("date=../../etc/passwd", 400),
    ("date=%2e%2e%2f%2e%2e%2fetc", 400), ("date=/etc/passwd", 400), ("date=2025-12-31", 404),
    ("date=2025-12-31&live=1", 404),
])
def test_bad_and_missing_dates_get_a_one_line_reason(tmp_path, record, server, query, status):
    record(tmp_path / "root", NOON, 2)
    response = server(tmp_path / "root").get(f"/playlist.php?{query}")
    assert response.status_code == status
    assert response.text.count("\n") == 1 and len(response.text) > 10


def test_an_empty_root_has_no_latest_day(tmp_path, server):
    (tmp_path / "root").mkdir()
    srv = server(tmp_path / "root")
    assert srv.get("/playlist.php?live=1").status_code == 404
    assert srv.get("/live.m3u8").status_code == 404
    assert "No recordings" in srv.get("/").text


def raw_get(srv, path: str) -> int:
    """Send the path exactly as written (no client-side normalisation)."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    conn.request("GET", path)
    status = conn.getresponse().status
    conn.close()
    return status


def test_nothing_outside_the_root_is_readable(tmp_path, record, server):
    root = tmp_path / "root"
    record(root, NOON, 2)
    secret = tmp_path / "secret.ts"
    secret.write_bytes(b"secret")
    (root / DAY / "escape.ts").symlink_to(secret)
    (root / "2026-01-09").symlink_to(tmp_path)
    srv = server(root)
    assert raw_get(srv, f"/{DAY}/12-00-00.ts") == 200
    for path in [f"/{DAY}/../../secret.ts", f"/{DAY}/..%2f..%2fsecret.ts", "/%2e%2e/secret.ts",
                 f"/{DAY}/%2e%2e%2fsecret.ts", "//etc/passwd", "/etc/passwd", f"/{DAY}/escape.ts",
                 "/2026-01-09/secret.ts", "/.cctv/catalog.sqlite3", f"/{DAY}/%00.ts"]:
        assert raw_get(srv, path) in (400, 403, 404), path


def test_segments_are_served_with_byte_ranges(tmp_path, record, server):
    path = record(tmp_path / "root", NOON, 2)[0]
    srv = server(tmp_path / "root")
    whole = srv.get(f"/{DAY}/{path.name}")
    assert whole.headers["content-type"] == "video/mp2t"
    assert whole.content == path.read_bytes()
    part = srv.get(f"/{DAY}/{path.name}", headers={"Range": "bytes=188-375"})
    assert part.status_code == 206
    assert part.content == path.read_bytes()[188:376]


def test_playlists_are_gzipped_and_revalidate_with_an_etag(tmp_path, record, server):
    record(tmp_path / "root", NOON, 8)
    srv = server(tmp_path / "root")
    first = srv.get(f"/playlist.php?date={DAY}", headers={"Accept-Encoding": "gzip"})
    assert first.headers["content-encoding"] == "gzip"
    etag = first.headers["etag"]
    again = srv.get(f"/playlist.php?date={DAY}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""


def test_today_is_an_event_playlist_that_grows(tmp_path, record, server):
    root = tmp_path / "root"
    now = dt.datetime.now(UTC).replace(microsecond=0)
    if now.hour == 0 and now.minute < 1:  # the run must not straddle midnight
        time.sleep(61)
        now = dt.datetime.now(UTC).replace(microsecond=0)
    staged = record(tmp_path / "staging", now - dt.timedelta(seconds=30), 6)
    today = staged[0].parent.name
    upload(staged[:1], root)
    srv = server(root)
    m = playlist(srv, f"date={today}")
    assert m.playlist_type == "EVENT" and not m.ended and len(m.uris) == 1
    upload(staged[1:2], root)
    wait_until(lambda: len(playlist(srv, f"date={today}").uris) == 2)


def test_live_m3u8_slides_over_the_newest_minutes(tmp_path, record, server):
    staged = record(tmp_path / "staging", NOON, 12)
    root = tmp_path / "root"
    upload(staged[:4], root)
    srv = server(root, CCTV_LIVE_WINDOW="4s")
    first = hlscheck.check(srv.get("/live.m3u8").text)
    assert first.uris == [f"{DAY}/{staged[2].name}", f"{DAY}/{staged[3].name}"]
    assert first.playlist_type is None and not first.ended
    upload(staged[4:6], root)
    later = wait_until(lambda: (m := hlscheck.check(srv.get("/live.m3u8").text)).uris[-1]
                       == f"{DAY}/{staged[5].name}" and m)
    assert later.sequence == first.sequence + 2
    assert later.uris == [f"{DAY}/{staged[4].name}", f"{DAY}/{staged[5].name}"]


def test_a_deleted_catalog_is_rebuilt_on_the_next_start(tmp_path, record, server):
    root = tmp_path / "root"
    record(root, NOON, 8)
    srv = server(root)
    before = srv.get(f"/playlist.php?date={DAY}").text
    srv.stop()
    for path in (root / ".cctv").iterdir():
        path.unlink()
    rebuilt = server(root).get(f"/playlist.php?date={DAY}")
    assert rebuilt.status_code == 200 and rebuilt.text == before


def test_the_index_lists_days_newest_first_with_their_facts(tmp_path, record, server):
    root = tmp_path / "root"
    record(root, NOON, 6)
    record(root, NOON + dt.timedelta(minutes=5), 4)  # a 4m54s gap
    record(root, NOON + dt.timedelta(days=1), 2)
    (root / DAY / "notes.txt").write_text("not a segment")
    (root / DAY / "broken.ts").write_bytes(b"\x00" * 1000)
    srv = server(root)
    # broken.ts is younger than stable_seconds at start-up: it is listed a moment later
    page = wait_until(lambda: "1 unreadable" in (text := srv.get("/index.php").text) and text)
    assert page.index("2026-01-02") < page.index(DAY)
    section = page[page.index(f'id="day-{DAY}"'):]
    assert "<b>5</b> segments" in section
    assert "<b>10s</b> recorded" in section
    assert "12:00:06–12:05:00 (4m 54s)" in section
    assert f"playlist.php?date={DAY}&amp;live=1" in section
    assert os.path.exists(root / DAY / "broken.ts")
