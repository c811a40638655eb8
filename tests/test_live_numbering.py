"""/live.m3u8's sequence numbers survive a restart: never back, and each stays with its segment."""

from __future__ import annotations

import datetime as dt

from cctv_server.footage.catalog import Catalog
from cctv_server.playback.hls import Entry
from cctv_server.playback.playlists import WindowNumbering

from .conftest import UTC, wait_until
from .test_web import upload

DAY = "2026-01-01"
NOON = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def numbers(text: str) -> dict[str, tuple[int, int]]:
    """uri -> (media sequence number, discontinuity sequence number) of each entry."""
    media = disc = 0
    found = {}
    for line in text.splitlines():
        if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            media = int(line.split(":")[1])
        elif line.startswith("#EXT-X-DISCONTINUITY-SEQUENCE:"):
            disc = int(line.split(":")[1])
        elif line == "#EXT-X-DISCONTINUITY":
            disc += 1
        elif line and not line.startswith("#"):
            found[line] = (media, disc)
            media += 1
    return found


def live(srv, last: str) -> dict[str, tuple[int, int]]:
    """The live window once it ends with `last`."""
    return wait_until(lambda: (found := numbers(srv.get("/live.m3u8").text))
                      and list(found)[-1] == f"{DAY}/{last}" and found)


def test_live_numbers_go_on_after_a_restart_and_stay_with_their_segments(tmp_path, record, server):
    before = record(tmp_path / "staging", NOON, 8)
    after = record(tmp_path / "staging", NOON + dt.timedelta(seconds=20), 8)  # a camera restart
    root = tmp_path / "root"
    upload(before, root)
    srv = server(root, CCTV_LIVE_WINDOW="5s")
    seen = [live(srv, before[-1].name)]
    for path in after[:3]:  # the window slides over the break and past it
        upload([path], root)
        seen.append(live(srv, path.name))
    srv.stop()
    again = server(root, CCTV_LIVE_WINDOW="5s")
    seen.append(live(again, after[2].name))
    upload(after[3:], root)
    seen.append(live(again, after[3].name))
    ever: dict[str, tuple[int, int]] = {}
    for window in seen:
        for uri, pair in window.items():
            assert ever.setdefault(uri, pair) == pair, (uri, pair, ever[uri])
    firsts = [next(iter(window.values())) for window in seen]
    assert firsts == sorted(firsts) and firsts[-1][1] >= 1  # never back; the break is counted
    assert len(seen[-2]) > 1 and set(seen[-2]) & set(seen[-3])  # the restart kept entries


def window(*names: str) -> list[Entry]:
    return [Entry(n.lstrip("!"), 2.0, 0.0, n.startswith("!")) for n in names]


def test_the_numbering_is_kept_in_the_catalog_for_the_next_run(tmp_path):
    path = tmp_path / "catalog.sqlite3"
    first = WindowNumbering(Catalog(path))
    first.assign(window("a", "b", "!c"))
    assert first.assign(window("b", "!c", "d")) == (1, 0)
    assert first.assign(window("!c", "d", "e")) == (2, 1)
    restarted = WindowNumbering(Catalog(path))
    assert restarted.assign(window("d", "e", "f")) == (3, 1)  # d kept its numbers
    later = WindowNumbering(Catalog(path))
    assert later.assign(window("x", "y")) == (6, 2)  # nothing known: after the last, never back
