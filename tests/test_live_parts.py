"""A live run is joined from each day's rendered part: the same text as rendering the whole run,
and only a day that changed is read again, whichever day the run starts from."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from cctv_server.errors import InvalidInput
from cctv_server.footage.catalog import Catalog
from cctv_server.footage.reader import Footage
from cctv_server.playback import hls
from cctv_server.playback.playlists import H264, ORIGINAL, Playlists, entries, rendition_entries

from .conftest import UTC

T10 = dt.datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
DAYS = ["2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23"]


class CountingFootage(Footage):
    """The real footage model, noting which days each run read."""

    def __init__(self, *args):
        super().__init__(*args)
        self.read: list[str] = []

    def run(self, days: list[str]):
        self.read += days
        return super().run(days)


@pytest.fixture
def root(tmp_path, record):
    """Four days: the first compacted (its fragments must be remuxed to join segments), the
    others in segments, one with a camera restart."""
    from .test_compactor import compact

    root = tmp_path / "root"
    record(root, T10, 6)
    assert compact(root, CCTV_CODEC="copy").returncode == 0
    for n in (1, 2, 3):
        record(root, T10 + dt.timedelta(days=n), 4)
    record(root, T10 + dt.timedelta(days=2, minutes=5), 4)  # a restart: a discontinuity
    return root


def catalogued(root) -> Catalog:
    catalog = Catalog(root / ".cctv" / "catalog.sqlite3")
    catalog.rescan(root, time.time(), 0, UTC, full=True)
    return catalog


def whole(playlists: Playlists, first: int, variant: str) -> bytes:
    """The run rendered in one piece, as before parts existed."""
    footage = playlists.footage
    pieces = Footage(footage.root, footage.catalog).run(DAYS[first:])
    found = (rendition_entries(pieces, playlists.probes.transcoded) if variant == H264
             else entries(pieces))
    return hls.render(found, UTC, playlist_type="EVENT", ended=False, start=0.0).encode()


@pytest.mark.parametrize("variant", [ORIGINAL, H264])
def test_a_joined_live_run_is_the_whole_run_and_reads_only_what_changed(root, record, variant):
    catalog = catalogued(root)
    footage = CountingFootage(root, catalog)
    playlists = Playlists(footage, UTC, 180)

    def run(first: int) -> bytes:
        return playlists.for_day(DAYS[first], True, time.time(), variant).text

    for first in (1, 0, 2):  # runs starting on different days share their days' parts
        assert run(first) == whole(playlists, first, variant)
    assert "#EXT-X-MAP" not in whole(playlists, 0, variant).decode()  # one container: TS
    assert footage.read.count(DAYS[3]) == 1  # read once, for all three runs

    record(root, T10 + dt.timedelta(days=3, minutes=1), 2)  # the newest day records on
    catalog.rescan(root, time.time(), 0, UTC)
    footage.read.clear()
    assert run(0) == whole(playlists, 0, variant)
    assert set(footage.read) <= {DAYS[2], DAYS[3]}  # the newest day, with the one before it


def test_a_live_run_longer_than_live_max_days_is_refused_naming_the_first_allowed_day(root):
    playlists = Playlists(Footage(root, catalogued(root)), UTC, 180, live_max_days=3)
    with pytest.raises(InvalidInput, match=r"live_max_days \(3\): start at 2026-11-21 or later"):
        playlists.for_day(DAYS[0], True, time.time())
    assert playlists.for_day(DAYS[1], True, time.time()).text.count(b"#EXTINF") == 8
