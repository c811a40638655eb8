"""Compaction profiles: validation and the ffmpeg arguments they become."""

import dataclasses

import pytest

from cctv_server import config
from cctv_server.compaction.encoding import (
    DEFAULT,
    PROFILES,
    SIZE_CAP,
    STILL_SIZE_CAP,
    Profile,
    audio_args,
    cap_for,
    keyint_frames,
    profile_for,
    profile_from,
    video_args,
    workers_for,
)
from cctv_server.errors import ConfigError


def _after(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def test_the_default_is_the_hevc_profile():
    assert DEFAULT is PROFILES["hevc"]
    assert DEFAULT.codec == "hevc"


def test_named_profiles_cover_every_codec():
    assert {"hevc", "av1", "h264", "copy"} <= set(PROFILES)
    assert all(isinstance(p, Profile) for p in PROFILES.values())


def test_default_video_args_at_25_fps():
    args = video_args(DEFAULT, fps=25)
    assert args[:2] == ["-c:v", "libx265"]
    assert _after(args, "-preset") == DEFAULT.preset
    assert _after(args, "-crf") == str(DEFAULT.crf)
    assert _after(args, "-tag:v") == "hvc1"
    assert _after(args, "-pix_fmt") == "yuv420p"
    params = dict(kv.split("=") for kv in _after(args, "-x265-params").split(":"))
    gop = str(DEFAULT.keyint * 25)
    assert params["keyint"] == gop and params["min-keyint"] == gop
    assert params["open-gop"] == "0" and params["scenecut"] == "0"
    assert params["psy-rd"] == "0"
    assert "-vf" not in args


def test_keyint_is_seconds_so_the_gop_follows_the_frame_rate():
    p = profile_from("hevc", keyint=4)
    assert keyint_frames(p, 15) == 60
    assert keyint_frames(p, 25) == 100
    assert keyint_frames(p, None) == 100  # an unknown rate is taken as 25 fps


def test_copy_only_copies():
    assert video_args(PROFILES["copy"], fps=25) == ["-c:v", "copy"]


def test_sound_is_always_a_small_aac_track():
    assert audio_args()[2:4] == ["-c:a", "aac"]


def test_sound_starts_at_the_first_frame_less_the_aac_encoders_priming():
    # A packet before zero would make the muxer move the whole video later (see audio_args).
    assert audio_args()[:2] == ["-af", "atrim=start=0,atrim=start_sample=1024"]


def test_av1_uses_svt_with_a_gop_in_frames():
    args = video_args(profile_from("av1", preset="10", crf=50, keyint=8), fps=15)
    assert args[:2] == ["-c:v", "libsvtav1"]
    assert _after(args, "-preset") == "10"
    assert _after(args, "-crf") == "50"
    assert _after(args, "-g") == "120"


def test_h264_fixes_its_gop():
    args = video_args(profile_from("h264", keyint=2), fps=25)
    assert args[:2] == ["-c:v", "libx264"]
    assert _after(args, "-g") == "50" and _after(args, "-keyint_min") == "50"


def test_denoise_puts_a_filter_before_the_encoder():
    args = video_args(profile_from("hevc", denoise="hqdn3d"), fps=25)
    assert _after(args, "-vf").startswith("hqdn3d=")
    assert args.index("-vf") < args.index("-c:v")


def test_the_default_has_no_b_frames_and_a_short_lookahead():
    params = dict(kv.split("=") for kv in _after(video_args(DEFAULT, fps=25), "-x265-params").split(":"))
    assert params["bframes"] == "0" and params["rc-lookahead"] == "5" and params["ctu"] == "64"
    assert "pools" not in params and "wpp" not in params  # a lone chunk: x265 takes every core


def test_a_single_threaded_hevc_chunk_has_one_pool_thread_one_frame_and_no_wavefront():
    params = _after(video_args(profile_from("hevc", threads=1)), "-x265-params").split(":")
    assert {"pools=1", "frame-threads=1", "wpp=0"} <= set(params)


def test_threads_reach_each_encoder():
    assert "pools=3" in _after(video_args(profile_from("hevc", threads=3)), "-x265-params")
    assert "lp=3" in _after(video_args(profile_from("av1", threads=3)), "-svtav1-params")
    assert _after(video_args(profile_from("h264", threads=3)), "-threads") == "3"


def test_unset_values_come_from_the_codec_profile():
    assert profile_from("av1") == PROFILES["av1"]
    assert profile_from("hevc", crf=30).preset == DEFAULT.preset


@pytest.mark.parametrize(
    "kwargs, key",
    [
        ({"codec": "vp9"}, "setting 'codec'"),
        ({"codec": "hevc", "crf": 52}, "setting 'crf'"),
        ({"codec": "av1", "crf": 64}, "setting 'crf'"),
        ({"codec": "hevc", "crf": -1}, "setting 'crf'"),
        ({"codec": "hevc", "preset": "12"}, "setting 'preset'"),
        ({"codec": "av1", "preset": "fast"}, "setting 'preset'"),
        ({"codec": "hevc", "keyint": 0}, "setting 'keyint'"),
        ({"codec": "hevc", "keyint": 61}, "setting 'keyint'"),
        ({"codec": "hevc", "denoise": "magic"}, "setting 'denoise'"),
        ({"codec": "copy", "denoise": "hqdn3d"}, "setting 'denoise'"),
        ({"codec": "hevc", "threads": -1}, "threads"),
    ],
)
def test_bad_values_name_their_key(kwargs, key):
    with pytest.raises(ConfigError, match=key):
        profile_from(**kwargs)


def test_one_encoder_per_core_unless_jobs_says_otherwise():
    assert workers_for(1) == 1
    assert workers_for(2) == 2
    assert workers_for(32) == 32
    assert workers_for(32, jobs=4) == 4
    assert workers_for(0) == 1


def settings(**flags):
    return config.load(env={}, flags=flags)


def test_the_default_caps_its_bitrate_at_a_share_of_the_cameras():
    profile = profile_for(settings())
    assert profile.size_cap == SIZE_CAP <= 0.4  # a quarter's overshoot stays under half
    cap = cap_for(profile, input_bytes=3_600_000, seconds=60)  # a 480 kbit/s camera
    assert cap == round(480_000 * SIZE_CAP)
    args = video_args(dataclasses.replace(profile, maxrate=cap), fps=25)
    assert _after(args, "-maxrate") == str(cap) and _after(args, "-bufsize") == str(cap * 10)
    assert cap_for(profile, 0, 60) is None and cap_for(profile, 100, 0) is None


def test_with_still_frames_dropped_a_kept_frame_may_cost_what_the_cameras_did():
    # x265's rate control counts frames: a cap per second of the source is one per frame kept.
    profile = profile_for(settings(still_frames="drop"))
    assert profile.size_cap == STILL_SIZE_CAP == 1.0
    assert cap_for(profile, input_bytes=3_600_000, seconds=60) == 480_000


def test_a_crf_chosen_by_hand_or_another_codec_is_never_capped():
    assert profile_for(settings(crf=24)).size_cap is None
    assert profile_for(settings(codec="av1")).size_cap is None
    assert profile_for(settings(codec="h264")).size_cap is None
    assert "-maxrate" not in video_args(profile_for(settings()), fps=25)  # until a day sets it


def test_dropping_still_frames_puts_mpdecimate_after_the_denoiser_and_doubles_the_gop():
    profile = profile_for(settings(still_frames="drop", denoise="hqdn3d"))
    assert profile.decimate.startswith("mpdecimate=")
    args = video_args(profile, fps=25)
    assert _after(args, "-vf").split(",")[-1].startswith("mpdecimate=")
    assert _after(args, "-vf").startswith("hqdn3d")
    assert keyint_frames(profile, 25) == 500  # forced by time instead (chunks.py)
    assert profile_for(settings()).decimate is None


@pytest.mark.parametrize("flags", [{"still_frames": "sometimes"},
                                   {"codec": "copy", "still_frames": "drop"}])
def test_a_bad_still_frames_setting_is_named(flags):
    with pytest.raises(ConfigError, match="setting 'still_frames'"):
        profile_for(settings(**flags))


def test_x264_drops_its_b_frames_when_still_frames_are_dropped():
    h264 = profile_for(settings(codec="h264", still_frames="drop"))
    assert _after(video_args(h264, fps=25), "-bf") == "0"
    assert "-bf" not in video_args(profile_for(settings(codec="h264")), fps=25)
