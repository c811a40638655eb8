"""Clip export: the pure decisions with plain values, then real clips from the server and the CLI."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from zoneinfo import ZoneInfo

import pytest

from cctv_server import demo
from cctv_server.errors import InvalidInput, NotFound
from cctv_server.playback import exportplan
from cctv_server.playback.exportplan import Cut, Range, Source

from .conftest import FPS, SEGMENT, SIZE, UTC, frame_crcs, wait_until

LONDON = ZoneInfo("Europe/London")
T10 = dt.datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC)
GOP = 2.0  # seconds: the test camera's keyframe interval (conftest/demo: -g fps*2)
TODAY = dt.date(2026, 11, 22)  # the root's local date the pure tests are run at


def at(seconds: float) -> float:
    return T10.timestamp() + seconds


# --- pure: parsing ---------------------------------------------------------------------------

def test_a_naive_time_is_read_in_the_roots_zone_and_an_offset_is_honoured():
    summer = dt.datetime(2026, 7, 1, 14, 32, tzinfo=LONDON).timestamp()
    assert exportplan.parse_instant("2026-07-01T14:32", "from", LONDON, TODAY) == summer
    assert exportplan.parse_instant("2026-07-01 14:32:00.000", "from", LONDON, TODAY) == summer
    assert exportplan.parse_instant("2026-07-01T13:32:00Z", "from", LONDON, TODAY) == summer
    assert exportplan.parse_instant("2026-07-01T15:32:00+02:00", "from", LONDON, TODAY) == summer


@pytest.mark.parametrize("text", ["", "2026-07-01", "14:32", "2026-07-01T14", "yesterday",
                                  "2026-02-30T10:00", "2026-07-01T25:00", "2026-07-01T14:32+2"])
def test_anything_but_a_full_iso_date_and_time_is_a_bad_request(text):
    with pytest.raises(InvalidInput) as err:
        exportplan.parse_instant(text, "from", UTC, TODAY)
    assert "\n" not in str(err.value) and "from" in str(err.value)


def test_a_range_that_runs_backwards_is_empty_or_is_too_long_is_refused():
    with pytest.raises(InvalidInput, match="must be after"):
        exportplan.parse_range("2026-11-20T10:00:10", "2026-11-20T10:00:05", UTC, 86400, TODAY)
    with pytest.raises(InvalidInput, match="must be after"):
        exportplan.parse_range("2026-11-20T10:00:10", "2026-11-20T10:00:10", UTC, 86400, TODAY)
    with pytest.raises(InvalidInput, match="longer than the export limit of 1 h"):
        exportplan.parse_range("2026-11-20T10:00", "2026-11-20T11:00:01", UTC, 3600, TODAY)
    assert exportplan.parse_range("2026-11-20T10:00", "2026-11-20T11:00", UTC, 3600, TODAY) == Range(at(0), at(3600))


def test_the_days_touched_include_the_day_before_for_a_segment_running_over_midnight():
    rng = Range(at(14 * 3600 - 10), at(14 * 3600 + 10))  # 23:59:50 to 00:00:10
    assert exportplan.days_touched(rng, UTC) == ["2026-11-19", "2026-11-20", "2026-11-21"]


# --- pure: choosing and cutting --------------------------------------------------------------

SOURCES = [  # three 6-s segments whose own timestamps start at 1.4 s, like ffmpeg's TS muxer
    Source("/r/d/10-00-00.ts", at(0), 6.0, 1.4),
    Source("/r/d/10-00-06.ts", at(6), 6.0, 7.4),
    Source("/r/d/10-00-12.ts", at(12), 6.0, 13.4),
]


def test_a_range_is_cut_at_the_keyframe_before_from_and_the_one_after_to():
    rng = Range(at(7.5), at(14.5))
    chosen = exportplan.overlapping(SOURCES, rng)
    assert [s.path for s in chosen] == ["/r/d/10-00-06.ts", "/r/d/10-00-12.ts"]
    plan = exportplan.plan(chosen, rng, [7.4, 9.4, 11.4], [13.4, 15.4, 17.4])
    assert plan.cuts == [Cut("/r/d/10-00-06.ts", 7.4, None), Cut("/r/d/10-00-12.ts", None, 17.4)]
    assert (plan.start, plan.end, plan.footage) == (at(6), at(16), pytest.approx(10.0))


def test_a_keyframe_exactly_at_from_is_where_the_clip_starts():
    plan = exportplan.plan(SOURCES[1:2], Range(at(8), at(9)), [7.4, 9.4, 11.4], [7.4, 9.4, 11.4])
    assert plan.cuts == [Cut("/r/d/10-00-06.ts", 9.4, 11.4)]
    assert (plan.start, plan.end) == (at(8), at(10))


def test_footage_that_starts_after_from_and_ends_before_to_is_taken_whole():
    rng = Range(at(-30), at(100))
    plan = exportplan.plan(SOURCES, rng, [1.4, 3.4, 5.4], [13.4, 15.4, 17.4])
    assert plan.cuts == [Cut(s.path) for s in SOURCES[:1]] + [Cut(s.path) for s in SOURCES[1:]]
    assert (plan.start, plan.end, plan.footage) == (at(0), at(18), pytest.approx(18.0))


def test_a_range_with_no_footage_is_not_found():
    with pytest.raises(NotFound, match="no footage"):
        exportplan.overlapping(SOURCES, Range(at(18), at(60)))


def video_fragments(walls, decode_times, delay=0.0):
    """2-s fragments of one video; a keyframe shows `delay` after it is decoded (B-frames)."""
    return [Source("/r/d/video.mp4", at(w), 2.0, d + delay, delay, fragment=True)
            for w, d in zip(walls, decode_times)]


def test_fragments_of_one_video_become_one_cut():
    frags = video_fragments([0, 2, 4, 6, 8], [0.0, 2.0, 4.0, 6.0, 8.0])
    plan = exportplan.plan(frags[1:4], Range(at(3), at(7)), [2.0, 4.0], [6.0, 8.0])
    assert plan.cuts == [Cut("/r/d/video.mp4", 2.0, 8.0, duration=6.0)]


def test_a_late_segment_between_fragments_splits_the_video_into_two_exact_cuts():
    """A gap in a compacted day filled later: the video's stretches before and after it are cut
    at their own fragments, never taken whole (which would replay the video's other hours)."""
    before, after = video_fragments([0, 2], [0.0, 2.0], delay=0.5)
    late = Source("/r/d/10-00-04.ts", at(4), 2.0, 1.4)
    resumed = video_fragments([6], [4.0], delay=0.5)[0]
    plan = exportplan.plan([before, after, late, resumed], Range(at(1), at(7)), [0.5, 2.5],
                           [4.5, 6.5])
    assert plan.cuts == [Cut("/r/d/video.mp4", 0.5, 4.0, duration=4.0), Cut("/r/d/10-00-04.ts"),
                         Cut("/r/d/video.mp4", 4.5, 6.0, duration=2.0)]
    assert (plan.start, plan.end, plan.footage) == (at(0), at(8), pytest.approx(8.0))


def test_the_concat_list_quotes_paths_and_rounds_cuts_up_to_the_microsecond():
    text = exportplan.concat_list([Cut("/r/it's/a.ts", 9.4, None), Cut("/r/b.ts", None, 23.3999999)])
    assert text.splitlines() == [
        "ffconcat version 1.0",
        "file 'file:/r/it'\\''s/a.ts'", "inpoint 9.400000",
        "file 'file:/r/b.ts'", "outpoint 23.400000",
    ]


def test_the_file_name_names_the_camera_and_the_range():
    plan = exportplan.Plan([], at(8), at(22), 14.0)
    assert exportplan.filename("Front door/1", plan, UTC) == "Front-door-1_2026-11-20_10-00-08_to_10-00-22.mp4"
    late = exportplan.Plan([], at(13 * 3600 + 59 * 60), at(14 * 3600 + 60), 120.0)
    assert exportplan.filename("", late, UTC) == "camera_2026-11-20_23-59-00_to_2026-11-21_00-01-00.mp4"


# --- real clips ------------------------------------------------------------------------------

@pytest.fixture
def six_second_segments(tmp_path, record):
    """30 s from 10:00:00 in 6-s segments with a keyframe every 2 s: cuts fall inside segments."""
    root = tmp_path / "root"
    return root, record(root, T10, 30, segment=6)


def test_an_exported_clip_starts_at_the_keyframe_before_from_and_ends_at_the_one_after_to(
        six_second_segments, server, ffmpeg_bin, tmp_path):
    root, segments = six_second_segments
    srv = server(root, CCTV_CAMERA="porch")
    response = srv.get("/export.mp4?from=2026-11-20T10:00:09.3&to=2026-11-20T10:00:21.1")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["x-clip-start"] == "2026-11-20T10:00:08.000+00:00"
    assert response.headers["x-clip-end"] == "2026-11-20T10:00:22.000+00:00"
    assert response.headers["content-disposition"] == (
        'attachment; filename="porch_2026-11-20_10-00-08_to_10-00-22.mp4"')
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(response.content)
    frames = frame_crcs(ffmpeg_bin, clip)
    requested = 21.1 - 9.3
    assert requested * FPS <= len(frames) <= (requested + 2 * GOP) * FPS
    assert len(frames) == 14 * FPS  # exactly the keyframe-aligned range the headers name
    source = frame_crcs(ffmpeg_bin, segments[1])  # 10:00:06 to 10:00:12
    assert frames[0] == source[2 * FPS]  # the first picture is the source's at 10:00:08
    assert frames[13] == source[33]  # and 10:00:09.3, the requested start, is 1.3 s in


def test_a_clip_across_midnight_takes_footage_from_both_day_folders(tmp_path, record, server, ffmpeg_bin):
    root = tmp_path / "root"
    record(root, dt.datetime(2026, 11, 20, 23, 59, 54, tzinfo=UTC), 12)
    srv = server(root)
    response = srv.get("/export.mp4?from=2026-11-20T23:59:57&to=2026-11-21T00:00:03")
    assert response.status_code == 200, response.text
    assert response.headers["x-clip-start"] == "2026-11-20T23:59:56.000+00:00"
    assert response.headers["x-clip-end"] == "2026-11-21T00:00:04.000+00:00"
    assert "porch" not in response.headers["content-disposition"]
    assert "camera_2026-11-20_23-59-56_to_2026-11-21_00-00-04.mp4" in response.headers["content-disposition"]
    (tmp_path / "clip.mp4").write_bytes(response.content)
    assert len(frame_crcs(ffmpeg_bin, tmp_path / "clip.mp4")) == 8 * FPS


@pytest.mark.parametrize("query, status, reason", [
    ("from=2026-11-20T10:00:20&to=2026-11-20T10:00:10", 400, "must be after"),
    ("from=2026-11-20T10:00&to=2026-11-20T11:00:01", 400, "longer than the export limit of 1 h"),
    ("from=2026-11-20&to=2026-11-20T10:00:10", 400, "not an ISO 8601 date and time"),
    ("to=2026-11-20T10:00:10", 400, "'from' is required"),
    ("from=2026-11-20T11:00&to=2026-11-20T11:00:10", 404, "no footage between the requested times"),
    ("from=2026-11-20T09:00&to=2026-11-20T09:59:59", 404, "no footage"),
])
def test_bad_ranges_get_a_status_and_a_one_line_reason(six_second_segments, server, query, status,
                                                       reason):
    root, _ = six_second_segments
    srv = server(root, CCTV_EXPORT_MAX="1h")
    response = srv.get(f"/export.mp4?{query}")
    assert response.status_code == status
    assert reason in response.text and response.text.count("\n") == 1


def test_the_cli_writes_the_same_clip_with_a_progress_bar(six_second_segments, ffmpeg_bin, tmp_path):
    root, segments = six_second_segments
    out = tmp_path / "cli.mp4"
    proc = subprocess.run(
        [sys.executable, "-m", "cctv_server.cli", "export", "--root", str(root),
         "--from", "2026-11-20T10:00:09.3", "--to", "2026-11-20T10:00:21.1", "-o", str(out)],
        capture_output=True, text=True, timeout=60, env=os.environ | {"CCTV_TIMEZONE": "UTC"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "2026-11-20T10:00:08.000+00:00 to 2026-11-20T10:00:22.000+00:00" in proc.stderr
    assert "Exporting" in proc.stderr
    frames = frame_crcs(ffmpeg_bin, out)
    assert len(frames) == 14 * FPS and frames[0] == frame_crcs(ffmpeg_bin, segments[1])[2 * FPS]


def test_the_cli_says_why_when_there_is_no_footage(six_second_segments, tmp_path):
    root, _ = six_second_segments
    out = tmp_path / "none.mp4"
    proc = subprocess.run(
        [sys.executable, "-m", "cctv_server.cli", "export", "--root", str(root),
         "--from", "2026-11-21T10:00", "--to", "2026-11-21T10:01", "-o", str(out)],
        capture_output=True, text=True, timeout=60, env=os.environ | {"CCTV_TIMEZONE": "UTC"},
    )
    assert proc.returncode == 1 and "no footage" in proc.stderr
    assert not out.exists() and not list(tmp_path.glob(".none.mp4*"))


# --- compacted days --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def compacted_h264(tmp_path_factory, ffmpeg_bin):
    """30 s from 10:00 compacted with the h264 profile (a keyframe every 10 s, B-frames), then
    a late camera run at 10:30 still in segments. Shared: the tests only read it."""
    from .test_compactor import compact

    root = tmp_path_factory.mktemp("h264") / "root"

    def record(root, start, seconds):
        return demo.record(ffmpeg_bin, root, start, seconds, segment=SEGMENT, size=SIZE, fps=FPS)

    record(root, T10, 30)
    # One encoder, so one chunk: keyframes fall every 10 s from 10:00, as the cuts below assume
    # (several chunks would each start a keyframe of their own).
    done = compact(root, CCTV_CODEC="h264", CCTV_JOBS="1")
    assert done.returncode == 0, done.stderr
    record(root, T10 + dt.timedelta(minutes=30), 6)
    return root


def test_a_clip_from_a_compacted_video_is_cut_at_its_keyframes(compacted_h264, server, ffmpeg_bin,
                                                              tmp_path):
    srv = server(compacted_h264)
    response = srv.get("/export.mp4?from=2026-11-20T10:00:13&to=2026-11-20T10:00:27")
    assert response.status_code == 200, response.text
    assert response.headers["x-clip-start"] == "2026-11-20T10:00:10.000+00:00"
    assert response.headers["x-clip-end"] == "2026-11-20T10:00:30.000+00:00"
    (tmp_path / "clip.mp4").write_bytes(response.content)
    frames = frame_crcs(ffmpeg_bin, tmp_path / "clip.mp4")
    assert len(frames) == 20 * FPS  # no frame of the next GOP slips in behind its B-frames
    video = frame_crcs(ffmpeg_bin, compacted_h264 / "2026-11-20" / "video.mp4")
    assert frames[0] == video[10 * FPS] and frames[-1] == video[30 * FPS - 1]


def test_a_clip_runs_from_a_compacted_video_into_later_segments(compacted_h264, server, ffmpeg_bin,
                                                               tmp_path):
    srv = server(compacted_h264)
    response = srv.get("/export.mp4?from=2026-11-20T10:00:25&to=2026-11-20T10:30:03")
    assert response.status_code == 200, response.text
    assert response.headers["x-clip-start"] == "2026-11-20T10:00:20.000+00:00"
    assert response.headers["x-clip-end"] == "2026-11-20T10:30:04.000+00:00"
    assert response.headers["x-clip-footage"] == "14.000"  # the gap between is not in the clip
    (tmp_path / "clip.mp4").write_bytes(response.content)
    assert len(frame_crcs(ffmpeg_bin, tmp_path / "clip.mp4")) == 14 * FPS


@pytest.fixture(scope="module", params=["hevc", "h264"])
def late_footage(request, tmp_path_factory, ffmpeg_bin):
    """A day compacted from 10:00:00-10:00:10 and 10:00:20-10:00:30 (two camera runs, so a gap),
    then late segments that fill the gap (10:00:10-10:00:20) and come before it (09:59:56), in
    the default codec (H.265) and in the cameras' own (H.264, with B-frames). Returns the root,
    the codec and the late segments' decoded frames."""
    from .test_compactor import compact

    base = tmp_path_factory.mktemp("late")
    root, staging = base / "root", base / "staging"

    def record(where, start, seconds):
        return demo.record(ffmpeg_bin, where, start, seconds, segment=SEGMENT, size=SIZE, fps=FPS)

    record(root, T10, 10)
    record(root, T10 + dt.timedelta(seconds=20), 10)
    done = compact(root, CCTV_JOBS="1", CCTV_CODEC=request.param)  # a keyframe every 10 s
    assert done.returncode == 0, done.stderr
    inside = record(staging, T10 + dt.timedelta(seconds=10), 10)
    before = record(staging, T10 - dt.timedelta(seconds=4), 4)
    for path in inside + before:
        os.replace(path, root / path.parent.name / path.name)
    late = {p.name: frame_crcs(ffmpeg_bin, root / p.parent.name / p.name) for p in inside + before}
    return root, request.param, late


def export_frames(srv, ffmpeg_bin, tmp_path, start, end):
    response = srv.get(f"/export.mp4?from=2026-11-20T{start}&to=2026-11-20T{end}")
    assert response.status_code == 200, response.text
    (tmp_path / "clip.mp4").write_bytes(response.content)
    return response.headers, frame_crcs(ffmpeg_bin, tmp_path / "clip.mp4")


def test_a_clip_of_late_segments_inside_a_compacted_days_gap_holds_exactly_them(
        late_footage, server, ffmpeg_bin, tmp_path):
    root, _, late = late_footage
    srv = server(root)
    headers, frames = export_frames(srv, ffmpeg_bin, tmp_path, "10:00:12.5", "10:00:15.5")
    assert (headers["x-clip-start"], headers["x-clip-end"]) == (
        "2026-11-20T10:00:12.000+00:00", "2026-11-20T10:00:16.000+00:00")
    assert frames == late["10-00-12.ts"] + late["10-00-14.ts"]


def test_a_clip_across_the_filled_gap_runs_video_late_segments_video_in_clock_order(
        late_footage, server, ffmpeg_bin, tmp_path):
    root, codec, late = late_footage
    srv = server(root)
    if codec != "h264":
        return across_codecs(srv, ffmpeg_bin, tmp_path, "10:00:08", "10:00:22", 30)
    headers, frames = export_frames(srv, ffmpeg_bin, tmp_path, "10:00:08", "10:00:22")
    assert (headers["x-clip-start"], headers["x-clip-end"]) == (
        "2026-11-20T10:00:00.000+00:00", "2026-11-20T10:00:30.000+00:00")
    video = frame_crcs(ffmpeg_bin, root / "2026-11-20" / "video.mp4")
    gap = [crc for s in range(10, 20, 2) for crc in late[f"10-00-{s}.ts"]]
    assert frames == video[: 10 * FPS] + gap + video[10 * FPS :]


def test_a_clip_from_a_late_segment_before_the_video_into_it_starts_with_that_segment(
        late_footage, server, ffmpeg_bin, tmp_path):
    root, codec, late = late_footage
    srv = server(root)
    if codec != "h264":
        return across_codecs(srv, ffmpeg_bin, tmp_path, "09:59:57", "10:00:05", 14)
    headers, frames = export_frames(srv, ffmpeg_bin, tmp_path, "09:59:57", "10:00:05")
    assert (headers["x-clip-start"], headers["x-clip-end"]) == (
        "2026-11-20T09:59:56.000+00:00", "2026-11-20T10:00:10.000+00:00")
    video = frame_crcs(ffmpeg_bin, root / "2026-11-20" / "video.mp4")
    assert frames == late["09-59-56.ts"] + late["09-59-58.ts"] + video[: 10 * FPS]


def across_codecs(srv, ffmpeg_bin, tmp_path, start: str, end: str, seconds: int) -> None:
    """An H.265 video and H.264 segments cannot share one stream-copied track, never a file whose
    second half no player decodes: asked for a stream copy, a clear 422; by default, the clip
    re-encoded to H.264, every frame of the range."""
    query = f"/export.mp4?from=2026-11-20T{start}&to=2026-11-20T{end}"
    response = srv.get(query + "&codec=copy")
    assert response.status_code == 422
    assert "hevc" in response.text and "h264" in response.text and response.text.count("\n") == 1
    assert "add codec=h264, to re-encode it" in response.text
    clip = srv.get(query)
    assert clip.status_code == 200 and clip.headers["x-clip-codec"] == "h264", clip.text
    (tmp_path / "auto.mp4").write_bytes(clip.content)
    assert len(frame_crcs(ffmpeg_bin, tmp_path / "auto.mp4")) == seconds * FPS


def test_a_clip_re_encoded_to_h264_joins_a_compacted_video_and_late_segments_in_any_codec(
        late_footage, server, ffmpeg_bin, tmp_path):
    """codec=h264: the same keyframe-aligned range, every frame of it, one H.264 track in an MP4
    with its index at the front (what phones and message apps want)."""
    import av

    root, codec, late = late_footage
    srv = server(root)
    response = srv.get("/export.mp4?from=2026-11-20T10:00:08&to=2026-11-20T10:00:22&codec=h264")
    assert response.status_code == 200, response.text
    assert response.headers["x-clip-codec"] == "h264"
    assert (response.headers["x-clip-start"], response.headers["x-clip-end"]) == (
        "2026-11-20T10:00:00.000+00:00", "2026-11-20T10:00:30.000+00:00")
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(response.content)
    assert len(frame_crcs(ffmpeg_bin, clip)) == 30 * FPS  # video 10 s, late segments 10, video 10
    with av.open(str(clip)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
    head = response.content[:64 << 10]
    assert 0 <= head.find(b"moov") < head.find(b"mdat")  # faststart: playable as it downloads
    wait_until(lambda: not list((root / ".cctv").glob(".export-*")))  # its temporary folder goes
    bad = srv.get("/export.mp4?from=2026-11-20T10:00:08&to=2026-11-20T10:00:22&codec=hevc")
    assert bad.status_code == 400 and "codec='hevc'" in bad.text


def test_the_cli_re_encodes_a_range_of_mixed_codecs(late_footage, ffmpeg_bin, tmp_path):
    root, codec, _ = late_footage

    def export(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "cctv_server.cli", "export", "--root", str(root),
             "--from", "2026-11-20T10:00:08", "--to", "2026-11-20T10:00:22",
             "-o", str(tmp_path / "cli.mp4"), *extra],
            capture_output=True, text=True, timeout=120, env=os.environ | {"CCTV_TIMEZONE": "UTC"})

    if codec != "h264":
        refused = export("--codec", "copy")
        assert refused.returncode == 1 and "add codec=h264" in refused.stderr
        assert not list(tmp_path.iterdir())
    for asked in (("--codec", "h264"), ()):  # by default too, when the codecs are mixed
        proc = export(*asked)
        assert proc.returncode == 0, proc.stderr
        assert len(frame_crcs(ffmpeg_bin, tmp_path / "cli.mp4")) == 30 * FPS
        # a stream copy where one can be made: an H.264 day with its H.264 late segments
        assert ("re-encoded to H.264" in proc.stderr) == (bool(asked) or codec != "h264")
        assert [p.name for p in tmp_path.iterdir()] == ["cli.mp4"]  # no temporary folder left


# --- footage with sound ----------------------------------------------------------------------

def test_a_clip_with_sound_keeps_its_sound_and_every_frame_and_runs_on_from_a_compacted_video(
        tmp_path, record, server, ffmpeg_bin):
    """Cameras with a microphone send AAC in ADTS headers, which an MP4 takes only rewritten;
    and a compacted day's sound (plain AAC) runs on into later segments' (ADTS)."""
    from .test_compactor import compact

    root = tmp_path / "root"
    record(root, T10, 8, audio=True, fps=25, segment=4.0)
    assert compact(root, CCTV_CODEC="copy").returncode == 0
    record(root, T10 + dt.timedelta(seconds=8), 8, audio=True, fps=25, segment=4.0)
    srv = server(root)
    for query, frames in [("from=2026-11-20T10:00:08&to=2026-11-20T10:00:16", 8 * 25),
                          ("from=2026-11-20T10:00:02&to=2026-11-20T10:00:12", 10 * 25)]:
        response = srv.get(f"/export.mp4?{query}")
        assert response.status_code == 200, response.text
        assert response.headers["x-clip-footage"] == f"{frames / 25:.3f}"  # keyframes on the ends
        clip = tmp_path / "clip.mp4"
        clip.write_bytes(response.content)
        assert len(frame_crcs(ffmpeg_bin, clip)) == frames
        sound = subprocess.run([ffmpeg_bin, "-v", "error", "-i", str(clip), "-map", "0:a:0",
                                "-f", "null", "-"], capture_output=True, text=True, timeout=60)
        assert sound.returncode == 0 and not sound.stderr, sound.stderr
