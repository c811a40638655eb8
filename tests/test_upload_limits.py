"""What one upload may add, from plain values: keep_free, the automatic daily quota, a sane bitrate; and the gate's reservations."""

from __future__ import annotations

import os

import pytest

from cctv_server import cameras, config
from cctv_server.upload import limits
from cctv_server.upload.gate import Gate
from cctv_server.upload.limits import Day, DiskRefusal, QuotaRefusal

MB = 1 << 20
GB = 1 << 30


def test_an_upload_must_leave_keep_free_on_its_filesystem():
    assert limits.room(free=10 * MB, keep_free=4 * MB, incoming=6 * MB, mount="/srv") is None
    refused = limits.room(free=10 * MB, keep_free=4 * MB, incoming=6 * MB + 1, mount="/srv")
    assert "/srv" in refused and "keep_free" in refused and "nothing was kept" in refused


def test_the_automatic_quota_is_four_busiest_recent_days_by_rate_and_capped():
    recent = [Day("2026-11-27", 50 * GB, 86400.0),  # today: not a recent day yet
              Day("2026-11-26", 2 * GB, 43200.0),  # half a day at 4 GB a day
              Day("2026-11-25", 3 * GB, 86400.0),
              Day("2026-11-24", 1 * GB, 600.0)]  # ten minutes say too little
    assert limits.quota(0, 500 * GB, recent, "2026-11-27") == 16 * GB
    assert limits.quota(0, 10 * GB, recent, "2026-11-27") == 10 * GB  # upload_quota_max
    assert limits.quota(0, 10 * GB, [], "2026-11-27") == 10 * GB  # a new camera: the cap
    assert limits.quota(3 * GB, 10 * GB, recent, "2026-11-27") == 3 * GB  # set: as it is


def test_a_day_over_its_quota_is_refused_naming_how_the_quota_came():
    assert limits.over_quota("2026-11-27", 3 * GB, GB, 4 * GB, automatic=True) is None
    refused = limits.over_quota("2026-11-27", 3 * GB, GB + 1, 4 * GB, automatic=True)
    assert "daily quota" in refused and "busiest recent day" in refused


def test_a_segment_mostly_of_filler_or_of_an_absurd_bitrate_is_refused():
    assert limits.bitrate(MB, MB, 2.0, 200) is None  # 4 Mbit/s of footage
    assert "filler" in limits.bitrate(60 * MB, MB, 10.0, 200)
    assert "Mbit/s" in limits.bitrate(60 * MB, 60 * MB, 2.0, 200)  # 250 Mbit/s
    assert "Mbit/s" in limits.bitrate(60 * MB, 60 * MB, 0.0, 200)  # one frame: a second


def test_upload_quota_is_set_per_camera_in_its_table(tmp_path):
    path = tmp_path / "cctv.toml"
    path.write_text('upload_quota = "20GB"\n[cameras.porch]\nroot = "/a"\nupload_quota = "2GB"\n'
                    '[cameras.garden]\nroot = "/b"\nupload_max_mbps = 50\n')
    found = {c.name: c.settings for c in cameras.load(config.load(path, env={}), path)}
    assert found["porch"].upload_quota == 2 * GB and found["garden"].upload_quota == 20 * GB
    assert found["garden"].upload_max_mbps == 50.0
    assert config.load(None, env={}).upload_quota == 0  # auto


def test_uploads_at_once_reserve_their_bytes_so_that_together_they_cannot_pass_keep_free(tmp_path):
    root = tmp_path / "porch"
    root.mkdir()
    st = os.statvfs(root)
    free = st.f_bavail * st.f_frsize
    settings = config.load(None, env={}, flags={"root": root, "keep_free": str(free - 10 * MB)})
    gate = Gate([cameras.Camera("porch", settings)])
    first = gate.admit("porch", "2026-11-27", 6 * MB, 64 * MB)
    with pytest.raises(DiskRefusal):
        gate.admit("porch", "2026-11-27", 6 * MB, 64 * MB)  # 12 MB together: over
    gate.release(first)
    gate.release(gate.admit("porch", "2026-11-27", 6 * MB, 64 * MB))  # one at a time: fine


def test_the_gate_counts_a_days_bytes_and_the_uploads_on_their_way_against_the_quota(tmp_path):
    root = tmp_path / "porch"
    (root / "2026-11-27").mkdir(parents=True)
    (root / "2026-11-27" / "a.ts").write_bytes(b"\0" * MB)
    settings = config.load(None, env={}, flags={"root": root, "upload_quota": "3MB",
                                                 "keep_free": "0"})
    gate = Gate([cameras.Camera("porch", settings)])
    coming = gate.admit("porch", "2026-11-27", MB, 64 * MB)
    with pytest.raises(QuotaRefusal):
        gate.admit("porch", "2026-11-27", MB + 1, 64 * MB)  # 1 there, 1 coming, 1+ more
    gate.release(coming, stored=MB)
    with pytest.raises(QuotaRefusal):
        gate.admit("porch", "2026-11-27", MB + 1, 64 * MB)  # stored now: counted on
    assert gate.audit_due("porch", "quota") and not gate.audit_due("porch", "quota")
    assert gate.audit_due("porch", "disk")  # each kind its own minute


def test_the_quota_bounds_what_a_camera_sends_in_a_day_whatever_days_it_sends_to(tmp_path):
    root = tmp_path / "porch"
    root.mkdir()
    settings = config.load(None, env={}, flags={"root": root, "upload_quota": "3MB",
                                                 "keep_free": "0"})
    now = [1_000_000.0]
    gate = Gate([cameras.Camera("porch", settings)], clock=lambda: now[0])
    for day in ("2026-11-25", "2026-11-26", "2026-11-27"):  # 1 MB into each of three days
        gate.release(gate.admit("porch", day, MB, 64 * MB), stored=MB)
    with pytest.raises(QuotaRefusal, match="last 24 hours"):
        gate.admit("porch", "2026-11-28", 1, 64 * MB)  # a fourth day: no fresh quota of its own
    now[0] += 86400 + 3600
    gate.release(gate.admit("porch", "2026-11-28", MB, 64 * MB))  # a day later: room again
