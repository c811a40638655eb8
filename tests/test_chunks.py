"""Chunked encodes: the plan is pure; real chunks of real segments join into one seamless video."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from pathlib import Path

import av
import pytest

from cctv_server.compaction import chunks, encoding
from cctv_server.errors import FFmpegError
from cctv_server.media import decode, mp4

from .conftest import UTC, frames_in

START = dt.datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)


def pieces(*durations: float) -> list[chunks.Part]:
    return [chunks.Part(Path(f"{n}.ts"), d) for n, d in enumerate(durations)]


def test_one_worker_encodes_the_day_in_one_chunk():
    plan = chunks.plan(pieces(*[10.0] * 8640), workers=1)
    assert len(plan) == 1 and len(plan[0].parts) == 8640


def test_a_day_splits_into_ten_minute_chunks_of_whole_segments_in_order():
    day = pieces(*[10.0] * 8640)
    plan = chunks.plan(day, workers=2)
    assert len(plan) == 144
    assert all(len(c.parts) == 60 for c in plan)
    assert [p for c in plan for p in c.parts] == day
    assert [c.offset for c in plan[:3]] == [0.0, 600.0, 1200.0]


def test_a_short_day_still_gives_every_worker_a_chunk():
    plan = chunks.plan(pieces(*[2.0] * 6), workers=2)
    assert [len(c.parts) for c in plan] == [3, 3]
    assert plan[1].offset == 6.0


def test_uneven_segments_end_a_chunk_once_it_is_long_enough():
    plan = chunks.plan(pieces(4.0, 1.0, 1.0, 5.0, 3.0), workers=2)  # 14 s: chunks of >= 7 s
    assert [c.duration for c in plan] == [11.0, 3.0]
    assert chunks.plan(pieces(4.0), workers=8)[0].duration == 4.0


def test_with_still_frames_dropped_a_camera_restart_starts_a_chunk():
    day = pieces(*[2.0] * 6)  # 12 s for 2 workers: chunks of 6 s, and one more at the restart
    assert [c.offset for c in chunks.plan(day, workers=2, cuts=[4.0])] == [0.0, 4.0, 10.0]
    assert [c.offset for c in chunks.plan(day, workers=2, cuts=[6.0])] == [0.0, 6.0]
    assert [c.offset for c in chunks.plan(day, workers=1, cuts=[0.0, 8.0])] == [0.0, 8.0]


def test_the_ffconcat_list_gives_each_file_its_duration():
    text = chunks.ffconcat([chunks.Part(Path("/r/it's.ts"), 2.0), chunks.Part(Path("/r/b.ts"), 1.5)])
    assert text.splitlines() == ["ffconcat version 1.0", "file '/r/it'\\''s.ts'",
                                 "duration 2.000000", "file '/r/b.ts'", "duration 1.500000"]


def test_a_segment_whose_sound_leads_its_picture_ends_where_the_next_picture_starts():
    # The concat demuxer lines each file up by its earliest packet (here its sound's, 64 ms
    # before its first frame): each duration makes the next file's first frame follow this one's
    # last, and the list is moved back by the first lead, so that its first frame is at zero.
    parts = [chunks.Part(Path("a.ts"), 4.0, 0.064), chunks.Part(Path("b.ts"), 4.0),
             chunks.Part(Path("c.ts"), 4.0, 0.032)]
    durations = [line for line in chunks.ffconcat(parts).splitlines() if line.startswith("dur")]
    assert durations == ["duration 4.064000", "duration 3.968000", "duration 4.032000"]
    assert chunks.offset_args(parts) == ["-itsoffset", "-0.064000"]
    assert chunks.offset_args(parts[1:]) == []


def test_a_chunk_and_the_days_sound_are_moved_back_by_their_first_lead(ffmpeg_bin):
    parts = [chunks.Part(Path("a.ts"), 2.0, 0.064), chunks.Part(Path("b.ts"), 2.0, 0.021)]
    job = chunks.Job(ffmpeg_bin, parts, encoding.DEFAULT, 25.0, [], True, 0.0, "c")
    first, second = chunks.plan(job.parts, workers=2)
    argv = chunks.chunk_argv(job, second, encoding.DEFAULT, Path("l"), Path("o.mp4"), None)
    assert argv[argv.index("-i") - 2:argv.index("-i") + 1] == ["-itsoffset", "-0.021000", "-i"]
    join = chunks.join_argv(job, Path("chunks"), Path("audio"), Path("out.mp4"))
    audio = join.index("audio")
    assert join[audio - 3:audio + 1] == ["-itsoffset", "-0.064000", "-i", "audio"]
    assert "-itsoffset" not in join[:join.index("chunks")]  # every chunk starts at zero


def job_for(binary: str, files: list[Path], profile=encoding.DEFAULT, **kw) -> chunks.Job:
    found = [decode.decode(f) for f in files]
    kw = {"fps": 25.0, "breaks": [], "audio": any(d.audio for d in found),
          "creation": START.timestamp(), "comment": "test"} | kw
    return chunks.Job(binary, [chunks.Part(f, d.duration, d.lead) for f, d in zip(files, found)],
                      profile, **kw)


def test_a_chunk_starts_on_a_keyframe_and_gets_only_its_own_breaks(ffmpeg_bin):
    job = chunks.Job(ffmpeg_bin, pieces(*[2.0] * 6), encoding.DEFAULT, 25.0, [2.0, 8.0], False,
                     0.0, "c")
    first, second = chunks.plan(job.parts, workers=2)
    one = encoding.profile_from("hevc", threads=1)
    argv = chunks.chunk_argv(job, second, one, Path("l"), Path("o.mp4"), (320, 180))
    assert argv[argv.index("-force_key_frames") + 1] == "2.000"  # 8 s in the day, 2 s in
    assert argv[argv.index("-s") + 1] == "320x180"
    assert argv[argv.index("-threads") + 1] == "1"
    assert "-map" in argv and "0:a:0?" not in argv  # sound goes in at the join


def test_a_chunk_with_still_frames_dropped_forces_a_keyframe_every_keyint_seconds(ffmpeg_bin):
    profile = dataclasses.replace(encoding.profile_from("hevc", threads=1),
                                  decimate="mpdecimate=hi=768:lo=320:frac=0.33")
    job = chunks.Job(ffmpeg_bin, pieces(*[2.0] * 6), profile, 25.0, [], False, 0.0, "c")
    (first,) = chunks.plan(job.parts, workers=1)
    argv = chunks.chunk_argv(job, first, profile, Path("l"), Path("o.mp4"), None, Path("o.frames"))
    assert argv[argv.index("-force_key_frames") + 1] == "expr:gte(t,n_forced*10)"
    assert argv[argv.index("-forced-idr") + 1] == "1"
    assert argv[argv.index("-vf") + 1] == "mpdecimate=hi=768:lo=320:frac=0.33"
    assert argv[argv.index("-fps_mode") + 1] == "passthrough"  # each kept frame keeps its time
    assert argv[argv.index("-stats_enc_pre") + 1] == "o.frames"


def test_the_join_makes_a_decimated_videos_last_frame_last_to_the_footages_end(ffmpeg_bin):
    profile = dataclasses.replace(encoding.DEFAULT, decimate="mpdecimate")
    job = chunks.Job(ffmpeg_bin, pieces(2.0, 2.5), profile, 25.0, [], False, 0.0, "c")
    argv = chunks.join_argv(job, Path("c"), None, Path("o.mp4"), frames=40)
    assert argv[argv.index("-bsf:v") + 1] == (
        "setts=duration=if(eq(N\\,39)\\,max(1\\,STARTPTS+405000-PTS)\\,DURATION)")
    every = dataclasses.replace(job, profile=encoding.DEFAULT)
    assert "-bsf:v" not in chunks.join_argv(every, Path("c"), None, Path("o.mp4"), frames=40)


def test_each_encoder_logs_the_time_of_every_frame_it_encodes(tmp_path, record, ffmpeg_bin):
    files = record(tmp_path / "root", START, 8, segment=2.0)
    job = job_for(ffmpeg_bin, files)
    encoded = chunks.encode(job, tmp_path / "work", tmp_path / "out.mp4", 2)
    assert [len(c) for c in encoded] == [40, 40]
    step = {round(b - a, 6) for c in encoded for a, b in zip(c, c[1:])}
    assert step == {0.1}  # 10 fps, on the camera's 90 kHz clock
    copied = dataclasses.replace(job, profile=encoding.PROFILES["copy"])
    assert chunks.encode(copied, tmp_path / "work", tmp_path / "copy.mp4", 2) is None


def test_a_frame_log_is_read_on_its_own_time_base(tmp_path):
    log = tmp_path / "chunk.frames"
    log.write_text("0 1/90000\n9000 1/90000\n\n3 1/25\n")
    assert list(chunks.read_frame_log(log)) == [0.0, 0.1, 0.12]


def encoded(job: chunks.Job, out: Path, workers: int) -> tuple[list[float], int]:
    """Encode with `workers`; the video's frame times and its count of audio frames."""
    work = out.with_suffix(".work")
    chunks.encode(job, work, out, workers)
    assert not work.exists()
    with av.open(str(out)) as container:
        assert [s.type for s in container.streams] == ["video", "audio"]
        assert container.streams.video[0].codec_context.name == "hevc"
        times = [round(float(f.pts * f.time_base), 4) for f in container.decode(video=0)]
    with av.open(str(out)) as container:
        return times, sum(1 for _ in container.decode(audio=0))


def test_chunks_join_seamlessly_into_what_one_encode_makes(tmp_path, record, ffmpeg_bin):
    files = (record(tmp_path / "root", START, 6, segment=2.0, audio=True)
             + record(tmp_path / "root", START + dt.timedelta(minutes=2), 6, segment=2.0,
                      audio=True))
    want = frames_in(ffmpeg_bin, files)
    job = job_for(ffmpeg_bin, files)
    restart = sum(p.duration for p in job.parts[:len(files) // 2])
    job = dataclasses.replace(job, breaks=[restart])
    assert len(chunks.plan(job.parts, 3)) == 3
    whole, whole_audio = encoded(job, tmp_path / "whole.mp4", 1)
    joined, joined_audio = encoded(job, tmp_path / "joined.mp4", 3)
    assert len(whole) == want and joined == whole  # every frame once, at the same instant
    assert joined_audio == whole_audio > 0
    found = decode.decode(tmp_path / "joined.mp4")
    assert found.repeated == 0 and found.error is None
    assert found.duration == pytest.approx(sum(p.duration for p in job.parts), abs=0.1)
    starts = [f.start for f in mp4.layout(tmp_path / "joined.mp4").fragments]
    assert any(0 <= s - restart < 0.1 for s in starts)  # the camera restart starts a fragment


def test_progress_adds_up_relative_paths_work_and_a_stale_output_is_replaced(
        tmp_path, record, ffmpeg_bin, monkeypatch):
    files = record(tmp_path / "root", START, 8, segment=2.0, audio=True)
    monkeypatch.chdir(tmp_path)
    job = job_for(ffmpeg_bin, [f.relative_to(tmp_path) for f in files])
    Path("out.mp4").write_bytes(b"left behind by an earlier run")
    seen: list[float] = []
    chunks.encode(job, Path("work"), Path("out.mp4"), 2, on_progress=seen.append)
    assert decode.decode(tmp_path / "out.mp4").frames == frames_in(ffmpeg_bin, files)
    total = sum(p.duration for p in job.parts)
    assert seen and max(seen) == pytest.approx(total, abs=0.5) and max(seen) > total / 2 + 0.5


def test_a_failing_chunk_stops_the_others_and_raises(tmp_path, record, ffmpeg_bin):
    files = record(tmp_path / "root", START, 12, segment=2.0)
    job = job_for(ffmpeg_bin, files, profile=encoding.profile_from("hevc", preset="slow"))
    files[4].write_bytes(b"not a video at all")  # the first of the third chunk: ffmpeg fails
    with pytest.raises(FFmpegError, match="Invalid data"):
        chunks.encode(job, tmp_path / "work", tmp_path / "out.mp4", workers=3)
    assert not (tmp_path / "out.mp4").exists()
    assert not [t for t in threading.enumerate() if t.name.startswith("chunk")]


def test_a_camera_that_changes_resolution_mid_day_still_joins(tmp_path, record, ffmpeg_bin):
    files = (record(tmp_path / "root", START, 4, segment=2.0, size="320x180")
             + record(tmp_path / "root", START + dt.timedelta(minutes=1), 4, segment=2.0,
                      size="160x90"))
    job = job_for(ffmpeg_bin, files)
    chunks.encode(job, tmp_path / "work", tmp_path / "out.mp4", 2)
    with av.open(str(tmp_path / "out.mp4")) as container:
        sizes = {(f.width, f.height) for f in container.decode(video=0)}
    assert sizes == {(320, 180)}
    assert decode.decode(tmp_path / "out.mp4").frames == frames_in(ffmpeg_bin, files)
