"""The still-scene mode: a still scene's frames are dropped, a moving object's kept, time stays exact.

The test days are a still scene with sensor noise and a box that crosses it, recorded by ffmpeg as
a camera would (H.264 in 2-s MPEG-TS segments named by their clock time), and compacted by the
real `cctv-server compact` with `still_frames = "drop"`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import os
import subprocess
import sys
from pathlib import Path

import av
import pytest

from cctv_server import config
from cctv_server.compaction import chunks, encoding, still
from cctv_server.compaction.inputs import Input
from cctv_server.compaction.verify import VerifyError, verify_video
from cctv_server.footage.catalog import Catalog
from cctv_server.media import decode, ffmpeg, mp4

from .test_compactor import DAY, START, cli, compact

FPS = 10
SEGMENT = 2.0
CROSSING = (4.0, 7.0)  # seconds into the recording that the box crosses the scene
DROP = {"CCTV_STILL_FRAMES": "drop"}


def scene_argv(binary: str, seconds: float, pattern: str) -> list[str]:
    """A grey wall with a grid, a little temporal noise, and a white box crossing it at 50 px/s (in sight all the way)."""
    graph = (f"color=c=0x607080:s=160x90:r={FPS},drawgrid=w=20:h=20:c=0x404850,"
             "noise=alls=3:allf=t[wall];"
             f"color=c=white:s=24x24:r={FPS}[box];"
             f"[wall][box]overlay=x='(t-{CROSSING[0]})*50':y=33:"
             f"enable='between(t,{CROSSING[0]},{CROSSING[1]})'[v]")
    return [binary, "-hide_banner", "-loglevel", "error", "-y", "-filter_complex", graph,
            "-map", "[v]", "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast",
            "-profile:v", "main", "-pix_fmt", "yuv420p", "-bf", "0", "-g", str(FPS * 2),
            "-force_key_frames", f"expr:gte(t,n_forced*{SEGMENT})",
            "-f", "segment", "-segment_time", str(SEGMENT), "-segment_format", "mpegts",
            "-reset_timestamps", "0", pattern]


def record_scene(binary: str, root: Path, start: dt.datetime, seconds: float) -> list[Path]:
    """The scene's segments in ROOT/DAY, named by clock time, as a camera uploads them."""
    day_dir = root / start.date().isoformat()
    work = root / ".scene"
    work.mkdir(parents=True, exist_ok=True)
    ffmpeg.run(scene_argv(binary, seconds, str(work / "%05d.ts")), timeout=120)
    day_dir.mkdir(exist_ok=True)
    made = []
    for n, part in enumerate(sorted(work.iterdir())):
        begins = start + dt.timedelta(seconds=n * SEGMENT)
        target = day_dir / begins.strftime("%H-%M-%S.ts")
        os.replace(part, target)
        end = (begins + dt.timedelta(seconds=SEGMENT)).timestamp()
        os.utime(target, (end, end))
        made.append(target)
    work.rmdir()
    return made


def relative_times(path: Path) -> list[float]:
    """Each video frame's time, from the first frame's, to the millisecond."""
    times = sorted(decode.decode(path).times)
    return [round(t - times[0], 3) for t in times]


def camera_times(segments: list[Path]) -> list[float]:
    times = sorted(t for s in segments for t in decode.decode(s).times)
    return [round(t - times[0], 3) for t in times]


@pytest.fixture(scope="module")
def dropped(tmp_path_factory, ffmpeg_bin):
    """A 12-s still scene with one crossing, compacted with still frames dropped."""
    root = tmp_path_factory.mktemp("still") / "root"
    made = record_scene(ffmpeg_bin, root, START, 12)
    camera = camera_times(made)
    proc = compact(root, **DROP)
    assert proc.returncode == 0, proc.stderr
    return root, camera, proc.stderr


def test_a_moving_objects_frames_are_all_kept_and_still_ones_dropped(dropped):
    root, camera, _ = dropped
    kept = relative_times(root / DAY / "video.mp4")
    crossing = [t for t in camera if CROSSING[0] <= t < CROSSING[1]]
    still_frames = [t for t in camera if not CROSSING[0] <= t < CROSSING[1]]
    assert len(camera) == 120 and len(crossing) == 30
    assert set(crossing) <= set(kept)  # each frame of the crossing at its own time
    assert set(kept) <= set(camera)  # nothing else: kept frames keep their times
    assert len(set(kept) - set(crossing)) < len(still_frames) / 3


def test_the_video_spans_the_days_time_and_starts_a_fragment_every_keyint(dropped):
    root, _, _ = dropped
    layout = mp4.layout(root / DAY / "video.mp4")
    assert layout.duration == pytest.approx(12.0, abs=0.001)
    assert all(f.duration <= encoding.DEFAULT.keyint + 0.5 for f in layout.fragments)


def test_the_mode_is_on_the_index_page_and_in_status_with_its_phases(dropped, server):
    root, _, log = dropped
    assert "dropping still frames with mpdecimate" in log
    lines = cli(root, "status", **DROP).stdout.splitlines()
    assert lines[0].startswith(f"{DAY}  compacted (") and "still frames dropped" in lines[0]
    assert "where the time went: probe" in lines[1] and "verify" in lines[1]
    assert "still frames dropped" in html.unescape(server(root).get("/").text)


def test_the_quality_sample_repeats_the_kept_frames_over_the_dropped(dropped):
    root, _, _ = dropped
    settings = config.load(env={}, flags={"root": root, "timezone": "UTC"})
    row = Catalog(settings.catalog_path).compaction(DAY) or {}
    assert row["mode"] == "drop"
    assert row["ssim"] > 0.9  # a dropped frame compared with a kept one of another time scores less


@pytest.mark.parametrize("codec", ["h264", "av1"])
def test_every_codec_keeps_the_kept_frames_at_their_times(tmp_path, ffmpeg_bin, codec):
    """x264's B-frames once moved frames seconds away from their times: verification failed."""
    root = tmp_path / "root"
    camera = camera_times(record_scene(ffmpeg_bin, root, START, 12))
    proc = compact(root, CCTV_CODEC=codec, **DROP)
    assert proc.returncode == 0, proc.stderr
    kept = relative_times(root / DAY / "video.mp4")
    assert set(kept) <= set(camera) and len(kept) < len(camera) / 2


def test_a_scene_that_keeps_moving_keeps_every_frame(tmp_path, record, ffmpeg_bin):
    root = tmp_path / "root"
    made = record(root, START, 6)  # testsrc2: something moves in every frame
    want = camera_times(made)
    assert compact(root, **DROP).returncode == 0
    assert relative_times(root / DAY / "video.mp4") == want


def test_a_camera_restart_starts_a_chunk_and_a_fragment_at_its_wall_clock(tmp_path, ffmpeg_bin):
    root = tmp_path / "root"
    record_scene(ffmpeg_bin, root, START, 8)
    later = START + dt.timedelta(minutes=5)
    record_scene(ffmpeg_bin, root, later, 8)
    proc = compact(root, **DROP)
    assert proc.returncode == 0, proc.stderr
    video = root / DAY / "video.mp4"
    assert mp4.layout(video).duration == pytest.approx(16.0, abs=0.001)
    starts = [f.start for f in mp4.layout(video).fragments]
    assert any(abs(s - 8.0) < 0.15 for s in starts)  # the restart, 8 s into the video


# --- verification of a decimated video ----------------------------------------------------


@pytest.fixture(scope="module")
def decimated(tmp_path_factory, ffmpeg_bin):
    """The scene encoded by chunks.encode with still frames dropped: its inputs, frame logs, video."""
    tmp = tmp_path_factory.mktemp("decimated")
    made = record_scene(ffmpeg_bin, tmp / "root", START, 12)
    found = [decode.probe(p) for p in made]
    inputs = [Input(p.name, 0, 0, d.frames, d.duration, 0.0, n == 0)
              for n, (p, d) in enumerate(zip(made, found))]
    profile = dataclasses.replace(encoding.DEFAULT, decimate=still.filter_for(None, most=100))
    job = chunks.Job(ffmpeg_bin, [chunks.Part(p, d.duration) for p, d in zip(made, found)],
                     profile, FPS, [], False, START.timestamp(), "test")
    video = tmp / "video.mp4"
    encoded = chunks.encode(job, tmp / "work", video, 2)
    return inputs, encoded, video, tmp


def test_a_decimated_video_with_every_kept_frame_passes(decimated):
    inputs, encoded, video, _ = decimated
    assert 30 < sum(len(c) for c in encoded) < 90  # some frames went, the crossing's stayed
    assert len(encoded) == 2
    verify_video(video, inputs, encoded, decimated=True)


def without_frame(ffmpeg_bin: str, video: Path, out: Path, number: int) -> Path:
    """The video re-encoded without its frame `number`, every other frame at its time."""
    ffmpeg.run([ffmpeg_bin, "-hide_banner", "-loglevel", "error", "-y", "-i", str(video),
                "-vf", f"select='not(eq(n,{number}))'", "-fps_mode", "passthrough",
                "-enc_time_base:v", "demux", "-c:v", "libx265", "-x265-params", "log-level=error",
                "-movflags", ffmpeg.MOVFLAGS, "-f", "mp4", str(out)], timeout=120)
    return out


def test_verification_fails_when_a_kept_frame_is_missing(decimated, ffmpeg_bin):
    inputs, encoded, video, tmp = decimated
    short = without_frame(ffmpeg_bin, video, tmp / "short.mp4", 5)
    with av.open(str(short)) as container:
        assert sum(1 for _ in container.decode(video=0)) == sum(len(c) for c in encoded) - 1
    with pytest.raises(VerifyError, match="frames, its encoders encoded"):
        verify_video(short, inputs, encoded, decimated=True)


def test_verification_fails_when_the_encoders_kept_a_frame_the_video_lacks(decimated):
    inputs, encoded, video, _ = decimated
    extra = [chunk[:] for chunk in encoded]
    extra[1].append(extra[1][-1] + 0.05)
    with pytest.raises(VerifyError, match="frames, its encoders encoded"):
        verify_video(video, inputs, extra, decimated=True)
    moved = [chunk[:] for chunk in encoded]
    moved[1][3] += 0.1  # the right count, one frame in the wrong place
    with pytest.raises(VerifyError, match="chunk 1: its frame at"):
        verify_video(video, inputs, moved, decimated=True)


def test_verification_fails_when_the_video_ends_before_the_footage(decimated):
    inputs, encoded, video, _ = decimated
    longer = [dataclasses.replace(inputs[-1], duration=inputs[-1].duration + 0.5)]
    with pytest.raises(VerifyError, match="spans"):
        verify_video(video, inputs[:-1] + longer, encoded, decimated=True)


# --- the pure parts -------------------------------------------------------------------------


def test_the_thresholds_grow_with_the_noise_beyond_a_quiet_camera():
    assert still.filter_for(None) == "mpdecimate=hi=768:lo=320:frac=0.33"
    assert still.filter_for(0.05, most=250) == "mpdecimate=hi=768:lo=320:frac=0.33:max=250"
    assert still.scale_for(still.QUIET_NOISE * 1.5) == pytest.approx(1.5)
    assert still.filter_for(still.QUIET_NOISE * 1.5) == "mpdecimate=hi=1152:lo=480:frac=0.33"
    assert still.scale_for(100.0) == still.MAX_SCALE


def test_dropping_frames_needs_an_encoder():
    settings = config.load(env={}, flags={"codec": "copy", "still_frames": "drop"})
    with pytest.raises(Exception, match="still_frames"):
        encoding.profile_for(settings)
    with pytest.raises(Exception, match="still_frames"):
        encoding.profile_for(config.load(env={}, flags={"still_frames": "sometimes"}))


def test_the_cli_refuses_a_bad_still_frames_setting_before_it_starts(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "cctv_server.cli", "compact", "--root", str(tmp_path)],
                          env=os.environ | {"CCTV_STILL_FRAMES": "maybe"},
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0 and "setting 'still_frames'" in proc.stderr
