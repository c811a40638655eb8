"""Footage with sound (a camera's microphone: AAC in MPEG-TS) plays with its sound from segments,
from a compacted video, across the two, and through the H.264 rendition."""

from __future__ import annotations

import datetime as dt
import subprocess

from .conftest import UTC
from .test_compactor import compact

T10 = dt.datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC)
FPS = 25
LIVE = ("-live_start_index", "0", "-m3u8_hold_counters", "2")  # a live run: from its start


def decoded(ffmpeg_bin: str, url: str, *input_args: str) -> tuple[int, float]:
    """(video frames, seconds of sound) that ffmpeg's HLS client decodes, with no error said."""
    done = subprocess.run(
        [ffmpeg_bin, "-hide_banner", "-v", "error", "-stats", *input_args, "-i", url,
         "-map", "0:v:0", "-map", "0:a:0", "-fps_mode", "passthrough", "-f", "framecrc", "-"],
        capture_output=True, text=True, timeout=120)
    errors = [line for line in done.stderr.splitlines() if "time=" not in line and line.strip()]
    assert done.returncode == 0 and not errors, done.stderr[-2000:]
    rows = [line.split(",") for line in done.stdout.splitlines() if not line.startswith("#")]
    frames = sum(1 for r in rows if r[0].strip() == "0")
    sound = sum(int(r[3]) for r in rows if r[0].strip() == "1") / float(rows and _rate(done.stdout))
    return frames, sound


def _rate(framecrc: str) -> int:
    """The sound's time base from framecrc's header (`#tb 1: 1/16000`): samples a second."""
    line = next(line for line in framecrc.splitlines() if line.startswith("#tb 1:"))
    return int(line.rsplit("/", 1)[1])


def test_a_day_with_sound_plays_with_it_compacted_and_on_into_segments(tmp_path, record, server,
                                                                        ffmpeg_bin):
    root = tmp_path / "root"
    record(root, T10, 8, audio=True, fps=FPS, segment=4.0)
    assert compact(root).returncode == 0  # the default: H.265, and the sound as AAC
    record(root, T10 + dt.timedelta(days=1), 8, audio=True, fps=FPS, segment=4.0)
    srv = server(root)
    for path, seconds, args in [
            ("playlist.php?date=2026-11-21", 8, ()),  # segments
            ("playlist.php?date=2026-11-20", 8, ()),  # the video
            ("h264.m3u8?date=2026-11-20", 8, ()),  # its H.264 rendition
            # the video's rendition, then the segments: one codec, as a browser plays it (the
            # original run changes codec at the day's end, which ffmpeg's HLS client cannot follow)
            ("h264.m3u8?date=2026-11-20&live=1", 16, LIVE)]:
        frames, sound = decoded(ffmpeg_bin, f"{srv.url}/{path}", *args)
        assert frames == seconds * FPS, path
        assert abs(sound - seconds) < 0.2, (path, sound)
