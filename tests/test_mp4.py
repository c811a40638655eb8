"""The one MP4 box reader: fragments and codec strings of real files made by ffmpeg, and what a
truncated file does to each reader."""

from __future__ import annotations

import subprocess

import pytest

from cctv_server.media import ffmpeg, mp4


def fragmented(ffmpeg_bin: str, out, codec: str, seconds: int = 4) -> None:
    """A fragmented MP4 of test pattern with a keyframe (so a fragment) every second."""
    encoder = {"h264": ["-c:v", "libx264", "-preset", "veryfast"],
               "hevc": ["-c:v", "libx265", "-preset", "ultrafast", "-tag:v", "hvc1",
                        "-x265-params", "log-level=error"]}[codec]
    subprocess.run([ffmpeg_bin, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
                    "-i", "testsrc2=size=160x90:rate=10", "-t", str(seconds), *encoder, "-g", "10",
                    "-pix_fmt", "yuv420p", "-movflags", ffmpeg.MOVFLAGS, "-f", "mp4", str(out)],
                   check=True, timeout=60)


@pytest.mark.parametrize("codec, prefix", [("h264", "avc1.64"), ("hevc", "hvc1.1.6.L")])
def test_the_codec_string_names_the_sample_entry_and_its_profile(tmp_path, ffmpeg_bin, codec,
                                                                 prefix):
    fragmented(ffmpeg_bin, tmp_path / "v.mp4", codec)
    assert mp4.codec_of(tmp_path / "v.mp4").startswith(prefix)


def test_a_fragmented_file_has_one_fragment_per_keyframe_adding_up_to_its_length(tmp_path,
                                                                                  ffmpeg_bin):
    fragmented(ffmpeg_bin, tmp_path / "v.mp4", "h264", seconds=4)
    found = mp4.layout(tmp_path / "v.mp4")
    assert len(found.fragments) == 4
    assert found.duration == pytest.approx(4.0)
    assert [f.start for f in found.fragments] == pytest.approx([0.0, 1.0, 2.0, 3.0])
    ends = [f.offset + f.length for f in found.fragments]
    assert [f.offset for f in found.fragments] == [found.init_length, *ends[:-1]]
    assert ends[-1] <= (tmp_path / "v.mp4").stat().st_size  # an mfra index may follow


def test_a_truncated_file_has_no_layout_but_its_head_still_names_its_codec(tmp_path, ffmpeg_bin):
    fragmented(ffmpeg_bin, tmp_path / "v.mp4", "h264")
    data = (tmp_path / "v.mp4").read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) - 100])
    with pytest.raises(mp4.NotFragmented):
        mp4.layout(tmp_path / "cut.mp4")
    assert mp4.codec_string(data[: len(data) - 100]).startswith("avc1.")
    assert mp4.codec_string(data[:20]) is None  # not even the moov: nothing to name
