"""Activity on real segments: a crossing is an event, a still scene and slow light are not, a
broken segment is skipped, compaction keeps the index, and the commands rebuild and list it."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cctv_server import config
from cctv_server.activity.index import Index, Row, path_for
from cctv_server.activity.search import CameraActivity
from cctv_server.activity.worker import Measurer
from cctv_server.footage.catalog import Catalog
from cctv_server.footage.reader import Footage

from .conftest import UTC, wait_until

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import activity_days  # noqa: E402

SIZE, FPS, SECONDS = (320, 180), 10, 30.0  # one crossing, from 5 s to 11 s


def make_day(ffmpeg_bin: str, root: Path, kind: str, start: dt.datetime) -> list[Path]:
    day = activity_days.Day(kind, *SIZE, FPS, SECONDS)
    return activity_days.make(ffmpeg_bin, day, root, start, bitrate="300k")


def start_of_test_day() -> dt.datetime:
    """Recent enough for the measurer (it measures the last few days as footage arrives)."""
    now = dt.datetime.now(UTC).replace(microsecond=0)
    return max(now - dt.timedelta(minutes=5), now.replace(hour=0, minute=0, second=1))


class Camera:
    """One camera's catalog, footage, index and measurer, as the server makes them."""

    def __init__(self, root: Path, **overrides):
        env = {"CCTV_ROOT": str(root), "CCTV_TIMEZONE": "UTC"}
        env |= {f"CCTV_{k.upper()}": str(v) for k, v in overrides.items()}
        self.settings = config.load(env=env)
        self.catalog = Catalog(self.settings.catalog_path)
        self.footage = Footage(root, self.catalog)
        self.index = Index(path_for(self.settings.catalog_path))
        self.activity = CameraActivity("cam", self.index, self.settings.activity_threshold, UTC)
        from cctv_server.media import ffmpeg
        self.measurer = Measurer(self.settings, self.footage, self.index, self.activity,
                                 ffmpeg.locate())

    def measure(self) -> int:
        now = dt.datetime.now(UTC).timestamp() + 60
        self.catalog.rescan(self.settings.root, now, 0, UTC)
        return self.measurer.step(now)


def test_a_figure_crossing_a_still_scene_gives_one_event_around_it_with_a_still(tmp_path, ffmpeg_bin):
    start = start_of_test_day()
    made = make_day(ffmpeg_bin, tmp_path / "cam", "figure", start)
    cam = Camera(tmp_path / "cam")
    assert cam.measure() == len(made)
    found = cam.activity.day(start.date().isoformat())
    assert len(found) == 1
    event, t0 = found[0], start.timestamp()
    assert event.start <= t0 + 5 and event.end >= t0 + 11 and event.end - event.start < 16
    assert t0 + 5 <= event.peak <= t0 + 11 and event.score >= cam.settings.activity_threshold
    assert cam.measure() == 0  # nothing measured twice
    assert cam.activity.still(event).startswith(b"\xff\xd8")  # made at the peak, kept


@pytest.mark.parametrize("kind", ["still", "light"])
def test_a_still_scene_and_a_slow_light_change_give_no_event(tmp_path, ffmpeg_bin, kind):
    start = start_of_test_day()
    make_day(ffmpeg_bin, tmp_path / "cam", kind, start)
    cam = Camera(tmp_path / "cam")
    assert cam.measure() > 0
    day = start.date().isoformat()
    assert cam.index.seconds(day) and cam.activity.day(day) == []


def test_a_segment_that_will_not_decode_is_skipped_with_one_log_line(tmp_path, ffmpeg_bin, caplog):
    start = start_of_test_day()
    made = make_day(ffmpeg_bin, tmp_path / "cam", "figure", start)
    made[1].write_bytes(b"\x47" + os.urandom(188 * 40)[1:])  # a sync byte, then noise
    cam = Camera(tmp_path / "cam")
    with caplog.at_level(logging.WARNING, logger="cctv_server.activity"):
        cam.measure()
        cam.measure()
    lines = [r for r in caplog.records if made[1].name in r.getMessage()]
    assert len(lines) <= 1  # the catalog may already call it unreadable: then it is not tried
    day = start.date().isoformat()
    assert made[0].name in cam.index.sources(day) and made[2].name in cam.index.sources(day)
    assert len(cam.activity.day(day)) == 1  # the crossing, in the first segment, is found


def test_a_catalog_damaged_under_the_measurer_costs_one_log_line_and_measuring_goes_on(
        tmp_path, ffmpeg_bin, caplog):
    start = start_of_test_day()
    made = make_day(ffmpeg_bin, tmp_path / "cam", "figure", start)
    cam = Camera(tmp_path / "cam")
    catalog = cam.settings.catalog_path
    for suffix in ("-wal", "-shm"):
        Path(f"{catalog}{suffix}").unlink(missing_ok=True)
    catalog.write_bytes(os.urandom(64 * 1024))  # garbage where the measurer's thread opens it

    def failed() -> list[logging.LogRecord]:
        return [r for r in caplog.records if "a pass failed" in r.getMessage()]

    with caplog.at_level(logging.WARNING, logger="cctv_server"):
        cam.measurer.start()
        try:
            wait_until(failed, timeout=30)
            for _ in range(2):  # more passes on the same damage: no more lines
                cam.measurer.nudge()
                time.sleep(0.5)
            assert cam.measurer._thread.is_alive()
            assert cam.catalog.check()  # what the server's watcher does: a new catalog, filled
            cam.catalog.rescan(cam.settings.root, time.time() + 60, 0, UTC)
            cam.measurer.nudge()
            day = start.date().isoformat()
            wait_until(lambda: len(cam.index.sources(day)) == len(made), timeout=60)
        finally:
            cam.measurer.stop()
    assert len(failed()) == 1 and "file is not a database" in failed()[0].getMessage()
    assert not [r for r in caplog.records if r.exc_info]  # no traceback


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cctv_server.cli", *args], capture_output=True,
                          text=True, timeout=300,
                          env=os.environ | {"CCTV_TIMEZONE": "UTC", "CCTV_SETTLE": "0",
                                            "CCTV_QUIET": "0", "CCTV_CODEC": "copy",
                                            "CCTV_STABLE_SECONDS": "0"})


@pytest.mark.slow
def test_compaction_keeps_the_index_and_a_rebuild_measures_the_video_alike(tmp_path, ffmpeg_bin):
    root = tmp_path / "cam"
    start = dt.datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)
    make_day(ffmpeg_bin, root, "figure", start)
    measured = cli("activity", "--rebuild", "--root", str(root), "--date", "2026-11-20")
    assert measured.returncode == 0, measured.stderr
    assert "1 event(s)" in measured.stdout
    before = cli("events", "--root", str(root), "--from", "2026-11-20", "--to", "2026-11-21",
                 "--json")
    [event] = [json.loads(line) for line in before.stdout.splitlines()]
    assert event["camera"] == "camera" and event["start"].endswith("+00:00")
    compacted = cli("compact", "--root", str(root), "--date", "2026-11-20", "--settle", "0")
    assert compacted.returncode == 0, compacted.stderr
    assert not list((root / "2026-11-20").glob("*.ts"))  # the segments are gone ...
    after = cli("events", "--root", str(root), "--from", "2026-11-20T11:00+00:00",
                "--to", "2026-11-20T14:00Z", "--json")
    assert [json.loads(line) for line in after.stdout.splitlines()] == [event]  # ... not it
    again = cli("activity", "--rebuild", "--root", str(root))
    assert again.returncode == 0 and "1 event(s)" in again.stdout, again.stderr
    rebuilt = json.loads(cli("events", "--root", str(root), "--from", "2026-11-20",
                             "--to", "2026-11-21", "--json").stdout)
    start_of = dt.datetime.fromisoformat
    assert abs((start_of(rebuilt["start"]) - start_of(event["start"])).total_seconds()) <= 1
    index = Index(path_for(root / ".cctv" / "catalog.sqlite3"))
    assert index.sources("2026-11-20") == {"video.mp4"}


def test_events_refuses_a_time_that_is_not_iso_8601(tmp_path):
    (tmp_path / "cam").mkdir()
    done = cli("events", "--root", str(tmp_path / "cam"), "--from", "yesterday", "--to", "now")
    assert done.returncode == 2 and "ISO 8601" in done.stderr


def test_an_index_that_cannot_be_written_is_kept_in_memory_and_says_so(tmp_path):
    (tmp_path / "state").write_text("a file where the state folder should be")
    index = Index(tmp_path / "state" / "activity.sqlite3")
    assert "kept in memory" in index.problem
    index.put([Row("2026-11-20", "12-00-00.ts", 1000, bytes([5, 20]))])
    assert index.seconds("2026-11-20") == {1000: 0.5, 1001: 2.0}
