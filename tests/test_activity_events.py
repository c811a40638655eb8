"""Events from per-second activity: plain values in, stretches out."""

from cctv_server.activity import events
from cctv_server.activity.events import Event


def test_seconds_above_the_threshold_make_one_padded_event_with_its_peak():
    seconds = {s: 0.0 for s in range(100)} | {40: 1.0, 41: 3.0, 42: 2.0}
    assert events.find(seconds, 0.5, "porch", "2026-11-20") == [
        Event("porch", "2026-11-20", 37.0, 46.0, 41, 3.0)]


def test_a_short_pause_joins_two_stretches_and_a_long_one_does_not():
    seconds = {10: 1.0, 11: 1.0, 16: 2.0, 40: 1.0, 41: 1.5}
    found = events.find(seconds, 0.5, pause=6, pad=2)
    assert [(e.start, e.end, e.peak) for e in found] == [(8.0, 19.0, 16), (38.0, 44.0, 41)]


def test_one_second_alone_above_the_threshold_is_no_event():
    # what an encoder catching up with skipped blocks looks like on a small picture (1.0-1.6%
    # for one second on 3 of 25 of the bench's 320x180 light days); one more second makes one
    seconds = {s: 0.3 for s in range(60)} | {30: 1.6}
    assert events.find(seconds, 1.0) == []
    assert len(events.find(seconds | {34: 1.0}, 1.0)) == 1


def test_nothing_above_the_threshold_is_no_event():
    assert events.find({s: 0.4 for s in range(60)}, 0.5) == []


def test_overlapping_keeps_events_that_touch_the_range():
    a, b = Event("c", "d", 0, 10, 5, 1), Event("c", "d", 20, 30, 25, 1)
    assert events.overlapping([a, b], 9, 20) == [a]


def test_the_heat_strip_keeps_the_highest_of_each_step_and_none_where_nothing_was_measured():
    assert events.heat({100: 0.5, 101: 2.0, 125: 1.0, 400: 9.0}, 100, 160, 20) == [2.0, 1.0, None]
