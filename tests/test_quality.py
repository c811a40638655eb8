"""The quality report of a compaction: sizes, ratio and speed as on disk, and the SSIM of a sample."""

from __future__ import annotations

import datetime as dt
import html
import os
import shutil
from pathlib import Path

import pytest

from cctv_server import config, demo, format
from cctv_server.compaction import phases, quality
from cctv_server.compaction.inputs import Input
from cctv_server.footage.catalog import Catalog

from .test_compactor import DAY, START, cli, compact


def report(root: Path) -> dict:
    settings = config.load(env={}, flags={"root": root, "timezone": "UTC"})
    return Catalog(settings.catalog_path).compaction(DAY) or {}


@pytest.fixture(scope="module")
def compacted(tmp_path_factory, ffmpeg_bin) -> tuple[Path, int]:
    """A 12-s day compacted by the real `cctv-server compact` (hevc), and its segments' bytes."""
    root = tmp_path_factory.mktemp("quality") / "root"
    made = demo.record(ffmpeg_bin, root, START, 12, segment=2.0, size="160x90", fps=10)
    before = sum(p.stat().st_size for p in made)
    proc = compact(root)
    assert proc.returncode == 0, proc.stderr
    return root, before


def test_the_report_of_a_real_compaction_matches_the_files_on_disk(compacted):
    root, before = compacted
    row = report(root)
    assert row["output_size"] == os.path.getsize(root / DAY / "video.mp4")
    assert row["input_size"] == before
    assert row["ratio"] == pytest.approx(before / row["output_size"])
    assert row["realtime"] > 0
    assert 0.5 < row["ssim"] < 1.0  # hevc at crf 29 loses a little, never nothing


def test_status_and_the_index_page_show_the_report(compacted, server):
    root, _ = compacted
    row = report(root)
    want = (f"compacted ({format.size(row['input_size'])} → {format.size(row['output_size'])}, "
            f"{row['ratio']:.1f}x smaller, {row['realtime']:.1f}x realtime, "
            f"SSIM {row['ssim']:.3f})")
    proc = cli(root, "status")
    assert f"{DAY}  {want}" in proc.stdout.splitlines(), proc.stdout
    assert want in html.unescape(server(root).get("/").text)


def test_the_report_says_where_the_time_went_in_status_and_the_log(compacted):
    root, _ = compacted
    times = phases.loads(report(root)["phases"])
    assert list(times) == list(phases.PHASES)  # every phase, in order
    assert all(wall >= 0 and cpu >= 0 for wall, cpu in times.values())
    assert times["encode"][1] > 0  # the encoders' CPU is counted: they are our children
    lines = cli(root, "status").stdout.splitlines()
    assert lines[1].strip() == f"where the time went: {phases.text(times)}"


def test_a_copied_day_with_audio_and_a_restart_measures_as_identical(tmp_path, record,
                                                                     ffmpeg_bin):
    """A frame out of line scores ~0.8: this holds the video's clock against the segments'.

    At 25 fps the audio's lead and the AAC encoder's delay each move the clocks by over a frame.
    """
    root = tmp_path / "root"
    record(root, START, 8, segment=4.0, audio=True, fps=25)
    record(root, START + dt.timedelta(minutes=5), 8, segment=4.0, audio=True, fps=25)
    reference = shutil.copytree(root / DAY, tmp_path / "reference")
    assert compact(root, CCTV_CODEC="copy").returncode == 0
    assert report(root)["ssim"] == pytest.approx(1.0)
    video, first = root / DAY / "video.mp4", "10-00-00.ts"
    window = quality.Window("10-05-00.ts", 8.0, 1.0, 2.0)
    one_frame_late = quality.Window("10-05-00.ts", 8.04, 1.0, 2.0)
    assert quality.measure(ffmpeg_bin, video, reference, first, [window]) == pytest.approx(1.0)
    assert quality.measure(ffmpeg_bin, video, reference, first, [one_frame_late]) < 0.95
    missing = quality.Window("10-09-00.ts", 0.0, 0.0, 2.0)
    assert quality.measure(ffmpeg_bin, video, reference, first, [missing]) is None


def test_a_day_whose_frame_size_changed_is_measured_at_the_videos_size(tmp_path, record):
    """ffmpeg's ssim refuses frames of two sizes: a segment of another size is fitted to the
    video's first, as the encoder fitted it (compaction/runs.py)."""
    root = tmp_path / "root"
    record(root, START, 2)
    record(root, START + dt.timedelta(seconds=2), 10, size="320x180")
    proc = compact(root, CCTV_CODEC="h264")
    assert proc.returncode == 0, proc.stderr
    assert "no SSIM for" not in proc.stderr
    assert sorted(p.name for p in (root / DAY).glob("*.ts")) == []
    row = report(root)
    assert row["state"] == "compacted" and row["ssim"] > 0.8
    assert row["output_size"] == os.path.getsize(root / DAY / "video.mp4")
    assert "SSIM" in cli(root, "status").stdout


def test_quality_sample_off_measures_nothing(tmp_path, record):
    root = tmp_path / "root"
    record(root, START, 4)
    assert compact(root, CCTV_CODEC="copy", CCTV_QUALITY_SAMPLE="false").returncode == 0
    row = report(root)
    assert row["ssim"] is None and row["output_size"] > 0


def segment(name: str, duration: float, damaged: bool = False) -> Input:
    return Input(name, 0, 0, round(duration * 10), duration, 0.0, False, damaged)


def test_the_sample_sits_mid_segment_at_a_sixth_a_half_and_five_sixths_of_the_day():
    day = [segment(f"{n}.ts", 10.0) for n in range(9)]  # 90 s: moments 15, 45 and 75 s
    assert quality.sample_windows(day) == [
        quality.Window("1.ts", 10.0, 4.0, 2.0), quality.Window("4.ts", 40.0, 4.0, 2.0),
        quality.Window("7.ts", 70.0, 4.0, 2.0)]


def test_the_sample_passes_a_damaged_segment_by_and_never_takes_one_twice():
    day = [segment("a.ts", 10.0), segment("b.ts", 10.0, damaged=True), segment("c.ts", 4.0)]
    assert [w.segment for w in quality.sample_windows(day)] == ["a.ts", "c.ts"]
    assert quality.sample_windows([segment("short.ts", 1.5)]) == [
        quality.Window("short.ts", 0.0, 0.0, 1.5)]
    assert quality.sample_windows([]) == []


def test_the_video_clock_is_the_segments_moved_by_the_median_difference():
    # A muxer pulled the first frame back to zero; the others are 0.128 s late, as they all are.
    shift = quality.shift_of([0.0, 0.228, 0.328, 0.428], [0.0, 0.1, 0.2, 0.3])
    assert shift == pytest.approx(0.128)
    window = quality.Window("x.ts", 60.0, 4.0, 2.0)
    assert quality.video_time(window, shift) == pytest.approx(64.128)


def test_a_video_delayed_by_b_frames_is_measured_against_the_frames_it_holds():
    # x264's first frame comes out two frames late, and so do the others: a frame or two less
    # would also put every one of them on some frame of the segment.
    segment = [0.04 * n for n in range(250)]
    assert quality.shift_of([0.08, 0.12, 0.16, 0.2, 0.24], segment) == pytest.approx(0.08)
    assert quality.shift_of([0.0, 0.04, 0.08, 0.12, 0.16], segment) == pytest.approx(0.0)


def test_with_frames_dropped_the_clock_is_the_shift_most_frames_share():
    segment = [0.064 + 0.04 * n for n in range(250)]
    kept = [0.0, 1.064, 1.104, 5.264, 7.704]  # the first pulled to zero, then a few kept ones
    assert quality.shift_of(kept, segment) == pytest.approx(0.0, abs=1e-6)
    assert quality.shift_of([t + 0.02 for t in kept[1:]], segment) == pytest.approx(0.02)


def test_the_ssim_is_the_mean_of_each_frames_all_planes_figure():
    stats = ("n:1 Y:0.95 U:0.97 V:0.97 All:0.956 (13.6)\n"
             "n:2 Y:0.96 U:0.97 V:0.96 All:0.960 (13.9)\n")
    assert quality.parse_ssim(stats) == pytest.approx(0.958)
    assert quality.parse_ssim("") is None
