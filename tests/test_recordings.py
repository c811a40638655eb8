"""The on-disk layout: day names, natural order, times in names, completeness, safe paths."""

import datetime as dt
import os
from zoneinfo import ZoneInfo

import pytest

from cctv_server import layout
from cctv_server.errors import BadRequest, Forbidden, NotFound

UTC = ZoneInfo("UTC")
LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize("text", ["2026-02-30", "2026-13-01", "26-01-01", "../etc", "2026-01-01/..", ""])
def test_a_day_outside_the_calendar_is_a_bad_request(text):
    with pytest.raises(BadRequest):
        layout.parse_day(text)


def test_natural_order_compares_numbers_as_numbers():
    names = ["seg10.ts", "seg9.ts", "seg100.ts", "seg1.ts", "Seg2.ts"]
    assert sorted(names, key=layout.natural_key) == [
        "seg1.ts", "Seg2.ts", "seg9.ts", "seg10.ts", "seg100.ts"]


@pytest.mark.parametrize("name,expected", [
    ("14-32-05.ts", "2026-03-29T14:32:05+01:00"),
    ("cam_2026-03-29_14-32-05.ts", "2026-03-29T14:32:05+01:00"),
    ("20260329143205.ts", "2026-03-29T14:32:05+01:00"),
    ("1774791125.ts", "2026-03-29T14:32:05+01:00"),
    ("1774791125000.ts", "2026-03-29T14:32:05+01:00"),
])
def test_a_time_in_the_name_is_read_in_the_roots_zone(name, expected):
    found = layout.time_from_name(name, "2026-03-29", LONDON)
    assert found == dt.datetime.fromisoformat(expected).timestamp()


@pytest.mark.parametrize("name", ["segment_000123.ts", "00017.ts", "25-61-00.ts"])
def test_a_sequence_number_is_not_mistaken_for_a_time(name):
    assert layout.time_from_name(name, "2026-03-29", LONDON) is None


def test_days_at_daylight_saving_changes_last_23_and_25_hours():
    start, end = layout.day_bounds("2026-03-29", LONDON)
    assert end - start == 23 * 3600
    start, end = layout.day_bounds("2026-10-25", LONDON)
    assert end - start == 25 * 3600


def test_listing_ignores_what_is_not_a_day_or_a_segment(tmp_path):
    (tmp_path / "2026-01-01").mkdir()
    (tmp_path / "2026-01-01" / "a.ts").write_bytes(b"x")
    (tmp_path / "2026-01-01" / "notes.txt").write_text("hi")
    (tmp_path / "2026-01-01" / ".a.ts.part").write_bytes(b"x")
    (tmp_path / "2026-01-01" / "video.mp4").write_bytes(b"x")
    (tmp_path / "holiday").mkdir()
    (tmp_path / "index.php").write_text("<?php")
    assert layout.list_days(tmp_path) == ["2026-01-01"]
    segments, videos = layout.list_day(tmp_path / "2026-01-01")
    assert list(segments) == ["a.ts"]
    assert list(videos) == ["video.mp4"]


def test_a_file_held_open_for_writing_is_not_complete(tmp_path):
    path = tmp_path / "a.ts"
    with open(path, "wb") as f:
        f.write(b"\x47" * 188)
        f.flush()
        old = path.stat().st_mtime - 60
        os.utime(path, (old, old))
        assert not layout.is_complete(path, path.stat(), now=old + 60, stable_seconds=3)
    assert layout.is_complete(path, path.stat(), now=old + 60, stable_seconds=3)


def test_a_file_changed_just_now_is_not_complete(tmp_path):
    path = tmp_path / "a.ts"
    path.write_bytes(b"x")
    st = path.stat()
    assert not layout.is_complete(path, st, now=st.st_mtime + 1, stable_seconds=3)
    assert layout.is_complete(path, st, now=st.st_mtime + 4, stable_seconds=3)


def test_resolve_refuses_every_way_out_of_the_root(tmp_path):
    root = tmp_path / "root"
    (root / "2026-01-01").mkdir(parents=True)
    (root / "2026-01-01" / "a.ts").write_bytes(b"x")
    secret = tmp_path / "secret.ts"
    secret.write_bytes(b"secret")
    (root / "2026-01-01" / "link.ts").symlink_to(secret)
    r = layout.Root(root)
    assert r.resolve("2026-01-01", "a.ts").read_bytes() == b"x"
    with pytest.raises(Forbidden):
        r.resolve("2026-01-01", "link.ts")
    for day, name in [("..", "secret.ts"), ("2026-01-01", "../../secret.ts"),
                      ("2026-01-01", "/etc/passwd"), ("2026-01-01", "..")]:
        with pytest.raises((BadRequest, NotFound)):
            r.resolve(day, name)
    with pytest.raises(NotFound):
        r.resolve("2026-01-01", "missing.ts")
