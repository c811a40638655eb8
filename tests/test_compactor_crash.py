"""The real compactor SIGKILLed at every step of a compaction, then restarted: no segment is ever lost.

Each named moment is a checkpoint in compactor.py that CCTVTEST_CRASH_AT turns into a SIGKILL of the
process by itself; a few more kills land at timed points while ffmpeg is writing.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import count_frames
from .test_compactor import DAY, ENV, START, compact

SEGMENTS = 6
FRAMES = 120  # 12 s at 10 fps
MOMENTS = [
    "locked", "quarantined", "journal-written", "encoding", "chunks-encoded", "encoded",
    "temp-synced", "verified", "index-written", "checksum-written", "journal-verified",
    "measured", "renamed", "renamed-synced", *[f"deleted-{n}" for n in range(1, SEGMENTS + 1)],
    "deletions-synced", "journal-removed", "catalog-synced", "state-recorded",
]


@pytest.fixture(scope="module")
def template(tmp_path_factory, ffmpeg_bin):
    """One recorded day (6 segments and a zero-byte one), copied afresh for each crash."""
    from cctv_server import demo

    root = tmp_path_factory.mktemp("template")
    demo.record(ffmpeg_bin, root, START, 12, segment=2.0, size="160x90", fps=10)
    (root / DAY / "10-00-12.ts").write_bytes(b"")  # quarantined on the way
    return root


@pytest.fixture
def root(template, tmp_path):
    target = tmp_path / "root"
    subprocess.run(["cp", "-a", str(template), str(target)], check=True)
    return target


def digests(day_dir: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in day_dir.glob("*.ts")}


def assert_nothing_lost(day_dir: Path, original: dict[str, str], ffmpeg_bin: str) -> None:
    """Every segment is there unchanged, or a final video that passes its checks holds them all."""
    video = day_dir / "video.mp4"
    now = digests(day_dir)
    for name, digest in now.items():
        assert original.get(name, digest) == digest, f"{name} was changed"
    if video.exists():
        check = subprocess.run(["sha512sum", "-c", "video.mp4.sha512sum"], cwd=day_dir,
                               capture_output=True)
        assert check.returncode == 0, "a final video.mp4 that does not match its checksum"
        assert count_frames(ffmpeg_bin, str(video)) == FRAMES
    else:
        quarantined = {p.name for p in (day_dir / "quarantine").glob("*.ts")}
        assert set(now) | quarantined == set(original), "a segment is gone"


def assert_final(day_dir: Path, ffmpeg_bin: str) -> None:
    names = sorted(p.name for p in day_dir.iterdir())
    assert names == [".video.mp4.json", "quarantine", "video.mp4", "video.mp4.sha512sum"], names
    check = subprocess.run(["sha512sum", "-c", "video.mp4.sha512sum"], cwd=day_dir,
                           capture_output=True)
    assert check.returncode == 0
    assert count_frames(ffmpeg_bin, str(day_dir / "video.mp4")) == FRAMES
    assert (day_dir / "quarantine" / "10-00-12.ts").exists()


def crash_then_restart(root: Path, ffmpeg_bin: str, *moments: str, **env: str) -> None:
    day_dir = root / DAY
    original = digests(day_dir)
    for moment in moments:
        proc = compact(root, CCTVTEST_CRASH_AT=moment, **env)
        assert proc.returncode == -signal.SIGKILL, (moment, proc.returncode, proc.stderr[-2000:])
        assert_nothing_lost(day_dir, original, ffmpeg_bin)
    proc = compact(root, **env)
    assert proc.returncode == 0, proc.stderr
    assert_final(day_dir, ffmpeg_bin)
    status = subprocess.run([sys.executable, "-m", "cctv_server.cli", "status", "--root", str(root)],
                            env=os.environ | ENV, capture_output=True, text=True)
    assert f"{DAY}  compacted (" in status.stdout, status.stdout


@pytest.mark.parametrize("moment", MOMENTS)
def test_a_sigkill_at_each_step_loses_nothing_and_the_restart_finishes(root, ffmpeg_bin, moment):
    crash_then_restart(root, ffmpeg_bin, moment, CCTV_CODEC="copy")


def test_a_sigkill_while_recovery_renames_a_verified_video(root, ffmpeg_bin):
    crash_then_restart(root, ffmpeg_bin, "journal-verified", "recover-renamed", CCTV_CODEC="copy")


def test_a_sigkill_while_rolling_back_an_unverified_encode(root, ffmpeg_bin):
    crash_then_restart(root, ffmpeg_bin, "encoded", "rolled-back", CCTV_CODEC="copy")


def test_a_sigkill_between_deletions_twice_in_a_row(root, ffmpeg_bin):
    crash_then_restart(root, ffmpeg_bin, "deleted-2", "deleted-4", CCTV_CODEC="copy")


@pytest.mark.parametrize("grown", [0, 20_000])
def test_a_sigkill_while_ffmpeg_is_writing_the_hevc_video(root, ffmpeg_bin, grown):
    """Killed once the chunk files hold `grown` bytes: mid-encode, at a moment nobody chose."""
    day_dir = root / DAY
    original = digests(day_dir)
    work = day_dir / ".video.mp4.chunks"
    proc = subprocess.Popen(
        [sys.executable, "-m", "cctv_server.cli", "compact", "--root", str(root), "--settle", "0"],
        env=os.environ | ENV | {"CCTV_PRESET": "medium", "CCTV_JOBS": "2"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if sum(p.stat().st_size for p in work.glob("chunk-*.mp4")) > grown:
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the encode finished before the kill"
    assert work.exists() and not (day_dir / "video.mp4").exists()
    assert_nothing_lost(day_dir, original, ffmpeg_bin)
    done = compact(root, CCTV_PRESET="ultrafast")
    assert done.returncode == 0, done.stderr
    assert_final(day_dir, ffmpeg_bin)
