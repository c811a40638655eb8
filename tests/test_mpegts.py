"""Segment probing from the MPEG-TS packets, checked against what ffmpeg recorded and PyAV reads."""

import datetime as dt
import os
import subprocess
import sys

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


def test_a_one_frame_per_second_segment_lasts_its_frames_not_one_less(tmp_path, record):
    paths = record(tmp_path, dt.datetime(2026, 1, 1, tzinfo=UTC), 20, fps=1, segment=10)
    assert len(paths) == 2
    for path in paths:
        found = mpegts.probe(path)
        assert _pyav_video_span(path)[1] == 10
        assert found.frame_duration == pytest.approx(1.0)
        assert found.duration == pytest.approx(10.0)


# Probes a file in a process whose address space is capped at 1 GB (so that a probe reading
# the whole file fails at once instead of filling the machine), and prints its peak allocation.
PEAK_PROBE = """
import resource, sys, tracemalloc
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from pathlib import Path
from cctv_server.errors import CorruptSegment
from cctv_server.media import mpegts
tracemalloc.start()
try:
    print("duration", mpegts.probe(Path(sys.argv[1])).duration)
except CorruptSegment as err:
    print("corrupt", err)
print("peak", tracemalloc.get_traced_memory()[1])
"""


def test_a_huge_sparse_segment_is_probed_in_a_few_megabytes(tmp_path, record):
    path = record(tmp_path, dt.datetime(2026, 1, 1, tzinfo=UTC), 2)[0]
    os.truncate(path, 1_500_000_000)  # a valid head, then zeros: a preallocated upload that stopped
    proc = subprocess.run([sys.executable, "-c", PEAK_PROBE, str(path)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    outcome, peak = proc.stdout.splitlines()
    assert outcome.startswith("corrupt ") and "no video timestamps in its last 4 MB" in outcome
    assert int(peak.split()[1]) < 16 << 20
