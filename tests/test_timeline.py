"""A day's bounds, clock times from names, and placing segments on the wall clock, from plain values."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from cctv_server.footage import timeline
from cctv_server.footage.timeline import CLOCK, WRAP, Segment, gaps, place

LONDON = ZoneInfo("Europe/London")

T0 = 1_800_000_000.0


def seg(name, pts, duration=10.0, name_time=None, mtime=None, error=None, day="2027-01-15"):
    mtime_ns = int((mtime if mtime is not None else T0) * 1e9)
    return Segment(day, name, 100, mtime_ns, pts, duration, name_time, error)


def test_continuous_timestamps_run_on_from_the_first_start():
    placed = list(place([seg("1.ts", 0, mtime=T0 + 10), seg("2.ts", 10 * CLOCK, mtime=T0 + 999)]))
    assert [p.start for p in placed] == [T0, T0 + 10]
    assert [p.discontinuity for p in placed] == [False, False]


def test_a_camera_restart_is_a_discontinuity_placed_by_its_name():
    placed = list(place([seg("a", 50 * CLOCK, name_time=T0), seg("b", 1 * CLOCK, name_time=T0 + 300)]))
    assert placed[1].discontinuity
    assert placed[1].start == T0 + 300
    assert [(g.start, g.end) for g in gaps([(p.start, p.end) for p in placed])] == [(T0 + 10, T0 + 300)]


def test_a_missing_segment_is_a_discontinuity_even_without_times_in_names():
    placed = list(place([seg("1", 0, mtime=T0 + 10), seg("3", 20 * CLOCK, mtime=T0 + 30)]))
    assert placed[1].discontinuity
    assert placed[1].start == T0 + 20


def test_timestamps_that_wrap_at_33_bits_still_follow():
    first = WRAP - 5 * CLOCK
    placed = list(place([seg("1", first, name_time=T0), seg("2", 5 * CLOCK, name_time=T0 + 10)]))
    assert not placed[1].discontinuity


def test_unreadable_segments_are_left_out():
    placed = list(place([seg("1", 0, name_time=T0), seg("2", None, error="bad"), seg("3", 10 * CLOCK)]))
    assert [p.segment.name for p in placed] == ["1", "3"]
    assert not placed[1].discontinuity


def test_the_previous_days_last_segment_carries_across_midnight():
    yesterday = list(place([seg("23-59-50.ts", 0, name_time=T0, day="2027-01-14")]))
    today = list(place([seg("x.ts", 10 * CLOCK, mtime=T0 + 500)], yesterday[-1]))
    assert today[0].start == T0 + 10
    assert not today[0].discontinuity


def test_gaps_are_measured_across_overlapping_and_unordered_footage():
    spans = [(T0 + 100, T0 + 110), (T0, T0 + 50), (T0 + 40, T0 + 60)]
    assert [(g.start, g.end) for g in gaps(spans)] == [(T0 + 60, T0 + 100)]


@pytest.mark.parametrize("name,expected", [
    ("14-32-05.ts", "2026-03-29T14:32:05+01:00"),
    ("cam_2026-03-29_14-32-05.ts", "2026-03-29T14:32:05+01:00"),
    ("20260329143205.ts", "2026-03-29T14:32:05+01:00"),
    ("1774791125.ts", "2026-03-29T14:32:05+01:00"),
    ("1774791125000.ts", "2026-03-29T14:32:05+01:00"),
])
def test_a_time_in_the_name_is_read_in_the_roots_zone(name, expected):
    found = timeline.time_from_name(name, "2026-03-29", LONDON)
    assert found == dt.datetime.fromisoformat(expected).timestamp()


@pytest.mark.parametrize("name", ["segment_000123.ts", "00017.ts", "25-61-00.ts"])
def test_a_sequence_number_is_not_mistaken_for_a_time(name):
    assert timeline.time_from_name(name, "2026-03-29", LONDON) is None


def test_days_at_daylight_saving_changes_last_23_and_25_hours():
    start, end = timeline.day_bounds("2026-03-29", LONDON)
    assert end - start == 23 * 3600
    start, end = timeline.day_bounds("2026-10-25", LONDON)
    assert end - start == 25 * 3600
