"""The alerts loop's passes over real state: a failing compaction in a real catalog, quarantined
files, a disk below keep_free, activity events with their still, rate-limited per camera."""

import base64
import json
import subprocess
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from cctv_server import config
from cctv_server.alerts import targets
from cctv_server.alerts.outbox import Outbox
from cctv_server.alerts.rules import ActivityEvent
from cctv_server.alerts.service import CameraSource, Service
from cctv_server.cameras import Camera
from cctv_server.cli.alerts import _short, quarantined
from cctv_server.footage.catalog import Catalog

from .alert_receivers import Receiver
from .conftest import wait_until

UTC = ZoneInfo("UTC")


def _bodies(receiver: Receiver) -> list[dict]:
    return [json.loads(r["body"]) for r in receiver.requests]


def _service(tmp_path, receiver, cameras, **kwargs) -> Service:
    return Service(Outbox(tmp_path / "state"), [targets.parse(1, {"url": receiver.url()})],
                   cameras, UTC, **kwargs)


def _run(service: Service, receiver: Receiver, passes: int, expect: int) -> list[dict]:
    service.courier.start()
    try:
        for _ in range(passes):
            service.tick(time.time())
        wait_until(lambda: len(receiver.requests) >= expect)
        service.courier.wake()
        time.sleep(0.5)  # anything more would have come by now: the queue is empty
    finally:
        service.courier.stop()
    return _bodies(receiver)


def test_a_failing_compaction_in_the_catalog_alerts_once_however_often_it_is_read(
        tmp_path, receiver):
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    catalog.set_compaction("2026-05-01", state="failed", failures=2, reason="ffmpeg exited 1")
    camera = CameraSource("porch", 600, lambda: None, catalog.compactions, lambda: 0)
    bodies = _run(_service(tmp_path, receiver, [camera]), receiver, passes=3, expect=1)
    assert [b["title"] for b in bodies] == ["porch 2026-05-01: compaction failing"]
    assert "ffmpeg exited 1" in bodies[0]["message"]


def test_files_moved_to_quarantine_raise_an_alert(tmp_path, receiver):
    root = tmp_path / "porch"
    folder = root / "2026-05-01" / "quarantine"
    folder.mkdir(parents=True)
    (folder / "10-00-00.ts").write_bytes(b"junk")
    (folder / "10-00-00.ts.reason.txt").write_text("no video frames")
    assert quarantined(root) == 1
    camera = CameraSource("porch", 600, lambda: None, dict, lambda: quarantined(root))
    bodies = _run(_service(tmp_path, receiver, [camera]), receiver, passes=2, expect=1)
    assert [b["title"] for b in bodies] == ["porch: 1 file(s) quarantined"]


def test_a_filesystem_below_keep_free_raises_a_disk_alert(tmp_path, receiver):
    root = tmp_path / "porch"
    root.mkdir()
    settings = config.load(env={}, flags={"root": root, "keep_free": "1000TB"})
    short = _short([Camera("porch", settings)])
    assert len(short) == 1
    service = _service(tmp_path, receiver, [], short=lambda: _short([Camera("porch", settings)]))
    bodies = _run(service, receiver, passes=2, expect=1)
    assert len(bodies) == 1 and "short of room" in bodies[0]["title"]


def test_activity_events_alert_with_their_still_and_player_link_at_most_every_five_minutes(
        tmp_path, receiver, still):
    t = time.time()
    events = [ActivityEvent("porch", t + s, t + s + 10, t + s + 4, 0.7, still, None)
              for s in (1, 60, 200, 400)]  # 400 s: past the five minutes after the first
    asked: list[tuple[str, float]] = []

    def events_since(camera: str, since: float) -> list[ActivityEvent]:
        asked.append((camera, since))
        return [e for e in events if e.start > since]

    camera = CameraSource("porch", 600, lambda: None, dict, lambda: 0)
    service = _service(tmp_path, receiver, [camera], events_since=events_since,
                       activity_every=300, player_base="https://cctv.example.org")
    camera.activity_since = t
    bodies = _run(service, receiver, passes=2, expect=2)
    assert len(bodies) == 2 and all(b["title"].startswith("porch: activity at ") for b in bodies)
    assert base64.b64decode(bodies[0]["attachments"][0]["base64"]) == still
    day = time.strftime("%Y-%m-%d", time.gmtime(t + 5))
    assert f"https://cctv.example.org/cam/porch/day/{day}?t=" in bodies[0]["message"]
    assert asked[-1] == ("porch", t + 410)  # the next pass asks only for what is newer


def test_the_offline_pass_reads_the_catalog_newest_arrival(tmp_path, receiver):
    arrived = time.time() - 30
    camera = CameraSource("porch", 10, lambda: arrived, dict, lambda: 0)
    bodies = _run(_service(tmp_path, receiver, [camera]), receiver, passes=2, expect=1)
    assert [b["title"] for b in bodies] == ["porch has stopped recording"]
    assert Path(tmp_path / "state" / "alerts" / "seen").is_dir()


def test_days_deleted_by_the_emergency_purge_in_another_process_raise_one_disk_alert(
        tmp_path, receiver, record):
    import datetime as dt
    import os
    import sys

    from cctv_server.access.audit import AuditLog

    root = tmp_path / "porch"
    for days_ago in (5, 4):
        record(root, dt.datetime.now(UTC).replace(microsecond=0) - dt.timedelta(days=days_ago), 2)
    AuditLog(root / ".cctv", UTC).write("sign-in", account="ann")  # old news before the start
    service = _service(tmp_path, receiver, [], audit_file=root / ".cctv" / "audit.log")
    service.audit_tail.skip_to_end()
    done = subprocess.run([sys.executable, "-m", "cctv_server.cli", "retention", "--camera",
                           f"porch={root}"], env=os.environ | {"CCTV_KEEP_FREE": "1000TB"},
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.count(": free space (") == 2, done.stdout + done.stderr
    bodies = _run(service, receiver, passes=2, expect=1)
    assert [b["title"] for b in bodies] == ["porch: days deleted to free space"]


def test_a_camera_whose_catalog_fails_is_logged_once_and_the_others_still_alert(
        tmp_path, receiver, caplog):
    import logging
    import sqlite3

    def broken():
        raise sqlite3.DatabaseError("file is not a database")

    bad = CameraSource("drive", 10, broken, dict, lambda: 0)
    arrived = time.time() - 30
    good = CameraSource("porch", 10, lambda: arrived, dict, lambda: 0)
    with caplog.at_level(logging.ERROR):
        bodies = _run(_service(tmp_path, receiver, [bad, good]), receiver, passes=3, expect=1)
    assert [b["title"] for b in bodies] == ["porch has stopped recording"]
    assert caplog.text.count("the drive camera pass failed") == 1
    assert not any(r.exc_info for r in caplog.records)  # one line, no traceback: it is no bug
