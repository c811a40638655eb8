"""A day's noise, measured on real segments, and the encoder's noise reduction it decides."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from cctv_server.compaction import encoding, noise
from cctv_server.compaction.encoding import DEFAULT, profile_from, video_args


def test_the_noise_sample_spreads_over_the_day_and_skips_the_first_frame():
    paths = [Path(f"{n}.ts") for n in range(9)]
    assert noise.sample(paths) == [Path("1.ts"), Path("4.ts"), Path("7.ts")]
    assert noise.sample(paths[:2]) == paths[:2]
    text = ("frame:0 pts:0\nlavfi.signalstats.YDIF=0.000000\n"
            "frame:1 pts:3600\nlavfi.signalstats.YDIF=0.25\n"
            "frame:2 pts:7200\nlavfi.signalstats.YDIF=0.5\n")
    assert noise.parse_ydif(text) == [0.25, 0.5]


def test_the_rule_reduces_noise_on_a_noisy_day_and_leaves_a_clean_one_alone():
    # The bench's days: clean 0.043, the garage at moderate noise 0.069, the night 0.175.
    assert noise.nr_for(0.043) is None
    assert noise.nr_for(0.069) == noise.NR_INTER
    assert noise.nr_for(0.175) == noise.NR_INTER
    assert noise.nr_for(None) is None  # unmeasured: as it always was


def test_a_very_noisy_day_takes_a_higher_crf_and_a_moderately_noisy_one_keeps_it():
    # The bench's days: the night 0.173, the garage at noise 16 0.159, at noise 12 0.127; the
    # garage at noise 8 (0.069) lost 0.011 of the scene at crf 28, so it keeps its crf.
    assert noise.crf_for(0.173, 27) == noise.crf_for(0.127, 27) == 27 + noise.CRF_STEP
    assert noise.crf_for(0.069, 27) == noise.crf_for(0.043, 27) == 27
    assert noise.crf_for(None, 27) == 27


def test_only_x265_at_its_own_crf_follows_the_noise():
    from cctv_server import config
    very_noisy = 0.17

    def day_profile(**flags):
        return encoding.with_noise(encoding.profile_for(config.load(env={}, flags=flags)), very_noisy)

    own = day_profile()
    assert own.crf == DEFAULT.crf + noise.CRF_STEP and own.nr == noise.NR_INTER
    assert f"-crf {own.crf}" in " ".join(video_args(own, 25))
    assert day_profile(crf=24).crf == 24  # the user's choice of quality
    assert day_profile(codec="h264").crf == profile_from("h264").crf  # not measured for x264
    assert encoding.with_noise(encoding.profile_for(config.load(env={}, flags={})), 0.05).crf == DEFAULT.crf


def test_a_noisy_days_profile_asks_the_encoder_for_its_noise_reduction():
    noisy, clean = 0.1, 0.02
    assert "nr-inter=300" in " ".join(video_args(encoding.with_noise(DEFAULT, noisy), 25))
    assert "nr-inter" not in " ".join(video_args(encoding.with_noise(DEFAULT, clean), 25))
    h264 = video_args(encoding.with_noise(profile_from("h264"), noisy), 25)
    assert h264[h264.index("-noise_reduction") + 1] == "300"
    # A denoise filter chosen by hand is the user's choice; SVT-AV1 has no such option.
    assert encoding.with_noise(profile_from("hevc", denoise="hqdn3d"), noisy).nr is None
    assert encoding.with_noise(profile_from("av1"), noisy).nr is None


def _segment(ffmpeg_bin: str, out: Path, noise_filter: str) -> Path:
    """Two seconds of a still grey scene as a camera sends it, with or without sensor noise."""
    graph = "color=c=0x606060:s=320x180:r=25,format=yuv420p" + noise_filter
    subprocess.run([ffmpeg_bin, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", graph,
                    "-t", "2", "-c:v", "libx264", "-preset", "superfast", "-b:v", "400k",
                    "-f", "mpegts", str(out)], check=True, timeout=60)
    return out


def test_real_noisy_footage_gets_noise_reduction_and_clean_footage_none(ffmpeg_bin, tmp_path):
    noisy = _segment(ffmpeg_bin, tmp_path / "noisy.ts", ",noise=c0s=16:allf=t")
    clean = _segment(ffmpeg_bin, tmp_path / "clean.ts", "")
    measured = noise.measure(ffmpeg_bin, [noisy]), noise.measure(ffmpeg_bin, [clean])
    assert noise.nr_for(measured[0]) == noise.NR_INTER, measured
    assert noise.nr_for(measured[1]) is None, measured


def test_a_segment_that_cannot_be_read_leaves_the_noise_unmeasured(ffmpeg_bin, tmp_path):
    assert noise.measure(ffmpeg_bin, [tmp_path / "missing.ts"]) is None
    (tmp_path / "junk.ts").write_bytes(b"\x47" + b"\x00" * 1000)
    assert noise.measure(ffmpeg_bin, [tmp_path / "junk.ts"]) is None


@pytest.mark.parametrize("setting", [{}, {"crf": 24}])
def test_the_size_cap_leaves_half_the_source_even_after_x265_overshoots(setting):
    from cctv_server import config
    profile = encoding.profile_for(config.load(env={}, flags=setting))
    assert profile.size_cap is None if setting else profile.size_cap * 1.25 <= 0.5
