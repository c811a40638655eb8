"""Any folder name: the range of days the server looks at, days ahead of the clock, and every
date a request can carry checked into a 400."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from zoneinfo import ZoneInfo

import pytest

from cctv_server import layout
from cctv_server.errors import InvalidInput
from cctv_server.footage import timeline

from . import hlscheck
from .conftest import UTC

DAY = "2026-01-01"
NOON = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
TODAY = dt.date(2026, 11, 22)
EDGES = ["9999-12-31", "0001-01-01", "1969-12-31"]


# --- pure ----------------------------------------------------------------------------------

@pytest.mark.parametrize("day,inside", [
    ("1970-01-01", True), ("2026-11-22", True), ("2027-11-23", True),
    ("1969-12-31", False), ("2027-11-24", False), ("9999-12-31", False), ("0001-01-01", False),
])
def test_the_days_looked_at_run_from_the_epoch_to_a_year_past_today(day, inside):
    assert (layout.out_of_range(dt.date.fromisoformat(day), TODAY) is None) == inside
    if inside:
        assert layout.parse_day(day, TODAY) == dt.date.fromisoformat(day)
    else:
        with pytest.raises(InvalidInput, match="outside the days this server keeps"):
            layout.parse_day(day, TODAY)


def test_a_day_more_than_a_day_ahead_is_in_the_future():
    assert not layout.is_future("2026-11-23", TODAY)  # tomorrow: a zone ahead of the server's
    assert layout.is_future("2026-11-24", TODAY)
    assert layout.latest_possible(TODAY) == "2026-11-23"


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/New_York"])
def test_a_time_in_a_name_far_from_its_day_is_no_time(zone):
    tz = ZoneInfo(zone)
    start, end = timeline.day_bounds(DAY, tz)
    for name in ["0001-01-01_00-00-00.ts", "9999-12-31_23-59-59.ts", "cam_4102444800.ts"]:
        found = timeline.time_from_name(name, DAY, tz)  # None, or a time it holds on that day
        assert found is None or start <= found < end, name
    assert timeline.time_from_name("2025-12-31_23-59-58.ts", DAY, tz) == dt.datetime(
        2025, 12, 31, 23, 59, 58, tzinfo=tz).timestamp()


# --- the real server and the compactor ------------------------------------------------------

def test_days_at_the_calendars_edges_are_ignored_once_and_break_nothing(tmp_path, record, server):
    root = tmp_path / "root"
    source = record(root, NOON, 4)[0]
    for day in EDGES:
        (root / day).mkdir()
        shutil.copy2(source, root / day / source.name)
    srv = server(root)
    page = srv.get("/")
    assert page.status_code == 200 and f'id="day-{DAY}"' in page.text
    assert not any(day in page.text for day in EDGES)
    assert srv.get("/playlist.php").headers["location"] == f"/playlist.php?date={DAY}"
    srv.stop()
    log = srv.log.read_text()
    for day in EDGES:
        assert log.count(f"ignoring {root / day}: outside the days") == 1, day
    named = compact(root, "--date", "9999-12-31")
    assert named.returncode == 2 and "outside the days this server keeps" in named.stderr
    everything = compact(root)
    assert everything.returncode == 0 and "Traceback" not in everything.stderr, everything.stderr
    assert f"{DAY}: compacted - video.mp4 from 2 segments" in everything.stdout.splitlines()
    assert all((root / day / source.name).exists() for day in EDGES)


def compact(root, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cctv_server.cli", "compact", "--root", str(root), "--settle", "0",
         "--quiet", "0", *args], capture_output=True, text=True, timeout=120,
        env=os.environ | {"CCTV_TIMEZONE": "UTC", "CCTV_STABLE_SECONDS": "0", "CCTV_CODEC": "copy",
                          "CCTV_MIN_FREE": "0", "CCTV_QUALITY_SAMPLE": "false"})


def test_a_day_ahead_of_the_clock_is_listed_but_never_the_latest_or_live(tmp_path, record, server):
    root = tmp_path / "root"
    now = dt.datetime.now(UTC).replace(microsecond=0)
    today = record(root, now - dt.timedelta(minutes=1), 2)[0].parent.name
    ahead = record(root, now + dt.timedelta(days=30), 2)[0]
    uploaded = (now - dt.timedelta(seconds=30)).timestamp()  # by a camera a month fast
    os.utime(ahead, (uploaded, uploaded))
    future = ahead.parent.name
    srv = server(root)
    assert f'id="day-{future}"' in srv.get("/").text
    assert srv.get("/playlist.php").headers["location"] == f"/playlist.php?date={today}"
    assert srv.get("/playlist.php?live=1").headers["location"] == f"/playlist.php?live=1&date={today}"
    assert all(u.startswith(today) for u in hlscheck.check(srv.get("/live.m3u8").text).uris)
    live = hlscheck.check(srv.get(f"/playlist.php?date={today}&live=1").text)
    assert live.uris and all(u.startswith(today) for u in live.uris)
    assert hlscheck.check(srv.get(f"/playlist.php?date={future}").text).uris[0].startswith(future)


def test_every_date_a_request_carries_is_checked_into_a_400(tmp_path, record, server):
    root = tmp_path / "root"
    source = record(root, NOON, 2)[0]
    (root / "9999-12-31").mkdir()
    shutil.copy2(source, root / "9999-12-31" / source.name)
    srv = server(root)
    late = (dt.date.today() + dt.timedelta(days=400)).isoformat()
    for path in ["/playlist.php?date=9999-12-31", "/playlist.php?date=0001-01-01&live=1",
                 f"/playlist.php?date={late}", "/day/9999-12-31", "/api/day/0001-01-01",
                 "/day/2026-13-01", f"/9999-12-31/{source.name}", "/0001-01-01/video.mp4",
                 "/9999-12-31/video.mp4/0-100.ts",
                 "/export.mp4?from=0001-01-01T00:00&to=0001-01-01T00:10",
                 "/export.mp4?from=9999-12-31T23:00&to=9999-12-31T23:30",
                 "/export.mp4?from=9999-12-31T23:50:00-12:00&to=9999-12-31T23:55:00-12:00",
                 "/export.mp4?from=1969-12-31T23:59&to=1970-01-01T00:01"]:
        response = srv.get(path)
        assert response.status_code == 400, (path, response.status_code, response.text)
        assert response.text.count("\n") == 1, path
    assert srv.get(f"/{DAY}/{source.name}").status_code == 200
    assert srv.get("/healthz").status_code == 200
