"""The layout of a root: day names, natural order, listing, and the only way from a URL to a file."""


import pytest

from cctv_server import layout
from cctv_server.errors import Forbidden, InvalidInput, NotFound


@pytest.mark.parametrize("text", ["2026-02-30", "2026-13-01", "26-01-01", "../etc", "2026-01-01/..", ""])
def test_a_day_outside_the_calendar_is_a_bad_request(text):
    with pytest.raises(InvalidInput):
        layout.parse_day(text)


def test_natural_order_compares_numbers_as_numbers():
    names = ["seg10.ts", "seg9.ts", "seg100.ts", "seg1.ts", "Seg2.ts"]
    assert sorted(names, key=layout.natural_key) == [
        "seg1.ts", "Seg2.ts", "seg9.ts", "seg10.ts", "seg100.ts"]


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
        with pytest.raises((InvalidInput, NotFound)):
            r.resolve(day, name)
    with pytest.raises(NotFound):
        r.resolve("2026-01-01", "missing.ts")
