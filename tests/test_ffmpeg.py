"""The ffmpeg runners, with the real binary."""

import asyncio
import datetime as dt

import pytest

from cctv_server.errors import FFmpegError
from cctv_server.media import ffmpeg

from .conftest import UTC


def _collect(argv, data) -> bytes:
    async def run():
        return b"".join([chunk async for chunk in ffmpeg.stream(argv, data)])
    return asyncio.run(asyncio.wait_for(run(), 60))


def test_a_large_input_streams_through_without_both_pipes_filling(tmp_path, record, ffmpeg_bin):
    # several MB in and out: more than a pipe holds, so input and output must flow together
    data = b"".join(p.read_bytes() for p in record(tmp_path, dt.datetime(2026, 1, 1, tzinfo=UTC),
                                                     16, segment=16, size="640x360"))
    assert len(data) > 1 << 20
    argv = [ffmpeg_bin, "-hide_banner", "-loglevel", "error", "-f", "mpegts", "-i", "pipe:0",
            "-map", "0", "-c", "copy", "-f", "mpegts", "pipe:1"]
    out = _collect(argv, data)
    assert len(out) > len(data) // 2


def test_a_failing_ffmpeg_raises_with_its_stderr(ffmpeg_bin):
    argv = [ffmpeg_bin, "-hide_banner", "-f", "mpegts", "-i", "pipe:0", "-f", "null", "-"]
    with pytest.raises(FFmpegError, match="ffmpeg exited"):
        _collect(argv, b"not a transport stream" * 100)


def test_progress_lines_give_seconds_written_and_nothing_else_does():
    assert ffmpeg.progress_seconds(b"out_time_us=1500000\n") == 1.5
    assert ffmpeg.progress_seconds("out_time_us=N/A") is None
    assert ffmpeg.progress_seconds("frame=25") is None


def test_every_runner_reports_a_failure_the_same_way(tmp_path, ffmpeg_bin):
    argv = [ffmpeg_bin, "-hide_banner", "-loglevel", "error", "-i", str(tmp_path / "missing.ts"),
            "-f", "null", "-"]
    with pytest.raises(FFmpegError) as short:
        ffmpeg.run(argv, timeout=30)
    with pytest.raises(FFmpegError) as long:
        ffmpeg.run_job(argv)
    for err in (short.value, long.value):
        assert str(err).startswith("ffmpeg exited ") and "missing.ts" in str(err)
