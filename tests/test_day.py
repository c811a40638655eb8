"""The footage model from plain values: which piece comes when, and where the breaks are."""

import datetime as dt
from zoneinfo import ZoneInfo

from cctv_server.footage import day
from cctv_server.footage.day import DayFiles
from cctv_server.footage.timeline import CLOCK, Segment
from cctv_server.footage.videoindex import Fragment, VideoIndex

UTC = ZoneInfo("UTC")
LONDON = ZoneInfo("Europe/London")
D = "2026-11-20"


def at(hh: int, mm: int, ss: float = 0, date: str = D, tz=UTC) -> float:
    y, m, d = map(int, date.split("-"))
    return dt.datetime(y, m, d, hh, mm, 0, tzinfo=tz).timestamp() + ss


def seg(name: str, start: float, pts: float, duration: float = 10.0, date: str = D) -> Segment:
    """A segment named by its clock time, with its first timestamp in seconds."""
    return Segment(date, name, 1000, int((start + duration) * 1e9), round(pts * CLOCK), duration,
                   start)


def video(name: str, walls: list[float], duration: float = 10.0, breaks=()) -> VideoIndex:
    """A video of back-to-back fragments starting at these wall-clock times."""
    frags = [Fragment(100 + 1000 * i, 1000, duration, w, i in breaks, i * duration)
             for i, w in enumerate(walls)]
    return VideoIndex(name, 100 + 1000 * len(walls), 100, frags)


def order(pieces) -> list[tuple[str, float, bool]]:
    """(file, minutes:seconds past 10:00, break before) of each piece, to read at a glance."""
    return [(p.file, round(p.start - at(10, 0), 3), p.discontinuity) for p in pieces]


def test_late_segments_inside_a_compacted_days_gap_play_between_its_fragments():
    compacted = video("video.mp4", [at(10, 0), at(10, 0, 10), at(10, 0, 40)], breaks={2})
    late = [seg("10-00-20.ts", at(10, 0, 20), 500.0), seg("10-00-30.ts", at(10, 0, 30), 510.0)]
    pieces = day.of_day(DayFiles(D, late, [compacted]))
    assert order(pieces) == [
        ("video.mp4", 0, False), ("video.mp4", 10, False),
        ("10-00-20.ts", 20, True), ("10-00-30.ts", 30, False),  # their timestamps run on
        ("video.mp4", 40, True),
    ]
    assert [p.byterange for p in pieces if p.is_fragment] == [(100, 1000), (1100, 1000), (2100, 1000)]
    assert pieces[2].media_start == 500.0 and pieces[4].media_start == 20.0


def test_a_late_segment_recorded_before_the_video_comes_first():
    compacted = video("video.mp4", [at(10, 0), at(10, 0, 10)])
    pieces = day.of_day(DayFiles(D, [seg("09-59-50.ts", at(10, 0, -10), 3.0)], [compacted]))
    assert order(pieces) == [("09-59-50.ts", -10, False), ("video.mp4", 0, True),
                             ("video.mp4", 10, False)]


def test_two_videos_of_one_day_interleave_by_wall_clock_with_a_break_at_each_switch():
    first = video("video.mp4", [at(10, 0), at(10, 0, 30)], breaks={1})
    second = video("video-2.mp4", [at(10, 0, 10), at(10, 0, 20)])
    pieces = day.of_day(DayFiles(D, [], [first, second]))
    assert order(pieces) == [("video.mp4", 0, False), ("video-2.mp4", 10, True),
                             ("video-2.mp4", 20, False), ("video.mp4", 30, True)]
    assert [p.number for p in pieces] == [0, 0, 1, 1]


def test_a_camera_restart_is_a_break_even_when_the_clock_runs_on():
    pieces = day.of_day(DayFiles(D, [seg("10-00-00.ts", at(10, 0), 100.0),
                                  seg("10-00-10.ts", at(10, 0, 10), 1.4)]))  # timestamps reset
    assert [p.discontinuity for p in pieces] == [False, True]


def test_a_dst_day_runs_straight_through_the_clock_change():
    date = "2026-03-29"  # London skips 01:00-02:00
    before = at(0, 59, 50, date, LONDON)
    segments = [seg("00-59-50.ts", before, 0.0, date=date),
                seg("02-00-00.ts", before + 10, 10.0, date=date)]
    pieces = day.of_day(DayFiles(date, segments))
    assert [p.start for p in pieces] == [before, before + 10]
    assert [p.discontinuity for p in pieces] == [False, False]


def test_a_run_of_days_crosses_midnight_without_a_break_and_breaks_after_a_video():
    nov21 = "2026-11-21"
    evening = DayFiles(D, [seg("23-59-50.ts", at(23, 59, 50), 0.0)])
    morning = DayFiles(nov21, [seg("00-00-00.ts", at(0, 0, 0, nov21), 10.0, date=nov21)])
    assert [p.discontinuity for p in day.run([evening, morning])] == [False, False]
    compacted = DayFiles(D, [], [video("video.mp4", [at(23, 59, 50)])])
    assert [(p.file, p.discontinuity) for p in day.run([compacted, morning])] == [
        ("video.mp4", False), ("00-00-00.ts", True)]


def test_an_unreadable_segment_is_not_footage():
    broken = Segment(D, "10-00-10.ts", 1000, 0, None, 0.0, at(10, 0, 10), "no sync bytes")
    pieces = day.of_day(DayFiles(D, [seg("10-00-00.ts", at(10, 0), 0.0), broken]))
    assert [p.file for p in pieces] == ["10-00-00.ts"]
