"""The disk forecast from plain values: the rate before and after compaction, and how long the disk lasts."""

import datetime as dt

import pytest

from cctv_server.footage import timeline
from cctv_server.footage.catalog import Catalog, DaySummary
from cctv_server.retention.forecast import DayBytes, Rate, day_bytes, forecast, rate, raw_days

MB = 1 << 20


def summary(day: str, size: int, videos: int = 0, video_size: int = 0) -> DaySummary:
    return DaySummary(day, 1, 0, 0, 0.0, size, None, None, [], videos, video_size, None)


def test_a_compacted_day_counts_its_compaction_input_as_recorded():
    days = [summary("2026-11-20", 0, 1, 10 * MB), summary("2026-11-21", 100 * MB)]
    rows = {"2026-11-20": {"input_size": 100 * MB}}
    assert day_bytes(days, rows) == [DayBytes("2026-11-20", 100 * MB, 10 * MB),
                                     DayBytes("2026-11-21", 100 * MB)]


def test_the_rate_is_of_whole_days_and_shrinks_by_the_recent_compaction_ratio():
    days = [DayBytes("2026-11-20", 100 * MB, 10 * MB), DayBytes("2026-11-21", 300 * MB),
            DayBytes("2026-11-22", 5 * MB)]  # today: not over, not counted
    assert rate(days, "2026-11-22") == Rate(200 * MB, 20 * MB)
    assert rate([DayBytes("2026-11-22", 5 * MB)], "2026-11-22") is None
    assert rate([DayBytes("2026-11-21", 300 * MB)], "2026-11-22") == Rate(300 * MB, 300 * MB)


def test_the_disk_holds_its_newest_days_as_segments_and_the_rest_as_videos():
    found = forecast([Rate(100 * MB, 10 * MB)], used=400 * MB, free=700 * MB, keep_free=100 * MB,
                     raw_days=3)
    # 1000 MB of room: 3 days of segments (300 MB), then 700 MB of videos (70 days)
    assert found.holds_days == pytest.approx(73)
    assert found.full_in_days == pytest.approx(60)  # 600 MB free beyond keep_free, 10 MB a day
    small = forecast([Rate(100 * MB, 10 * MB)], used=0, free=200 * MB, keep_free=0, raw_days=3)
    assert small.holds_days == pytest.approx(2)
    assert forecast([], used=0, free=MB, keep_free=0, raw_days=3) is None


def test_two_cameras_on_one_disk_fill_it_together():
    found = forecast([Rate(100 * MB, 10 * MB), Rate(100 * MB, 30 * MB)], used=0, free=400 * MB,
                     keep_free=0, raw_days=1)
    assert found.full_in_days == pytest.approx(10) and found.holds_days == pytest.approx(6)


def test_days_kept_as_segments_follow_the_settle():
    assert raw_days(48 * 3600) == 3 and raw_days(0) == 1


def test_the_overview_reads_only_recent_days_and_gets_the_same_rate(tmp_path):
    """A year of days is not read for each camera on each overview: the newest days say it all."""
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    first = dt.date(2026, 9, 1)
    days = [(first + dt.timedelta(days=n)).isoformat() for n in range(60)]
    for n, day in enumerate(days):
        start = timeline.day_bounds(day, dt.timezone.utc)[0]
        with catalog._tx() as tx:  # as bench/catalog_and_serve.py writes a synthetic year
            tx.execute("INSERT INTO segment VALUES (?,?,?,?,?,?,?,?,?)",
                       (day, "a.ts", "a.ts", (n % 7 + 1) * MB, int(start * 1e9), 0, 10.0, start,
                        None))
            catalog._summarise(tx, day, tmp_path / day, None, None)
    recent = catalog.sizes(recent=30)
    assert [d.day for d in recent] == days[::-1][:30]
    today = days[-1]
    assert rate(day_bytes(recent, {}), today) == rate(day_bytes(catalog.days(), {}), today)
    assert catalog.bytes_on_disk() == (sum((n % 7 + 1) * MB for n in range(60)), 0)
