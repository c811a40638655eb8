"""How times, durations and sizes read on the pages."""

from zoneinfo import ZoneInfo

from cctv_server import format

TZ = ZoneInfo("Europe/London")
T = 1_790_000_000.0  # 2026-09-21 15:13:20 +01:00


def test_a_clock_time_names_its_date_only_when_it_is_not_the_days():
    assert format.clock(T, TZ, "2026-09-21") == "15:13:20"
    assert format.clock(T, TZ, "2026-09-20") == "2026-09-21 15:13:20"
    assert format.clock(T, TZ, "") == "2026-09-21 15:13:20"  # e.g. when a day becomes eligible
    assert format.clock(T, TZ) == "15:13:20"
    assert format.clock(None, TZ) == "–"


def test_durations_and_sizes():
    assert [format.duration(s) for s in (9, 245, 3720)] == ["9s", "4m 05s", "1h 02m"]
    assert [format.size(b) for b in (512, 2048, 5 * 2**20)] == ["512 B", "2 KB", "5.0 MB"]
