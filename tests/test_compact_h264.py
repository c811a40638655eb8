"""Days whose sound starts before their picture (an AAC camera's, at 25 fps) compact in every codec,
with every frame at its place."""

from __future__ import annotations

import av
import pytest

from cctv_server.media import decode

from .conftest import count_frames
from .test_compactor import DAY, START, compact
from .test_quality import report

FRAME = 0.04  # 25 fps


def recorded(record, root, seconds: float, segment: float) -> int:
    """Segments with sound whose first frame comes 64 ms after their sound (the AAC encoder's
    priming at 16 kHz); the frames they hold."""
    made = record(root, START, seconds, segment=segment, audio=True, fps=25)
    with av.open(str(made[0])) as container:  # what the test is about
        video = container.streams.video[0]
        lead = float(video.start_time * video.time_base) - container.start_time / av.time_base
    assert lead == pytest.approx(0.064)
    return sum(decode.probe(p).frames for p in made)


def assert_every_frame_in_place(video, want: int) -> None:
    """`want` frames, one every 40 ms from the first, none pushed onto another's instant."""
    found = decode.decode(video)
    assert found.error is None and found.frames == want
    times = sorted(found.times)
    assert times[0] < 3 * FRAME  # x264's B-frames delay the video by two frames
    assert all(abs(t - times[0] - n * FRAME) < 0.001 for n, t in enumerate(times))


@pytest.mark.parametrize("codec", ["h264", "hevc"])
def test_a_day_whose_sound_leads_compacts_with_every_frame_in_place(tmp_path, record, ffmpeg_bin,
                                                                   codec):
    """Each segment's picture once began its lead late and ran into the next one's: the frames
    there came out of order, the muxer pushed one onto a tick after another (ffmpeg's own count
    dropped it), and verification failed the day."""
    root = tmp_path / "root"
    want = recorded(record, root, 8, segment=2.0)
    proc = compact(root, CCTV_CODEC=codec)
    assert proc.returncode == 0, proc.stderr
    video = root / DAY / "video.mp4"
    assert_every_frame_in_place(video, want)
    assert count_frames(ffmpeg_bin, video) == want == 200
    assert report(root)["ssim"] > 0.9  # the quality sample compares the frames that match


@pytest.mark.parametrize("codec", ["hevc", "copy"])
def test_a_one_segment_day_whose_sound_leads_lasts_as_long_as_its_segment(tmp_path, record,
                                                                          codec):
    """The AAC encoder dates its first packet before zero: the muxer moved the whole video later,
    showed its first frame from zero, and the video lasted 64 ms longer than its segment."""
    root = tmp_path / "root"
    want = recorded(record, root, 4, segment=4.0)
    proc = compact(root, CCTV_CODEC=codec)
    assert proc.returncode == 0, proc.stderr
    assert_every_frame_in_place(root / DAY / "video.mp4", want)

