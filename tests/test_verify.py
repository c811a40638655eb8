"""What verified means, on plain values: the video's frame times against the encoders' logs."""

from __future__ import annotations

import pytest

from cctv_server.compaction.verify import VerifyError, check_encoded

FRAME = 0.04  # 25 fps


def chunk(start: float, count: int) -> list[float]:
    return [round(start + n * FRAME, 6) for n in range(count)]


def test_a_video_holding_every_encoded_frame_passes_whatever_each_chunks_offset():
    encoded = [chunk(0.064, 50), chunk(0.064, 50)]  # each encoder's own clock starts near zero
    video = chunk(0.064, 50) + chunk(2.064 + 0.011, 50)  # the join moved chunk 1 as a whole
    check_encoded(video, encoded, FRAME)


def test_the_muxer_may_pull_the_first_frame_to_zero_and_move_a_chunks_ends_by_part_of_a_frame():
    encoded = [chunk(0.064, 50), chunk(0.064, 50)]
    video = [0.0] + chunk(0.104, 48) + [0.064 + 49 * FRAME - 0.024] + chunk(2.088, 50)
    video[50] += 0.024  # chunk 1's first frame, a reordering encoder's
    check_encoded(video, encoded, FRAME)


@pytest.mark.parametrize("where, by", [(25, 0.024), (49, FRAME), (50, -FRAME), (60, 0.002)])
def test_a_frame_out_of_its_place_fails(where, by):
    encoded = [chunk(0.0, 50), chunk(0.0, 50)]
    video = chunk(0.0, 50) + chunk(2.0, 50)
    video[where] += by
    with pytest.raises(VerifyError, match="is not in the video"):
        check_encoded(video, encoded, FRAME)


def test_a_frame_missing_or_added_fails():
    encoded = [chunk(0.0, 50)]
    with pytest.raises(VerifyError, match="49 frames, its encoders encoded 50"):
        check_encoded(chunk(0.0, 49), encoded, FRAME)
    with pytest.raises(VerifyError, match="51 frames, its encoders encoded 50"):
        check_encoded(chunk(0.0, 51), encoded, FRAME)
