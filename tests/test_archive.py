"""Archiving to a real SeaweedFS: the move, a kill at each of its steps, and the store misbehaving."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cctv_server.archive import due
from cctv_server.footage import videoindex
from cctv_server.storage import home
from cctv_server.storage.base import StoreError, forget_stores
from cctv_server.storage.s3 import S3Store, reason

from .conftest import UTC, free_port, process_state, wait_until
from .seaweed import start as seaweed_start

START = dt.datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC)
DAY = "2026-11-20"


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


def test_the_archive_settings_are_checked_and_a_camera_may_override_them(tmp_path):
    from cctv_server import cameras, config
    from cctv_server.errors import ConfigError

    server = config.load(flags={"archive": "s3://cctv-footage/site-a/"})
    assert server.archive == "s3://cctv-footage/site-a" and server.archive_after == 7 * 86400
    assert server.archive_serve == "presign" and server.archive_endpoint is None
    with pytest.raises(ConfigError, match="archive"):
        config.load(flags={"archive": "http://example.org/bucket"})
    with pytest.raises(ConfigError, match="archive_serve"):
        config.load(flags={"archive_serve": "stream"})
    file = tmp_path / "cctv.toml"
    file.write_text(f"""archive = "s3://cctv-footage/site-a"
[cameras.porch]
root = "{tmp_path / 'porch'}"
archive_after = "0"
archive_serve = "proxy"
[cameras.drive]
root = "{tmp_path / 'drive'}"
archive = "file:///mnt/nas/cctv"
""")
    found = {c.name: c.settings for c in cameras.load(config.load(file), file)}
    assert found["porch"].archive == "s3://cctv-footage/site-a"
    assert (found["porch"].archive_after, found["porch"].archive_serve) == (0, "proxy")
    assert found["drive"].archive == "file:///mnt/nas/cctv"


def test_a_proxied_range_is_read_as_http_says():
    from cctv_server.web.archived import byte_range
    assert byte_range(None, 1000) == (0, 1000)
    assert byte_range("bytes=100-199", 1000) == (100, 100)
    assert byte_range("bytes=900-", 1000) == (900, 100)
    assert byte_range("bytes=-100", 1000) == (900, 100)
    assert byte_range("bytes=900-5000", 1000) == (900, 100)
    assert byte_range("bytes=1000-", 1000) is None
    assert byte_range("bytes=0-1,5-6", 1000) == (0, 1000)  # several ranges: the whole file


# --- the move --------------------------------------------------------------------------------

def test_a_moved_day_reads_like_the_root_in_the_bucket_and_only_its_home_stays(archive_root, seaweed):
    root = archive_root
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


def test_a_dry_run_says_what_would_move_and_how_much_and_moves_nothing(archive_root, seaweed):
    root = archive_root
    bucket = seaweed.bucket()
    done = archive(root, archive_env(seaweed, bucket), "--dry-run")
    assert done.returncode == 0, done.stderr
    assert f"would move {DAY}:" in done.stdout and "would move 1 day(s)" in done.stdout
    assert seaweed.keys(bucket) == [] and (root / DAY / "video.mp4").is_file()


def test_a_day_not_yet_due_stays(archive_root, seaweed):
    root = archive_root
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
        archive_root, seaweed, step):
    root = archive_root
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


def test_an_unreachable_store_is_a_clear_error_and_the_day_stays(archive_root, seaweed):
    root = archive_root
    env = archive_env(seaweed, "nobucket", CCTV_ARCHIVE_ENDPOINT=f"http://127.0.0.1:{free_port()}")
    done = archive(root, env)
    assert done.returncode == 1 and "cannot be reached" in done.stderr, done.stderr
    _kept(root)


def test_wrong_credentials_are_a_clear_error_and_the_day_stays(archive_root, seaweed):
    root = archive_root
    env = archive_env(seaweed, seaweed.bucket(), AWS_SECRET_ACCESS_KEY="wrong")
    done = archive(root, env)
    assert done.returncode == 1 and "refused our credentials" in done.stderr, done.stderr
    _kept(root)


def test_a_bucket_that_does_not_exist_is_a_clear_error_and_the_day_stays(archive_root, seaweed):
    root = archive_root
    done = archive(root, archive_env(seaweed, "missing-bucket-x"))
    assert done.returncode == 1 and "bucket does not exist" in done.stderr, done.stderr
    _kept(root)


@pytest.mark.slow
def test_a_full_store_is_a_clear_error_and_the_day_stays(archive_root, tmp_path):
    full = seaweed_start(tmp_path / "full", volumes=1)  # room for one bucket's volume
    try:
        taken = full.bucket()
        full.client().put_object(Bucket=taken, Key="x", Body=b"x" * 1024)  # ... now taken
        done = archive(archive_root, archive_env(full, full.bucket()))
        assert done.returncode == 1 and "it may be full" in done.stderr, done.stderr
        _kept(archive_root)
    finally:
        os.killpg(full.proc.pid, signal.SIGKILL)
        full.proc.wait(15)


def test_a_store_error_is_a_store_error_in_process(seaweed, monkeypatch):
    for name, value in seaweed.env().items():
        monkeypatch.setenv(name, value)
    forget_stores()
    store = S3Store("s3://missing-bucket-y/p", seaweed.endpoint)
    with pytest.raises(StoreError, match="bucket does not exist"):
        store.check()


def test_a_damaged_video_is_never_moved(archive_root, seaweed):
    root = archive_root
    bucket = seaweed.bucket()
    video = root / DAY / "video.mp4"
    data = bytearray(video.read_bytes())
    data[-10] ^= 0xFF
    video.write_bytes(bytes(data))
    done = archive(root, archive_env(seaweed, bucket))
    assert done.returncode == 1 and "does not match" in done.stderr, done.stderr
    assert seaweed.keys(bucket) == [] and video.is_file()
    assert json.dumps(sorted(p.name for p in (root / DAY).iterdir()))  # untouched otherwise


# --- retention, holds, verify, status and doctor over the store -----------------------------

def cli(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    command, *rest = args
    return subprocess.run([sys.executable, "-m", "cctv_server.cli", command, "--root", str(root),
                           *rest], env=env, capture_output=True, text=True, timeout=120)


def moved_to(seaweed, root: Path) -> tuple[str, dict[str, str]]:
    bucket = seaweed.bucket()
    env = archive_env(seaweed, bucket)
    done = archive(root, env)
    assert done.returncode == 0, done.stderr
    assert seaweed.keys(bucket) == KEYS
    return bucket, env


def test_keep_days_deletes_an_archived_day_from_the_store_too(archive_root, seaweed):
    bucket, env = moved_to(seaweed, archive_root)
    done = cli(archive_root, env | {"CCTV_KEEP_DAYS": "3"}, "retention")
    assert done.returncode == 0, done.stderr
    assert f"deleted {DAY}" in done.stdout
    assert seaweed.keys(bucket) == [] and not (archive_root / DAY).exists()


def test_a_held_archived_day_stays_in_the_store(archive_root, seaweed):
    bucket, env = moved_to(seaweed, archive_root)
    held = cli(archive_root, env, "hold", DAY, "--reason", "police ref 1")
    assert held.returncode == 0, held.stderr
    done = cli(archive_root, env | {"CCTV_KEEP_DAYS": "3"}, "retention")
    assert done.returncode == 0, done.stderr
    assert seaweed.keys(bucket) == KEYS and home.load(archive_root / DAY) is not None


def test_max_size_bounds_the_disk_and_never_takes_an_archived_day(archive_root, seaweed):
    bucket, env = moved_to(seaweed, archive_root)
    done = cli(archive_root, env | {"CCTV_MAX_SIZE": "1"}, "retention")
    assert done.returncode == 0, done.stderr
    assert "frees no disk" in done.stdout
    assert seaweed.keys(bucket) == KEYS and home.load(archive_root / DAY) is not None


def test_verify_reads_each_archived_video_back_and_names_a_mismatch_or_a_missing_one(
        archive_root, seaweed):
    bucket, env = moved_to(seaweed, archive_root)
    good = cli(archive_root, env, "verify")
    assert good.returncode == 0 and "1 videos checked, 0 failed" in good.stdout, good.stderr
    data = bytearray(obj(seaweed, bucket, KEYS[1]))
    data[-5] ^= 0xFF
    seaweed.client().put_object(Bucket=bucket, Key=KEYS[1], Body=bytes(data))  # bit rot
    bad = cli(archive_root, env, "verify")
    assert bad.returncode == 1 and "MISMATCH: the bytes in the store" in bad.stderr
    seaweed.client().delete_object(Bucket=bucket, Key=KEYS[1])  # behind our back
    gone = cli(archive_root, env, "verify")
    assert gone.returncode == 1 and "MISSING from the store" in gone.stderr


def test_status_counts_disk_and_store_apart_and_status_and_doctor_name_a_store_in_trouble(
        archive_root, seaweed):
    bucket, env = moved_to(seaweed, archive_root)
    size = home.load(archive_root / DAY).videos["video.mp4"].size
    status = cli(archive_root, env, "status")
    assert status.returncode == 0, status.stderr
    assert f"in the store s3://{bucket}/cams:" in status.stdout and "1 day(s)" in status.stdout
    assert "PROBLEM" not in status.stdout and str(size) not in "on the disk"
    wrong = env | {"AWS_SECRET_ACCESS_KEY": "wrong"}
    status = cli(archive_root, wrong, "status")
    assert "ARCHIVE PROBLEM" in status.stdout and "credentials" in status.stdout
    doctor = cli(archive_root, wrong, "doctor")
    assert doctor.returncode == 1 and "FAIL the archive cannot be used" in doctor.stdout


@pytest.mark.slow
def test_the_compactor_moves_a_due_day_on_its_own(archive_root, seaweed):
    bucket = seaweed.bucket()
    proc = subprocess.Popen([sys.executable, "-m", "cctv_server.cli", "compactor", "--root",
                             str(archive_root)], env=archive_env(seaweed, bucket),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: not (archive_root / DAY / "video.mp4").exists(), timeout=90)
    finally:
        proc.terminate()
        proc.wait(30)
    assert seaweed.keys(bucket) == KEYS and home.load(archive_root / DAY) is not None


def test_a_folder_may_be_the_store_too(archive_root, tmp_path):
    nas = tmp_path / "nas"
    nas.mkdir()
    env = os.environ | {"CCTV_ARCHIVE": f"file://{nas}", "CCTV_ARCHIVE_AFTER": "0",
                        "CCTV_TIMEZONE": "UTC"}
    original = (archive_root / DAY / "video.mp4").read_bytes()
    done = archive(archive_root, env)
    assert done.returncode == 0, done.stderr
    assert (nas / "camera" / DAY / "video.mp4").read_bytes() == original
    assert not (archive_root / DAY / "video.mp4").exists()
    verified = cli(archive_root, env, "verify")
    assert verified.returncode == 0 and "1 videos checked, 0 failed" in verified.stdout
    # an upload asks whether a segment is in a video already: it still is, in the store
    spans = json.loads((archive_root / DAY / ".video.mp4.json").read_text())["spans"]
    found = videoindex.compacted(archive_root / DAY, spans[0]["name"])
    assert found is not None and found.video == "video.mp4"
