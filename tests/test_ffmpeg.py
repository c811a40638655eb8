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
