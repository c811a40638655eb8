"""Pure: where a day's stream changes, what each run is encoded as, and when a failing day is given up."""

from __future__ import annotations

from pathlib import Path

from cctv_server.compaction import chunks, encoding, runs, schedule
from cctv_server.compaction.inputs import Input, spans_of
from cctv_server.compaction.runs import Stream
from cctv_server.footage.videoindex import build
from cctv_server.media import mp4

H264_SMALL = Stream("h264", 160, 90, 10.0)
H264_LARGE = Stream("h264", 320, 180, 10.0)
HEVC_SMALL = Stream("hevc", 160, 90, 10.0)


def test_a_run_begins_wherever_the_codec_the_size_or_the_rate_changes():
    fast = Stream("h264", 160, 90, 25.0)
    day = [H264_SMALL, H264_SMALL, HEVC_SMALL, HEVC_SMALL, H264_SMALL, H264_LARGE, fast, fast]
    assert runs.starts(day) == [0, 2, 4, 5, 6]
    assert runs.starts([]) == []


def test_a_wobbling_or_unknown_rate_is_no_change():
    assert runs.starts([Stream("h264", 160, 90, 30.0), Stream("h264", 160, 90, 29.97),
                        Stream("h264", 160, 90, None), Stream("h264", 160, 90, 29.0)]) == [0]
    assert not runs.same_rate(25.0, 15.0) and runs.same_rate(None, 15.0)


def test_copied_runs_share_a_video_only_when_codec_and_size_match():
    day = [H264_SMALL, Stream("h264", 160, 90, 25.0), HEVC_SMALL, H264_SMALL]
    assert runs.first_video(day, copied=True) == 2  # a new rate still joins as it is
    assert runs.first_video(day[2:], copied=True) == 1
    assert runs.first_video(day, copied=False) == 4  # re-encoded, every run comes out alike
    assert runs.first_video([H264_SMALL], copied=True) == 1


def test_copied_a_day_that_keeps_changing_would_need_a_video_per_run():
    flapping = [H264_SMALL, HEVC_SMALL] * 20
    assert runs.videos_needed(flapping, copied=True) == 40 > runs.MAX_VIDEOS
    assert runs.videos_needed(flapping, copied=False) == 1
    assert runs.videos_needed([], copied=True) == 0


def test_every_run_is_encoded_at_the_size_the_day_spends_longest_in():
    odd = Stream("h264", 3841, 2161, 10.0)  # one file from a token, 4K and odd
    assert runs.output_size([(H264_SMALL, 60.0), (odd, 10.0), (H264_LARGE, 30.0)]) == (160, 90)
    assert runs.output_size([(odd, 10.0)]) == (3840, 2160)  # even, for 4:2:0
    assert runs.output_size([(H264_SMALL, 4.0), (H264_LARGE, 4.0)]) == (320, 180)  # a tie: larger
    assert runs.output_size([(Stream(None, None, None, None), 2.0)]) is None
    assert runs.fit_filter((320, 180)).startswith(
        "scale=320:180:force_original_aspect_ratio=decrease")


def parts(*streams: Stream, seconds: float = 2.0) -> list[chunks.Part]:
    return [chunks.Part(Path(f"{k}.ts"), seconds, 0.0, s) for k, s in enumerate(streams)]


def test_a_chunk_never_spans_a_change_of_stream():
    found = chunks.plan(parts(H264_SMALL, H264_SMALL, HEVC_SMALL, HEVC_SMALL), 1, cuts=[4.0])
    assert [[p.stream for p in c.parts] for c in found] == [[H264_SMALL] * 2, [HEVC_SMALL] * 2]
    assert [c.offset for c in found] == [0.0, 4.0]


def test_a_chunk_of_another_size_is_fitted_and_keyed_at_its_own_rate():
    profile = encoding.profile_from("hevc", denoise="hqdn3d")
    job = chunks.Job("ffmpeg", parts(H264_SMALL, Stream("h264", 320, 180, 25.0)), profile, 10.0,
                     [], False, 0.0, "c", runs=(2.0,))
    small, large = chunks.plan(job.parts, 1, cuts=list(job.runs))
    argv = chunks.chunk_argv(job, small, profile, Path("l"), Path("o"), (320, 180))
    vf = argv[argv.index("-vf") + 1]
    assert vf.startswith("hqdn3d=") and vf.endswith(runs.fit_filter((320, 180)))
    assert "keyint=100" in argv[argv.index("-x265-params") + 1]  # 10 s at 10 fps
    argv = chunks.chunk_argv(job, large, profile, Path("l"), Path("o"), (320, 180))
    assert argv[argv.index("-s") + 1] == "320x180" and "scale=" not in argv[argv.index("-vf") + 1]
    assert "keyint=250" in argv[argv.index("-x265-params") + 1]  # 10 s at 25 fps


def test_the_fragment_where_a_run_begins_starts_a_discontinuity():
    inputs = [Input(f"{k}.ts", 0, 0, 20, 2.0, 100.0 + 2 * k, k == 0, codec=codec, width=160,
                    height=90, fps=10.0) for k, codec in enumerate(["h264", "h264", "hevc"])]
    spans = spans_of(inputs)
    assert [s.new_run for s in spans] == [False, False, True]
    frags = [mp4.Fragment(1000 * k, 1000, 0.0 + 2 * k, 2.0) for k in range(3)]
    index = build("video.mp4", 3000, mp4.Layout(100, frags, None), spans)
    assert [f.discontinuity for f in index.fragments] == [False, False, True]
    assert [f.wall for f in index.fragments] == [100.0, 102.0, 104.0]  # no wall-clock gap


def test_a_day_is_given_up_after_compaction_retries_failures_in_a_row():
    failed = {"state": "failed", "failures": 3, "reason": "the new video has 550 frames, "
                                                            "the segments 850"}
    assert schedule.given_up(failed, 3) and not schedule.given_up(failed, 4)
    assert not schedule.given_up(failed, 0)  # 0: retried for ever
    assert not schedule.given_up({"state": "compacted", "failures": 5}, 3)
    state = schedule.day_state(segments=5, videos=0, video_size=0, row=failed, ready_at=None,
                               now=0.0, clock=str, size=str, retries=3)
    assert state.kind == "given up"
    assert state.text == ("failed 3 times, no longer retried (the new video has 550 frames, "
                          "the segments 850); its segments are kept")
    assert schedule.given_up_text(failed, "2024-05-01").endswith(
        "`cctv-server compact --date 2024-05-01` tries again")
