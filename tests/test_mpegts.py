"""Segment probing from the MPEG-TS packets, checked against what ffmpeg recorded and PyAV reads."""

import datetime as dt

import av
import pytest

from cctv_server.errors import CorruptSegment
from cctv_server.media import mpegts

from .conftest import UTC


def _pyav_video_span(path):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        pts = [p.pts for p in container.demux(stream) if p.pts is not None]
    return min(pts), len(pts)


def test_probe_reads_first_timestamp_and_duration(tmp_path, record):
    start = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    paths = record(tmp_path, start, 6, audio=True)
    assert len(paths) == 3
    for path in paths:
        found = mpegts.probe(path)
        first, frames = _pyav_video_span(path)
        assert found.first_pts == first
        assert found.frame_duration == pytest.approx(0.1)
        assert found.duration == pytest.approx(frames * 0.1, abs=1e-6)
    a, b = mpegts.probe(paths[0]), mpegts.probe(paths[1])
    assert b.first_pts - a.first_pts == round(a.duration * mpegts.CLOCK)


def test_probe_reads_a_large_segment_from_head_and_tail(tmp_path, record):
    paths = record(tmp_path, dt.datetime(2026, 1, 1, tzinfo=UTC), 4, segment=4, size="640x360")
    assert paths[0].stat().st_size > mpegts.HEAD_BYTES + mpegts.TAIL_BYTES
    found = mpegts.probe(paths[0])
    assert found.duration == pytest.approx(_pyav_video_span(paths[0])[1] * 0.1)


@pytest.mark.parametrize("content", [b"", b"\x00" * 5000, b"not a video at all" * 100])
def test_garbage_is_a_corrupt_segment(tmp_path, content):
    path = tmp_path / "bad.ts"
    path.write_bytes(content)
    with pytest.raises(CorruptSegment):
        mpegts.probe(path)


def test_a_truncated_segment_probes_as_shorter(tmp_path, record):
    path = record(tmp_path, dt.datetime(2026, 1, 1, tzinfo=UTC), 2)[0]
    whole = mpegts.probe(path).duration
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert 0 < mpegts.probe(path).duration < whole
