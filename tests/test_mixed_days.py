"""Days whose stream changes (codec, size, rate) compact, verify and play; a day that keeps failing is left alone."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from pathlib import Path

import av

from cctv_server import config
from cctv_server.compaction import daemon, schedule

from . import hlscheck
from .conftest import frame_crcs, frames_in
from .test_compactor import DAY, START, cli, compact, segment_names

LATER = START + dt.timedelta(seconds=4)  # the camera's second run begins as its first ends


def every_frame(ffmpeg_bin: str, source) -> int:
    """Frames decoded from a file or URL, each kept at its own time: a video whose rate changes
    midway has as many as went in (ffmpeg's default constant rate would drop some to fit one)."""
    return len(frame_crcs(ffmpeg_bin, source, output_args=("-fps_mode", "passthrough")))


def sizes_in(path: Path) -> set[tuple[int, int]]:
    with av.open(str(path)) as container:
        return {(f.width, f.height) for f in container.decode(video=0)}


def new_runs(day_dir: Path, video: str = "video.mp4") -> list[str]:
    spans = json.loads((day_dir / f".{video}.json").read_text())["spans"]
    return [s["name"] for s in spans if s["new_run"]]


def test_a_day_that_changes_resolution_and_rate_compacts_verifies_and_plays_every_frame(
        tmp_path, record, server, ffmpeg_bin):
    root = tmp_path / "root"
    made = (record(root, START, 4, size="160x90", fps=10)
            + record(root, LATER, 4, size="320x180", fps=15))
    want = frames_in(ffmpeg_bin, made)
    proc = compact(root, CCTV_JOBS="1")  # one encoder: only the change cuts the day in two
    assert proc.returncode == 0, proc.stderr
    day_dir = root / DAY
    assert segment_names(day_dir) == [] and (day_dir / "video.mp4").is_file()
    assert every_frame(ffmpeg_bin, day_dir / "video.mp4") == want == 40 + 60
    assert sizes_in(day_dir / "video.mp4") == {(320, 180)}  # as long as the other: the larger
    assert new_runs(day_dir) == [made[2].name]
    srv = server(root)
    text = srv.get(f"/playlist.php?date={DAY}").text
    m = hlscheck.check(text)
    assert text.count("#EXT-X-DISCONTINUITY\n") == 1
    assert m.dates[m.discontinuities[0]] == LATER
    assert every_frame(ffmpeg_bin, f"{srv.url}/playlist.php?date={DAY}") == want
    variants = srv.get(f"/variants.m3u8?date={DAY}").text
    assert 'CODECS="hvc1.' in variants and "RESOLUTION=320x180" in variants
    clip = srv.get("/export.mp4?from=2024-05-01T10:00:00&to=2024-05-01T10:00:08")
    assert clip.status_code == 200, clip.text
    (tmp_path / "clip.mp4").write_bytes(clip.content)
    assert every_frame(ffmpeg_bin, tmp_path / "clip.mp4") == want
    assert every_frame(ffmpeg_bin, f"{srv.url}/h264.m3u8?date={DAY}") == want


def test_a_day_of_h264_h265_and_mpeg2_segments_compacts_into_one_video_with_every_frame(
        tmp_path, record, ffmpeg_bin):
    root = tmp_path / "root"
    made = (record(root, START, 4)
            + record(root, LATER, 4, codec="libx265")
            + record(root, LATER + dt.timedelta(seconds=4), 4, codec="mpeg2video", fps=25))
    want = frames_in(ffmpeg_bin, made)
    proc = compact(root)
    assert proc.returncode == 0, proc.stderr
    day_dir = root / DAY
    assert segment_names(day_dir) == []
    assert every_frame(ffmpeg_bin, day_dir / "video.mp4") == want == 40 + 40 + 100
    assert new_runs(day_dir) == [made[2].name, made[4].name]


def test_copied_runs_that_cannot_join_become_videos_of_the_day_in_wall_clock_order(
        tmp_path, record, server, ffmpeg_bin):
    root = tmp_path / "root"
    first = record(root, START, 4)
    second = record(root, LATER, 4, codec="libx265", size="320x180")
    want = [frames_in(ffmpeg_bin, first), frames_in(ffmpeg_bin, second)]
    proc = compact(root, CCTV_CODEC="copy")
    assert proc.returncode == 0, proc.stderr
    day_dir = root / DAY
    assert segment_names(day_dir) == []
    assert [every_frame(ffmpeg_bin, day_dir / v) for v in ("video.mp4", "video-2.mp4")] == want
    assert sizes_in(day_dir / "video.mp4") == {(160, 90)}
    assert sizes_in(day_dir / "video-2.mp4") == {(320, 180)}
    srv = server(root)
    text = srv.get(f"/playlist.php?date={DAY}").text
    m = hlscheck.check(text)
    assert [u.split("?")[0] for u in m.uris] == [f"{DAY}/video.mp4"] * 2 + [f"{DAY}/video-2.mp4"] * 2
    assert text.count("#EXT-X-DISCONTINUITY\n") == 1 and m.dates[m.discontinuities[0]] == LATER
    original = srv.get(f"/variants.m3u8?date={DAY}").text.splitlines()[3]
    assert 'CODECS="avc1.42c00a,hev1.' in original, original  # each video's own codec
    clip = srv.get("/export.mp4?from=2024-05-01T10:00:00&to=2024-05-01T10:00:08")
    assert clip.status_code == 200, clip.text
    (tmp_path / "clip.mp4").write_bytes(clip.content)
    assert every_frame(ffmpeg_bin, tmp_path / "clip.mp4") == sum(want)
    assert every_frame(ffmpeg_bin, f"{srv.url}/h264.m3u8?date={DAY}") == sum(want)
    for still in (f"{int(START.timestamp())}.jpg", "poster.jpg"):
        found = srv.get(f"/stills/{DAY}/{still}")
        assert found.status_code == 200 and found.content[:2] == b"\xff\xd8", found.text


def digests(day_dir: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in day_dir.glob("*.ts")}


def test_a_day_that_keeps_failing_is_tried_compaction_retries_times_then_left_whole(
        tmp_path, record, server):
    root = tmp_path / "root"
    made = record(root, START, 8)
    made[1].write_bytes(made[1].read_bytes() * 2)  # a segment sent twice in one file: never verifies
    before = digests(root / DAY)
    settings = config.load(env={"CCTV_TIMEZONE": "UTC", "CCTV_STABLE_SECONDS": "0",
                                "CCTV_KEEP_FREE": "0", "CCTV_QUIET": "0",
                                "CCTV_QUALITY_SAMPLE": "false"}, flags={"root": root})
    assert settings.compaction_retries == 3
    c = daemon.make_compactor(settings)
    now, tried = time.time() + 1, 0  # settled: arrival (ctime) is now
    while due := schedule.due(daemon.candidates(c, 0, now), now):
        assert due == [DAY] and tried < 10
        assert c.compact_day(DAY).status == "failed"
        tried += 1
        now = max(now, c.catalog.compaction(DAY)["retry_at"] or now) + 1
    assert tried == 3
    assert daemon.candidates(c, 0, now + 365 * 86400) == []  # not even a wake-up is due
    assert digests(root / DAY) == before and sorted(before) == segment_names(root / DAY)
    status = cli(root, "status").stdout
    assert f"{DAY}  failed 3 times, no longer retried (" in status
    srv = server(root)
    health = srv.get("/healthz")
    assert health.status_code == 200 and health.text.startswith("degraded: ")
    assert f"compaction of {DAY} failed 3 times, no longer retried" in health.text
    assert srv.get("/healthz?strict=1").status_code == 503
    page = srv.get("/").text
    assert f"Degraded: compaction of {DAY} failed 3 times" in page
    assert "its segments are kept" in page.split(f'id="day-{DAY}"', 1)[1]
    assert compact(root, "--date", DAY).returncode == 1  # a person may still try it at once
    assert digests(root / DAY) == before


def test_a_day_of_segments_not_yet_compacted_names_each_runs_codec(tmp_path, record, server):
    root = tmp_path / "root"
    record(root, START, 4)
    record(root, LATER, 4, codec="libx265")
    srv = server(root)
    text = srv.get(f"/playlist.php?date={DAY}").text
    m = hlscheck.check(text)
    assert text.count("#EXT-X-DISCONTINUITY\n") == 1 and m.dates[m.discontinuities[0]] == LATER
    original = srv.get(f"/variants.m3u8?date={DAY}").text.splitlines()[3]
    assert 'CODECS="avc1.42c00a,hvc1"' in original, original
