"""The retention policy from plain values: age, size, free space, holds, today and yesterday."""

import datetime as dt

from cctv_server.retention.policy import AGE, FREE, SIZE, DayUsage, Limits, Space, plan

TODAY = dt.date(2026, 11, 27)
GB = 1 << 30


def days(camera: str, count: int, size: int = GB, fs: int = 1, held=()) -> list[DayUsage]:
    """`count` consecutive days of a camera ending today, oldest first."""
    return [DayUsage(camera, d, size, fs, d in held)
            for d in ((TODAY - dt.timedelta(days=n)).isoformat() for n in range(count - 1, -1, -1))]


def gone(result) -> list[tuple[str, str, str]]:
    return [(d.camera, d.day, d.reason) for d in result.deletions]


def test_days_older_than_keep_days_go_oldest_first_and_a_held_one_stays():
    found = plan(days("porch", 10, held={"2026-11-19"}), {"porch": Limits(TODAY, keep_days=7)}, {})
    assert gone(found) == [("porch", "2026-11-18", AGE), ("porch", "2026-11-20", AGE)]


def test_a_camera_over_its_size_loses_its_oldest_days_but_never_today_or_yesterday():
    found = plan(days("porch", 5), {"porch": Limits(TODAY, max_size=int(2.5 * GB))}, {})
    assert gone(found) == [("porch", "2026-11-23", SIZE), ("porch", "2026-11-24", SIZE),
                           ("porch", "2026-11-25", SIZE)]
    found = plan(days("porch", 2), {"porch": Limits(TODAY, max_size=GB // 2)}, {})
    assert gone(found) == []  # only today and yesterday: over, but kept


def test_a_compacted_day_counts_at_its_compacted_size():
    small = [DayUsage("porch", "2026-11-20", GB // 10, 1), *days("porch", 3)]
    assert gone(plan(small, {"porch": Limits(TODAY, max_size=int(3.2 * GB))}, {})) == []  # 3.1 GB


def test_low_free_space_deletes_the_oldest_unheld_days_across_cameras_yesterday_too():
    everything = days("porch", 4, held={"2026-11-25"}) + days("garden", 2)
    found = plan(everything, {"porch": Limits(TODAY), "garden": Limits(TODAY)},
                 {1: Space(free=GB // 2, keep_free=3 * GB)})
    assert gone(found) == [("porch", "2026-11-24", FREE), ("garden", "2026-11-26", FREE),
                           ("porch", "2026-11-26", FREE)]
    assert found.stuck == []


def test_low_free_space_never_deletes_any_cameras_today_nor_a_day_after_it():
    # gate uploaded a day ahead until the disk ran short: nobody's today pays for it
    everything = days("porch", 2) + days("garden", 1) + [DayUsage("gate", "2026-11-28", 5 * GB, 1)]
    lim = {name: Limits(TODAY) for name in ("porch", "garden", "gate")}
    found = plan(everything, lim, {1: Space(free=0, keep_free=4 * GB)})
    assert gone(found) == [("porch", "2026-11-26", FREE)]
    assert found.stuck == [1]  # only today's footage is left: the alarm says so


def test_with_only_held_days_left_nothing_goes_and_the_filesystem_is_stuck():
    found = plan(days("porch", 2, held={"2026-11-26", "2026-11-27"}), {"porch": Limits(TODAY)},
                 {1: Space(free=0, keep_free=GB)})
    assert gone(found) == [] and found.stuck == [1]


def test_age_and_size_deletions_count_towards_free_space_on_their_filesystem():
    found = plan(days("porch", 10), {"porch": Limits(TODAY, keep_days=8)},
                 {1: Space(free=0, keep_free=2 * GB), 2: Space(free=0, keep_free=GB)})
    assert gone(found) == [("porch", "2026-11-18", AGE), ("porch", "2026-11-19", AGE)]
    assert found.stuck == [2]  # nothing of ours lives there
    assert found.reasons() == {AGE: 2 * GB}


def test_each_camera_counts_today_in_its_own_zone_and_the_days_go_oldest_first():
    # garden's zone is a day ahead: its 2026-11-28 is today, its 2026-11-27 yesterday
    garden = [DayUsage("garden", d, GB, 1) for d in ("2026-11-26", "2026-11-27", "2026-11-28")]
    found = plan(days("porch", 3) + garden,
                 {"porch": Limits(TODAY, keep_days=1), "garden": Limits(dt.date(2026, 11, 28), keep_days=1)},
                 {})
    assert gone(found) == [("porch", "2026-11-25", AGE), ("garden", "2026-11-26", AGE)]
