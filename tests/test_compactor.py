"""The real `cctv-server compact` on real segments: verified videos, quarantine, late footage, low disk."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import av
import pytest

from cctv_server import config
from cctv_server.compaction import chunks, encoding, job
from cctv_server.compaction.inputs import Input
from cctv_server.compaction.verify import VerifyError, verify_video
from cctv_server.footage.catalog import Catalog
from cctv_server.footage.reader import Footage
from cctv_server.media import decode, ffmpeg, mp4
from cctv_server.playback.playlists import Playlists

from .conftest import UTC, count_frames, frames_in, tmpfs

DAY = "2024-05-01"
START = dt.datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)
ENV = {"CCTV_TIMEZONE": "UTC", "CCTV_STABLE_SECONDS": "0", "CCTV_MIN_FREE": "0"}


def cli(root: Path, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    """`cctv-server ARGS --root ROOT` as a real process."""
    full_env = os.environ | ENV | env
    command, *rest = args
    return subprocess.run(
        [sys.executable, "-m", "cctv_server.cli", command, "--root", str(root), *rest],
        env=full_env, capture_output=True, text=True, timeout=timeout,
    )


def compact(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return cli(root, "compact", "--settle", "0", *args, **env)


def segment_names(day_dir: Path) -> list[str]:
    return sorted(p.name for p in day_dir.glob("*.ts"))


@pytest.fixture
def day(tmp_path, record):
    """Six 2-s segments of one camera run: 12 s, 120 frames."""
    root = tmp_path / "root"
    record(root, START, 12)
    return root


def test_a_day_is_compacted_to_one_verified_hevc_video(day, ffmpeg_bin):
    day_dir = day / DAY
    segments = sorted(day_dir.glob("*.ts"))
    want = frames_in(ffmpeg_bin, segments)
    started = time.monotonic()
    proc = compact(day)
    took = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    print(f"compacting 12 s of 160x90 footage with hevc took {took:.2f} s")
    assert segment_names(day_dir) == []
    assert sorted(p.name for p in day_dir.iterdir() if not p.name.startswith(".")) == [
        "video.mp4", "video.mp4.sha512sum"]
    check = subprocess.run(["sha512sum", "-c", "video.mp4.sha512sum"], cwd=day_dir,
                           capture_output=True, text=True)
    assert check.returncode == 0 and check.stdout.strip() == "video.mp4: OK"
    assert count_frames(ffmpeg_bin, str(day_dir / "video.mp4")) == want == 120
    with av.open(str(day_dir / "video.mp4")) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "hevc"
        assert stream.codec_tag == "hvc1"
        assert container.metadata["creation_time"].startswith("2024-05-01T10:00:00")


@pytest.mark.parametrize("codec", ["hevc", "copy"])
def test_audio_is_kept_across_a_camera_restart(tmp_path, record, ffmpeg_bin, codec):
    root = tmp_path / "root"
    made = record(root, START, 4, audio=True) + record(root, START + dt.timedelta(minutes=1), 4,
                                                       audio=True)
    want = frames_in(ffmpeg_bin, made)
    proc = compact(root, CCTV_CODEC=codec)
    assert proc.returncode == 0, proc.stderr
    video = root / DAY / "video.mp4"
    with av.open(str(video)) as container:
        assert [s.type for s in container.streams] == ["video", "audio"]
        assert sum(1 for _ in container.decode(audio=0)) > 0
    assert count_frames(ffmpeg_bin, str(video)) == want


@pytest.mark.parametrize("codec", ["hevc", "av1"])
def test_sound_that_starts_before_the_picture_at_25_fps_compacts(tmp_path, record, codec,
                                                                 ffmpeg_bin):
    """SVT-AV1 reorders frames: the join moved a chunk's first frame by 24 ms, which verification
    once took for a frame out of place. Each segment's picture now starts where the previous
    one's ends, whatever its sound does (chunks.ffconcat)."""
    root = tmp_path / "root"
    made = record(root, START, 8, segment=4.0, audio=True, fps=25)
    want = sum(decode.decode(p).frames for p in made)
    proc = compact(root, CCTV_CODEC=codec)
    assert proc.returncode == 0, proc.stderr
    video = root / DAY / "video.mp4"
    assert decode.decode(video).frames == want == 200
    # ffmpeg's constant-rate output too: no frame lands on another's instant, none is dropped
    assert count_frames(ffmpeg_bin, video) == 200


def test_the_video_is_fragmented_and_its_fragments_cover_it(day):
    assert compact(day, CCTV_CODEC="copy").returncode == 0
    video = day / DAY / "video.mp4"
    layout = mp4.layout(video)
    assert layout.fragments[0].offset == layout.init_length
    for a, b in zip(layout.fragments, layout.fragments[1:]):
        assert b.offset >= a.offset + a.length
        assert b.start == pytest.approx(a.start + a.duration)
    assert layout.duration == pytest.approx(12.0)


def test_a_camera_restart_plays_straight_through_and_keeps_its_wall_clock(tmp_path, record,
                                                                          ffmpeg_bin):
    root = tmp_path / "root"
    first = record(root, START, 6)
    later = START + dt.timedelta(minutes=5)
    second = record(root, later, 4)  # a new run: its timestamps start over
    want = frames_in(ffmpeg_bin, first + second)
    assert compact(root).returncode == 0
    video = root / DAY / "video.mp4"
    assert count_frames(ffmpeg_bin, str(video)) == want
    with av.open(str(video)) as container:
        pts = [f.pts for f in container.decode(video=0)]
    assert pts == sorted(pts) and len(set(pts)) == len(pts)  # monotonic: no jump back
    entries = playlist_entries(root)
    breaks = [e for e in entries[1:] if e.discontinuity]  # the first starts the playlist anyway
    assert [e.start for e in entries[:1] + breaks] == [START.timestamp(), later.timestamp()]
    assert sum(e.duration for e in entries) == pytest.approx(10.0)


def playlist_entries(root: Path):
    settings = config.load(env={}, flags={"root": root, "timezone": "UTC"})
    catalog = Catalog(settings.catalog_path)
    catalog.rescan(root, time.time(), 0, UTC, full=True)
    return Playlists(Footage(root, catalog), UTC, 180).entries([DAY])


def test_undecodable_segments_are_quarantined_with_a_reason_and_a_truncated_one_goes_in(
        day, ffmpeg_bin):
    day_dir = day / DAY
    names = segment_names(day_dir)
    (day_dir / names[1]).write_bytes(b"")  # zero bytes
    (day_dir / names[2]).write_bytes(os.urandom(30_000))  # garbage
    truncated = day_dir / names[4]
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 2 + 77])
    keep = [day_dir / n for n in names if n not in names[1:3]]
    want = frames_in(ffmpeg_bin, keep)
    proc = compact(day, CCTV_CODEC="copy")
    assert proc.returncode == 0, proc.stderr
    assert "quarantined" in proc.stderr
    quarantined = sorted(p.name for p in (day_dir / "quarantine").iterdir())
    assert quarantined == sorted([names[1], names[1] + ".reason.txt",
                                  names[2], names[2] + ".reason.txt"])
    assert (day_dir / "quarantine" / names[1]).stat().st_size == 0
    assert (day_dir / "quarantine" / (names[1] + ".reason.txt")).read_text().strip()
    assert segment_names(day_dir) == []
    assert count_frames(ffmpeg_bin, str(day_dir / "video.mp4")) == want


def scramble_video_payload(path: Path) -> None:
    """Overwrite the picture data in every MPEG-TS packet of the video PID, keeping the packet and
    PES headers: the demuxer still finds frames, and none of them decodes."""
    data = bytearray(path.read_bytes())
    for start in range(0, len(data) - 187, 188):
        pid = ((data[start + 1] & 0x1F) << 8) | data[start + 2]
        if pid == 0x100:
            data[start + 40:start + 188] = os.urandom(148)
    path.write_bytes(bytes(data))


def test_a_segment_whose_first_frame_does_not_decode_is_quarantined(day, ffmpeg_bin):
    day_dir = day / DAY
    names = segment_names(day_dir)
    scramble_video_payload(day_dir / names[3])
    proc = compact(day, CCTV_CODEC="copy")
    assert proc.returncode == 0, proc.stderr
    assert (day_dir / "quarantine" / names[3]).exists()
    assert (day_dir / "quarantine" / (names[3] + ".reason.txt")).read_text().strip()
    keep = [n for n in names if n != names[3]]
    assert count_frames(ffmpeg_bin, str(day_dir / "video.mp4")) == 20 * len(keep)


def test_verification_fails_when_the_video_lacks_a_frame_the_encoders_encoded(day, ffmpeg_bin,
                                                                              tmp_path):
    segments = sorted((day / DAY).glob("*.ts"))
    found = [decode.probe(p) for p in segments]
    inputs = [Input(p.name, 0, 0, d.frames, d.duration, 0.0, n == 0)
              for n, (p, d) in enumerate(zip(segments, found))]
    job_ = chunks.Job(ffmpeg_bin, [chunks.Part(p, d.duration) for p, d in zip(segments, found)],
                      encoding.DEFAULT, 10.0, [], False, START.timestamp(), "test")
    video = tmp_path / "video.mp4"
    encoded = chunks.encode(job_, tmp_path / "work", video, 2)
    verify_video(video, inputs, encoded)
    short = tmp_path / "short.mp4"
    ffmpeg.run([ffmpeg_bin, "-hide_banner", "-loglevel", "error", "-i", str(video),
                "-vf", "select='not(eq(n,33))'", "-fps_mode", "passthrough",
                "-enc_time_base:v", "demux", "-c:v", "libx265", "-x265-params", "log-level=error",
                "-movflags", ffmpeg.MOVFLAGS, "-f", "mp4", str(short)], timeout=120)
    with pytest.raises(VerifyError, match="119 frames, its encoders encoded 120"):
        verify_video(short, inputs, encoded)


def test_late_segments_stay_playable_and_a_later_pass_compacts_them(day, record, ffmpeg_bin):
    assert compact(day, CCTV_CODEC="copy").returncode == 0
    late = record(day, START + dt.timedelta(minutes=30), 4)  # the camera's backlog, after the fact
    entries = playlist_entries(day)
    assert [e.uri for e in entries[-2:]] == [f"{DAY}/{p.name}" for p in late]
    assert entries[-2].discontinuity
    proc = compact(day, CCTV_CODEC="copy")
    assert proc.returncode == 0, proc.stderr
    day_dir = day / DAY
    assert segment_names(day_dir) == []
    assert (day_dir / "video-2.mp4").is_file()
    check = subprocess.run(["sha512sum", "-c", "video.mp4.sha512sum", "video-2.mp4.sha512sum"],
                           cwd=day_dir, capture_output=True)
    assert check.returncode == 0
    entries = playlist_entries(day)
    assert {e.uri.split("?")[0] for e in entries} == {f"{DAY}/video.mp4", f"{DAY}/video-2.mp4"}
    assert [e.start for e in entries] == sorted(e.start for e in entries)
    assert count_frames(ffmpeg_bin, str(day_dir / "video-2.mp4")) == 40


def test_a_late_segment_earlier_than_the_video_sorts_before_it(day, record):
    assert compact(day, CCTV_CODEC="copy").returncode == 0
    early = record(day, START - dt.timedelta(minutes=10), 2)
    entries = playlist_entries(day)
    assert entries[0].uri == f"{DAY}/{early[0].name}"
    # segments and video in one playlist: the video's fragments are served as MPEG-TS (remux.py)
    assert entries[1].uri.startswith(f"{DAY}/video.mp4/") and entries[1].uri.endswith(".ts")
    assert entries[1].discontinuity


def test_dry_run_says_what_it_would_do_and_changes_nothing(day):
    before = sorted(p.name for p in (day / DAY).iterdir())
    proc = compact(day, "--dry-run")
    assert proc.returncode == 0
    assert f"would compact {DAY}: 6 segments" in proc.stdout
    assert sorted(p.name for p in (day / DAY).iterdir()) == before


def test_a_day_that_has_not_settled_is_left_alone(tmp_path, record):
    root = tmp_path / "root"
    now = dt.datetime.now(UTC).replace(microsecond=0)
    record(root, now - dt.timedelta(seconds=10), 4)
    proc = cli(root, "compact")
    assert proc.returncode == 0
    assert "waiting, eligible at" in proc.stdout
    assert not list(root.glob("*/video.mp4"))


def test_status_prints_each_state_and_verify_names_a_rotten_day(day, record):
    other = START + dt.timedelta(days=1)
    record(day, other, 2)
    assert compact(day, "--date", DAY, CCTV_CODEC="copy").returncode == 0
    status = cli(day, "status", CCTV_SETTLE="48h", CCTV_QUIET="0")
    assert f"{DAY}  compacted (" in status.stdout
    assert "2024-05-02  segments only" in status.stdout
    assert cli(day, "verify").returncode == 0
    video = day / DAY / "video.mp4"
    data = bytearray(video.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped bit's worth of rot
    video.write_bytes(bytes(data))
    proc = cli(day, "verify")
    assert proc.returncode == 1
    assert f"{DAY}/video.mp4" in proc.stderr and "MISMATCH" in proc.stderr


def test_a_dst_day_is_compacted_with_its_wall_clock_across_the_change(tmp_path, record,
                                                                      ffmpeg_bin):
    london = ZoneInfo("Europe/London")
    root = tmp_path / "root"
    staging = tmp_path / "utc"
    instant = dt.datetime(2024, 3, 31, 0, 59, 56, tzinfo=UTC)  # 4 s before clocks go forward
    made = record(staging, instant, 8)
    day_dir = root / "2024-03-31"
    day_dir.mkdir(parents=True)
    for i, path in enumerate(made):  # rename as a London camera names them: 00:59:56 ... 02:00:02
        local = (instant + dt.timedelta(seconds=2 * i)).astimezone(london)
        path.rename(day_dir / local.strftime("%H-%M-%S.ts"))
    assert segment_names(day_dir) == ["00-59-56.ts", "00-59-58.ts", "02-00-00.ts", "02-00-02.ts"]
    proc = compact(root, CCTV_TIMEZONE="Europe/London", CCTV_CODEC="copy")
    assert proc.returncode == 0, proc.stderr
    assert count_frames(ffmpeg_bin, str(day_dir / "video.mp4")) == 80
    settings = config.load(env={}, flags={"root": root, "timezone": "Europe/London"})
    catalog = Catalog(settings.catalog_path)
    entries = Playlists(Footage(root, catalog), london, 180).entries(["2024-03-31"])
    assert entries[0].start == instant.timestamp()
    assert not any(e.discontinuity for e in entries[1:])  # 00:59:58 + 2 s is 02:00:00 BST


def test_a_day_beyond_the_free_disk_is_skipped_and_retried_later(record, small_fs):
    record(small_fs, START, 8)
    cli(small_fs, "status")  # the catalog exists before the disk fills, as on a running server
    filler = small_fs / ".filler"
    free = os.statvfs(small_fs).f_bavail * os.statvfs(small_fs).f_frsize
    filler.write_bytes(b"\0" * (free - 40_000))  # less than the copy profile's estimate is left
    before = segment_names(small_fs / DAY)
    proc = compact(small_fs, CCTV_CODEC="copy")
    assert proc.returncode == 0
    assert "not enough disk" in proc.stdout + proc.stderr
    assert segment_names(small_fs / DAY) == before
    assert not (small_fs / DAY / "video.mp4").exists()
    filler.unlink()
    assert compact(small_fs, CCTV_CODEC="copy").returncode == 0
    assert (small_fs / DAY / "video.mp4").is_file()


def test_running_out_of_disk_mid_encode_keeps_every_segment(record, small_fs):
    record(small_fs, START, 8)
    cli(small_fs, "status")  # the catalog exists before the disk fills, as on a running server
    day_dir = small_fs / DAY
    before = {p.name: p.read_bytes() for p in day_dir.glob("*.ts")}
    filler = small_fs / ".filler"
    free = os.statvfs(small_fs).f_bavail * os.statvfs(small_fs).f_frsize
    need = 2 * int(sum(len(b) for b in before.values()) * job.SIZE_ESTIMATE["hevc"])
    filler.write_bytes(b"\0" * (free - need - 250_000))  # passes the estimate; lossless: 600 KB
    proc = compact(small_fs, CCTV_PRESET="ultrafast", CCTV_CRF="0")
    assert proc.returncode == 1
    assert "failed" in proc.stdout
    assert {p.name: p.read_bytes() for p in day_dir.glob("*.ts")} == before
    assert sorted(p.name for p in day_dir.iterdir()) == sorted(before)  # no temp, no journal
    status = cli(small_fs, "status")
    assert "failed (" in status.stdout and "retry at" in status.stdout
    assert "No space left on device" in status.stdout


@pytest.fixture
def small_fs(tmp_path):
    """A 3 MB tmpfs: a real full disk."""
    with tmpfs(tmp_path / "small", "3m") as mount:
        yield mount


def test_a_catalog_made_before_the_phase_and_mode_columns_gains_them(tmp_path):
    path = tmp_path / "catalog.sqlite3"
    with sqlite3.connect(path) as db:  # the compaction table as it was first released
        db.execute("CREATE TABLE compaction (day TEXT PRIMARY KEY, state TEXT NOT NULL DEFAULT "
                   "'waiting', percent REAL, eligible_at REAL, reason TEXT, failures INTEGER NOT "
                   "NULL DEFAULT 0, retry_at REAL, updated REAL, input_size INTEGER, output_size "
                   "INTEGER, ratio REAL, realtime REAL, seconds REAL, ssim REAL)")
        db.execute("INSERT INTO compaction (day, state, ssim) VALUES ('2024-05-01', 'compacted', 0.9)")
    catalog = Catalog(path)
    Catalog(path)  # a second process opening it finds the columns there
    catalog.set_compaction(DAY, phases='{"encode": [1.0, 2.0]}', mode="drop")
    row = catalog.compaction(DAY)
    assert (row["ssim"], row["phases"], row["mode"]) == (0.9, '{"encode": [1.0, 2.0]}', "drop")
