"""When a day may be compacted, in what order, how failures back off, and what state a day shows."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from cctv_server.compaction import schedule

LONDON = ZoneInfo("Europe/London")
UTC = ZoneInfo("UTC")
HOUR = 3600.0


def at(text: str, tz: ZoneInfo = UTC) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=tz).timestamp()


def test_a_day_is_eligible_settle_after_its_end():
    assert schedule.eligible_at("2024-05-01", UTC, 48 * HOUR, HOUR, None) == at("2024-05-04T00:00")


def test_the_settle_counts_from_the_real_end_of_a_23_hour_day():
    # 2024-03-31 in London is 23 hours long: it ends at 23:00 UTC
    found = schedule.eligible_at("2024-03-31", LONDON, 48 * HOUR, HOUR, None)
    assert found == at("2024-04-02T23:00")
    assert found - at("2024-03-31T00:00", LONDON) == 23 * HOUR + 48 * HOUR


def test_the_settle_counts_from_the_real_end_of_a_25_hour_day():
    found = schedule.eligible_at("2024-10-27", LONDON, 48 * HOUR, HOUR, None)
    assert found == at("2024-10-30T00:00")
    assert found - at("2024-10-27T00:00", LONDON) == 25 * HOUR + 48 * HOUR


def test_a_late_segment_restarts_the_quiet_period():
    arrival = at("2024-05-03T23:30")
    assert schedule.eligible_at("2024-05-01", UTC, 48 * HOUR, HOUR, arrival) == arrival + HOUR


def test_settle_zero_means_now_even_when_a_segment_just_arrived():
    arrival = at("2024-05-10T12:00")
    assert schedule.eligible_at("2024-05-01", UTC, 0, HOUR, arrival) == arrival


def test_a_day_that_has_not_ended_is_not_due():
    cand = schedule.candidate("2024-05-01", UTC, 0, HOUR, None)
    assert schedule.due([cand], at("2024-05-01T23:59:59")) == []
    assert schedule.due([cand], at("2024-05-02T00:00")) == ["2024-05-01"]


def test_due_days_come_oldest_first_and_wakeup_is_the_nearest_future_one():
    now = at("2024-05-10T00:00")
    cands = [schedule.Candidate("2024-05-03", now - 5), schedule.Candidate("2024-05-01", now - 1),
             schedule.Candidate("2024-05-09", now + 70), schedule.Candidate("2024-05-08", now + 30)]
    assert schedule.due(cands, now) == ["2024-05-01", "2024-05-03"]
    assert schedule.next_wakeup(cands, now) == now + 30


def test_a_failed_day_waits_for_its_retry_time():
    cand = schedule.candidate("2024-05-01", UTC, 0, HOUR, None, retry_at=at("2024-06-01T00:00"))
    assert schedule.due([cand], at("2024-05-31T23:00")) == []


def test_backoff_doubles_up_to_a_day():
    assert [schedule.backoff(n) for n in range(4)] == [0, 300, 600, 1200]
    assert schedule.backoff(30) == schedule.BACKOFF_MAX


def state(**kw):
    base = dict(segments=0, videos=0, video_size=0, row=None, ready_at=None, now=1000.0,
                clock=lambda s: f"T{s:.0f}", size=lambda b: f"{b}B")
    return schedule.day_state(**(base | kw))


def test_each_state_reads_as_the_page_shows_it():
    assert state(segments=5, ready_at=2000.0).text == "waiting (eligible at T2000)"
    assert state(segments=5, ready_at=10.0).text == "segments only"
    assert state(segments=5, row={"state": "compacting", "percent": 42.4, "updated": 990.0}).text \
        == "compacting (42%)"
    assert state(videos=1, video_size=100, row={"state": "compacted", "ratio": 10.5}).text \
        == "compacted (100B, 10.5x smaller)"
    failed = state(segments=5, row={"state": "failed", "reason": "disk full", "retry_at": 1300.0})
    assert failed.kind == "failed" and failed.text == "failed (disk full, retry at T1300)"


def test_a_compacting_row_left_by_a_dead_process_is_not_shown_as_compacting():
    found = state(segments=5, ready_at=10.0, row={"state": "compacting", "updated": 1.0})
    assert found.kind == "segments only"


def test_a_compacted_day_shows_its_last_compactions_report_beside_its_videos_size():
    row = {"state": "compacted", "input_size": 1000, "output_size": 100, "ratio": 10.0,
           "realtime": 5.0, "ssim": 0.98}
    assert state(videos=1, video_size=100, row=row).text \
        == "compacted (1000B → 100B, 10.0x smaller, 5.0x realtime, SSIM 0.980)"
    assert state(videos=2, video_size=300, row=row | {"ssim": None}).text \
        == "compacted (300B, last 1000B → 100B, 10.0x smaller, 5.0x realtime)"
