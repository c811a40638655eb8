"""Archiving to a real SeaweedFS: the move, a kill at each of its steps, and the store misbehaving."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cctv_server.archive import due
from cctv_server.storage import home
from cctv_server.storage.base import StoreError, forget_stores
from cctv_server.storage.s3 import S3Store, reason

from .conftest import UTC, free_port, process_state, wait_until

START = dt.datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC)
DAY = "2026-11-20"


@pytest.fixture(scope="module")
def compacted(tmp_path_factory, ffmpeg_bin):
    """One day of 12 s compacted (stream copy: fast), to copy into each test's root."""
    from cctv_server import demo

    from .test_compactor import compact

    root = tmp_path_factory.mktemp("compacted") / "root"
    demo.record(ffmpeg_bin, root, START, 12, segment=2.0, size="160x90", fps=10)
    done = compact(root, CCTV_CODEC="copy")
    assert done.returncode == 0, done.stderr
    return root


@pytest.fixture
def root(compacted, tmp_path):
    found = tmp_path / "root"
    shutil.copytree(compacted, found)
    return found


def sha512(data: bytes) -> str:
    return hashlib.sha512(data).hexdigest()


def archive_env(seaweed, bucket: str, **more: str) -> dict[str, str]:
    return os.environ | seaweed.env() | {
        "CCTV_ARCHIVE": f"s3://{bucket}/cams", "CCTV_ARCHIVE_ENDPOINT": seaweed.endpoint,
        "CCTV_ARCHIVE_AFTER": "0", "CCTV_TIMEZONE": "UTC", **more}


def archive(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cctv_server.cli", "archive", "--root",
                           str(root), *args], env=env, capture_output=True, text=True, timeout=120)


def start_archive(root: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "cctv_server.cli", "archive", "--root",
                             str(root)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def obj(seaweed, bucket: str, key: str) -> bytes:
    return seaweed.client().get_object(Bucket=bucket, Key=key)["Body"].read()


KEYS = ["cams/camera/2026-11-20/.video.mp4.json", "cams/camera/2026-11-20/video.mp4",
        "cams/camera/2026-11-20/video.mp4.sha512sum"]


# --- pure ------------------------------------------------------------------------------------

def test_a_day_is_due_once_archive_after_has_passed_since_it_ended():
    end = dt.datetime(2026, 11, 21, tzinfo=UTC).timestamp()
    assert due.due([DAY], end - 1, 0, UTC) == []
    assert due.due([DAY], end, 0, UTC) == [DAY]
    assert due.due([DAY, "2026-11-19"], end + 86400, 7 * 86400, UTC) == []
    assert due.due([DAY, "2026-11-19"], end + 7 * 86400, 7 * 86400, UTC) == ["2026-11-19", DAY]


def test_each_store_error_says_what_it_means_and_what_to_do():
    assert "bucket does not exist" in reason("NoSuchBucket", "store s3://b")
    assert "credentials" in reason("InvalidAccessKeyId", "store s3://b")
    assert "throttling" in reason("SlowDown", "store s3://b")
    assert "throttling" in reason("503", "store s3://b")
    assert "full or over quota" in reason("QuotaExceeded", "store s3://b")


# --- the move --------------------------------------------------------------------------------

def test_a_moved_day_reads_like_the_root_in_the_bucket_and_only_its_home_stays(root, seaweed):
    bucket = seaweed.bucket()
    original = (root / DAY / "video.mp4").read_bytes()
    checksum = (root / DAY / "video.mp4.sha512sum").read_text()
    done = archive(root, archive_env(seaweed, bucket))
    assert done.returncode == 0, done.stderr
    assert f"moved {DAY}: video.mp4" in done.stdout
    assert seaweed.keys(bucket) == KEYS
    assert obj(seaweed, bucket, KEYS[1]) == original
    assert obj(seaweed, bucket, KEYS[2]).decode() == checksum
    assert not (root / DAY / "video.mp4").exists()
    assert not (root / DAY / "video.mp4.sha512sum").exists()
    kept = home.load(root / DAY)
    assert kept.store == f"s3://{bucket}/cams" and kept.videos["video.mp4"].sha512 == sha512(original)
    head = (root / DAY / ".video.head.mp4").read_bytes()
    assert 0 < len(head) < len(original) and original.startswith(head)
    again = archive(root, archive_env(seaweed, bucket))
    assert again.returncode == 0 and "nothing to move" in again.stdout


def test_a_dry_run_says_what_would_move_and_how_much_and_moves_nothing(root, seaweed):
    bucket = seaweed.bucket()
    done = archive(root, archive_env(seaweed, bucket), "--dry-run")
    assert done.returncode == 0, done.stderr
    assert f"would move {DAY}:" in done.stdout and "would move 1 day(s)" in done.stdout
    assert seaweed.keys(bucket) == [] and (root / DAY / "video.mp4").is_file()


def test_a_day_not_yet_due_stays(root, seaweed):
    bucket = seaweed.bucket()
    done = archive(root, archive_env(seaweed, bucket, CCTV_ARCHIVE_AFTER="36500d"))
    assert done.returncode == 0 and "nothing to move" in done.stdout
    assert (root / DAY / "video.mp4").is_file()


def test_a_large_video_goes_up_in_parts_each_checked_by_the_store(tmp_path, seaweed, monkeypatch):
    bucket = seaweed.bucket()
    data = os.urandom(11 << 20)
    (tmp_path / "big").write_bytes(data)
    for name, value in seaweed.env().items():
        monkeypatch.setenv(name, value)
    store = S3Store(f"s3://{bucket}/p", seaweed.endpoint, part_size=5 << 20)
    sent = store.put(store.key("big"), tmp_path / "big")
    assert sent.checksum.endswith("-3")  # three parts
    assert store.stat(store.key("big")) == sent
    assert obj(seaweed, bucket, "p/big") == data


STEPS = ["archive-hashed", "archive-uploaded", "archive-verified", "archive-recorded",
         "archive-catalogued", "archive-deleted-video", "archive-deleted"]


@pytest.mark.slow
@pytest.mark.parametrize("step", STEPS)
def test_a_move_killed_at_any_step_leaves_the_day_whole_in_one_place_and_a_rerun_finishes(
        root, seaweed, step):
    bucket = seaweed.bucket()
    original = sha512((root / DAY / "video.mp4").read_bytes())
    env = archive_env(seaweed, bucket)
    proc = start_archive(root, env | {"CCTVTEST_PAUSE_AT": step})
    wait_until(lambda: process_state(proc.pid) == "T", timeout=60)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    local = root / DAY / "video.mp4"
    kept = home.load(root / DAY)
    if local.is_file():
        assert sha512(local.read_bytes()) == original  # whole here
    else:
        assert kept is not None and KEYS[1] in seaweed.keys(bucket)  # whole there
        assert sha512(obj(seaweed, bucket, KEYS[1])) == original
    done = archive(root, env)
    assert done.returncode == 0, done.stderr
    assert not local.exists() and not (root / DAY / "video.mp4.sha512sum").exists()
    assert seaweed.keys(bucket) == KEYS
    assert sha512(obj(seaweed, bucket, KEYS[1])) == original


# --- the store misbehaving -------------------------------------------------------------------

def _kept(root: Path) -> None:
    assert (root / DAY / "video.mp4").is_file() and home.load(root / DAY) is None


def test_an_unreachable_store_is_a_clear_error_and_the_day_stays(root, seaweed):
    env = archive_env(seaweed, "nobucket", CCTV_ARCHIVE_ENDPOINT=f"http://127.0.0.1:{free_port()}")
    done = archive(root, env)
    assert done.returncode == 1 and "cannot be reached" in done.stderr, done.stderr
    _kept(root)


def test_wrong_credentials_are_a_clear_error_and_the_day_stays(root, seaweed):
    env = archive_env(seaweed, seaweed.bucket(), AWS_SECRET_ACCESS_KEY="wrong")
    done = archive(root, env)
    assert done.returncode == 1 and "refused our credentials" in done.stderr, done.stderr
    _kept(root)


def test_a_bucket_that_does_not_exist_is_a_clear_error_and_the_day_stays(root, seaweed):
    done = archive(root, archive_env(seaweed, "missing-bucket-x"))
    assert done.returncode == 1 and "bucket does not exist" in done.stderr, done.stderr
    _kept(root)


def test_a_store_error_is_a_store_error_in_process(seaweed, monkeypatch):
    for name, value in seaweed.env().items():
        monkeypatch.setenv(name, value)
    forget_stores()
    store = S3Store("s3://missing-bucket-y/p", seaweed.endpoint)
    with pytest.raises(StoreError, match="bucket does not exist"):
        store.check()


def test_a_damaged_video_is_never_moved(root, seaweed):
    bucket = seaweed.bucket()
    video = root / DAY / "video.mp4"
    data = bytearray(video.read_bytes())
    data[-10] ^= 0xFF
    video.write_bytes(bytes(data))
    done = archive(root, archive_env(seaweed, bucket))
    assert done.returncode == 1 and "does not match" in done.stderr, done.stderr
    assert seaweed.keys(bucket) == [] and video.is_file()
    assert json.dumps(sorted(p.name for p in (root / DAY).iterdir()))  # untouched otherwise
