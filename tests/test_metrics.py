"""`/metrics` from the real server: Prometheus' own promtool accepts it, and its figures are what the disk holds."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys

import httpx
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from cctv_server import cameras, config
from cctv_server.web.server import create_server

from .conftest import UTC
from .test_full_disk import tiny_fs  # noqa: F401  (a fixture)

TODAY = dt.datetime.now(UTC).date()
OLD, COMPACTED, HELD = (str(TODAY - dt.timedelta(days=n)) for n in (40, 20, 1))
ENV = {"CCTV_TIMEZONE": "UTC", "CCTV_STABLE_SECONDS": "0", "CCTV_QUALITY_SAMPLE": "false",
       "CCTV_CODEC": "copy"}


def cli(root, *args: str, **env: str) -> subprocess.CompletedProcess:
    command, *rest = args
    return subprocess.run([sys.executable, "-m", "cctv_server.cli", command, "--root", str(root),
                           *rest], env=os.environ | ENV | env, capture_output=True, text=True,
                          timeout=120)


def samples(text: str) -> dict[tuple, float]:
    """(name, sorted label pairs) -> value, as Prometheus would read them."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def on_disk(root, pattern: str) -> tuple[int, int]:
    files = [p for p in root.glob(f"*/{pattern}") if p.parent.name[:1].isdigit()]
    return len(files), sum(p.stat().st_size for p in files)


def test_metrics_pass_promtool_and_equal_what_is_on_disk(tmp_path, record, server, tiny_fs):  # noqa: F811
    promtool = shutil.which("promtool")
    assert promtool, "scripts/setup --test installs Debian's prometheus, for promtool"
    root, state = tiny_fs("root"), tmp_path / "state"
    env = {"CCTV_STATE_DIR": str(state)}
    for day, seconds in ((OLD, 2), (COMPACTED, 6), (HELD, 4)):
        record(root, dt.datetime.fromisoformat(f"{day}T10:00:00+00:00"), seconds)
    (root / COMPACTED / "10-59-00.ts").write_bytes(b"no video in here" * 100)  # quarantined
    assert cli(root, "compact", "--date", COMPACTED, "--settle", "0", "--quiet", "0",
               **env).returncode == 0
    assert cli(root, "hold", HELD, "--reason", "evidence", **env).returncode == 0
    assert cli(root, "retention", CCTV_KEEP_DAYS="30", **env).returncode == 0
    deleted = json.loads((state / "audit.log").read_text().splitlines()[-1])
    assert deleted["day"] == OLD and deleted["reason"] == "age"

    srv = server(root, **env)
    assert srv.get("/").status_code == 200
    upload = httpx.put(f"{srv.url}/upload/{HELD}/11-00-00.ts", content=b"x")
    text = srv.get("/metrics").text
    check = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                           text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr

    found = samples(text)
    cam = (("camera", "camera"),)

    def value(name, **labels):
        return found[(name, tuple(sorted({**dict(cam), **labels}.items())))]

    segments, videos = on_disk(root, "*.ts"), on_disk(root, "video*.mp4")
    assert segments[0] == 2 and videos[0] == 1
    assert value("cctv_recordings_files", kind="segment") == segments[0]
    assert value("cctv_recordings_bytes", kind="segment") == segments[1]
    assert value("cctv_recordings_files", kind="video") == videos[0]
    assert value("cctv_recordings_bytes", kind="video") == videos[1]
    assert value("cctv_quarantined_files") == 1
    assert value("cctv_held_day_folders") == 1
    assert value("cctv_day_folders", compaction="compacted") == 1
    assert value("cctv_day_folders", compaction="waiting") == 1
    assert value("cctv_compaction_duration_seconds_count") == 1
    assert value("cctv_compaction_ratio") > 0
    assert value("cctv_retention_deleted_day_folders_total", reason="age") == 1
    assert value("cctv_retention_deleted_bytes_total", reason="age") == deleted["bytes"] > 0
    assert 0 <= value("cctv_newest_segment_age_seconds") < 600
    assert value("cctv_uploads_total", status=str(upload.status_code)) == 1
    st = os.statvfs(root)
    mount = (("mountpoint", str(root)),)
    assert found[("cctv_filesystem_free_bytes", mount)] == st.f_bavail * st.f_frsize
    assert found[("cctv_filesystem_size_bytes", mount)] == st.f_blocks * st.f_frsize
    assert found[("cctv_filesystem_keep_free_bytes", mount)] == st.f_blocks * st.f_frsize * 5 // 100
    assert found[("cctv_retention_emergency", mount)] == 0
    assert found[("cctv_http_requests_total", (("method", "GET"), ("route", "index"),
                                               ("status", "200")))] == 1
    assert found[("cctv_http_request_duration_seconds_count", (("route", "index"),))] == 1
    assert srv.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403


def test_metrics_need_the_token_when_one_is_set_and_loopback_when_not(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    for token, headers, status in (
            (None, {}, 403),  # the test client is no loopback address
            ("s3cret", {}, 403),
            ("s3cret", {"Authorization": "Bearer wrong"}, 403),
            ("s3cret", {"Authorization": "Basic s3cret"}, 403),
            ("s3cret", {"Authorization": "Bearer s3cret"}, 200)):
        settings = config.load(env={}, flags={"root": root, "timezone": "UTC",
                                              "metrics_token": token})
        app = create_server(settings, cameras.load(settings), watch=False)
        with TestClient(app, base_url="http://localhost") as client:
            response = client.get("/metrics", headers=headers)
        assert response.status_code == status, (token, headers, response.text)
        if status == 403:
            refused = response.text
    assert "cctv_recordings_bytes" in response.text
    assert "metrics_token" in refused  # the reason, in one line
