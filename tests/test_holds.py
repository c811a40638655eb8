"""Holds on real day folders: kept beside the footage, survive anything short of a release."""

import pytest

from cctv_server.errors import InvalidInput, NotFound
from cctv_server.retention import holds

DAY = "2026-11-20"


def test_a_hold_is_kept_in_the_day_folder_and_released(tmp_path):
    (tmp_path / DAY).mkdir()
    found = holds.hold(tmp_path, DAY, " break-in at the gate ", "alice", now=100.0)
    assert (found.reason, found.by, found.allow_compaction) == ("break-in at the gate", "alice", False)
    assert holds.get(tmp_path, DAY) == found and holds.all_held(tmp_path) == [found]
    assert holds.release(tmp_path, DAY) == found
    assert holds.get(tmp_path, DAY) is None and list((tmp_path / DAY).iterdir()) == []
    with pytest.raises(NotFound):
        holds.release(tmp_path, DAY)


def test_a_hold_needs_a_day_that_exists_and_a_reason(tmp_path):
    with pytest.raises(NotFound):
        holds.hold(tmp_path, DAY, "why", "alice")
    (tmp_path / DAY).mkdir()
    with pytest.raises(InvalidInput):
        holds.hold(tmp_path, DAY, "  ", "alice")
    with pytest.raises(InvalidInput):
        holds.hold(tmp_path, "2026-02-30", "why", "alice")


def test_an_unreadable_hold_file_still_holds_the_day(tmp_path):
    (tmp_path / DAY).mkdir()
    (tmp_path / DAY / ".hold.json").write_text("{not json")
    assert "unreadable" in holds.get(tmp_path, DAY).reason


def test_the_compactor_asks_for_a_hold_again_under_the_days_lock(tmp_path, record):
    import datetime as dt
    from zoneinfo import ZoneInfo

    from cctv_server import config
    from cctv_server.compaction import daemon

    root = tmp_path / "root"
    segments = record(root, dt.datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("UTC")), 4)
    holds.hold(root, DAY, "evidence", "alice")
    settings = config.load(env={"CCTV_TIMEZONE": "UTC", "CCTV_STABLE_SECONDS": "0"},
                           flags={"root": root, "keep_free": "0"})
    outcome = daemon.make_compactor(settings).compact_day(DAY)  # past the candidates' filter
    assert outcome.status == "skipped" and "held" in outcome.message
    assert all(p.exists() for p in segments) and not (root / DAY / "video.mp4").exists()


def test_a_day_held_while_it_is_being_compacted_keeps_its_segments(tmp_path, record):
    """A real compaction stopped once its video is verified, the day held, then let go on: it
    rolls back instead of deleting the segments the hold keeps."""
    import datetime as dt
    import os
    import signal
    import subprocess
    import sys
    from zoneinfo import ZoneInfo

    from .conftest import process_state, wait_until

    root = tmp_path / "root"
    segments = record(root, dt.datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("UTC")), 4)
    proc = subprocess.Popen(
        [sys.executable, "-m", "cctv_server.cli", "compact", "--root", str(root), "--settle", "0"],
        env=os.environ | {"CCTV_TIMEZONE": "UTC", "CCTV_STABLE_SECONDS": "0", "CCTV_CODEC": "copy",
                          "CCTV_KEEP_FREE": "0", "CCTVTEST_PAUSE_AT": "journal-verified"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    wait_until(lambda: process_state(proc.pid) == "T", timeout=60)  # stopped there
    assert (root / DAY / ".video.mp4.partial").exists() or list((root / DAY).glob(".video*"))
    holds.hold(root, DAY, "evidence", "alice")
    os.kill(proc.pid, signal.SIGCONT)
    out, err = proc.communicate(timeout=60)
    assert "held while it was compacted" in out + err, out + err
    assert all(p.exists() for p in segments) and not (root / DAY / "video.mp4").exists()
    assert sorted(p.name for p in (root / DAY).iterdir()) == sorted(
        [".hold.json", *(p.name for p in segments)])
