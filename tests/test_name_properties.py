"""Property: whatever file and folder names sit in a root beside good segments, the catalog, the
playlists and the compactor never raise, the good segments stay listed, a name that cannot be
served stays on disk, and every URI a playlist lists fetches its file from the real server."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from pathlib import Path
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cctv_server import config, demo, layout
from cctv_server.compaction import daemon
from cctv_server.media import ffmpeg

from . import hlscheck
from .conftest import FPS, SEGMENT, SIZE, Server, wait_until

PIECES = [b"a", b"Z", b"0", b"9", b"-", b"_", b".", b" ", b"#", b"?", b"%", b"%2F", b"%00", b"&",
          b"+", b";", b"=", b"'", b'"', b"\\", b"\n", b"\r", b"\t", b"\x1b", b"\x7f", b"\xc2\x85",
          b"\xff", b"\xfe\xfe", b"\xc3\xa9", b"\xe2\x80\xa8", b"\xed\xa0\x80", b"\xf0\x9f\x93\xb9",
          b"..", b"video", b"12-00-04", b"x" * 120]
NAMES = st.builds(
    lambda parts, suffix: b"".join(parts)[:240] + suffix,
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=10),
    st.sampled_from([b".ts", b".ts", b".ts", b"", b".mp4", b".sha512sum", b".TS"]),
)
FOLDERS = st.one_of(
    st.sampled_from([b"9999-12-31", b"0001-01-01", b"1969-12-31", b"2026-02-30", b"2026-1-1"]),
    NAMES.filter(lambda name: layout.day_date(os.fsdecode(name)) is None),
)
FIRST = dt.date(2025, 1, 1)


class Rig:
    """One root, one running server and a compactor, reused by every example: each example
    gets a day folder of its own."""

    def __init__(self, root: Path, good: list[Path], srv: Server):
        self.root, self.good, self.srv = root, good, srv
        self.settings = config.load(env={}, flags={
            "root": str(root), "timezone": "UTC", "stable_seconds": "0", "codec": "copy",
            "quality_sample": "false", "min_free": "0"})
        self.compactor = daemon.make_compactor(self.settings)
        self.days = 0

    def new_day(self, files: list[bytes]) -> str:
        """A day folder of two good segments and these names, moved in whole."""
        day = (FIRST + dt.timedelta(days=self.days)).isoformat()
        self.days += 1
        staging = self.root / f".{day}"
        staging.mkdir()
        for path in self.good[:2]:
            shutil.copy2(path, staging / path.name)
        for i, name in enumerate(files):
            shutil.copy2(self.good[2 + i % 2], os.fsencode(staging) + b"/" + name)
        os.rename(staging, self.root / day)
        return day


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("names")
    start = dt.datetime(2024, 6, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
    good = demo.record(ffmpeg.locate(), tmp / "staging", start, 4 * SEGMENT, segment=SEGMENT,
                       size=SIZE, fps=FPS)
    (tmp / "root").mkdir()
    srv = Server(tmp / "root", tmp, {"CCTV_STABLE_SECONDS": "0"}).start()
    yield Rig(tmp / "root", good, srv)
    srv.stop()


def _listed(srv: Server, day: str) -> list[str]:
    response = srv.get(f"/playlist.php?date={day}")
    return hlscheck.check(response.text).uris if response.status_code == 200 else []


def _fetch_every_uri(srv: Server, root: Path, query: str) -> list[str]:
    response = srv.get(f"/playlist.php?{query}")
    assert response.status_code == 200, response.text
    uris = hlscheck.check(response.text).uris
    for uri in uris:
        got = srv.get("/" + uri)
        assert got.status_code == 200, uri
        assert got.content == (root / unquote(uri)).read_bytes(), uri
    return uris


@settings(max_examples=5, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(files=st.lists(NAMES, min_size=1, max_size=3, unique=True), folder=FOLDERS)
@example(files=[b"bad\xff.ts", b"two\nlines.ts", b"a#b?c%d e.ts"], folder=b"9999-12-31")
@example(files=[b"video.mp4", b"\xe2\x80\xa8.ts", b"12-00-04'%2F.ts"], folder=b"\xff\n")
def test_no_name_breaks_the_catalog_the_playlists_or_the_compactor(rig, files, folder):
    (rig.root / os.fsdecode(folder)).mkdir(exist_ok=True)
    shutil.copy2(rig.good[0], os.fsencode(rig.root) + b"/" + folder + b"/12-00-00.ts")
    day = rig.new_day(files)
    good = [f"{day}/{p.name}" for p in rig.good[:2]]
    wait_until(lambda: set(good) <= set(_listed(rig.srv, day)))
    uris = _fetch_every_uri(rig.srv, rig.root, f"date={day}")
    _fetch_every_uri(rig.srv, rig.root, f"date={day}&live=1")
    for path in ("/", f"/api/day/{day}", f"/day/{day}", "/live.m3u8", "/healthz"):
        assert rig.srv.get(path).status_code == 200, path
    unservable = [n for n in files if layout.name_problem(os.fsdecode(n))]
    assert not {unquote(u) for u in uris} & {f"{day}/{os.fsdecode(n)}" for n in unservable}
    daemon.candidates(rig.compactor, 0, time.time())
    outcome = rig.compactor.compact_day(day)
    assert outcome.status == "compacted", outcome
    left = set(os.listdir(os.fsencode(rig.root / day)))
    assert set(unservable) <= left  # no input, so never deleted
    assert not {p.name.encode() for p in rig.good[:2]} & left
    assert "Traceback" not in rig.srv.log.read_text(errors="replace")
