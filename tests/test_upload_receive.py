"""Receiving an uploaded segment on real files: stored once, never replaced, nothing left after a failure."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib

import pytest

from cctv_server.errors import Conflict, InvalidInput, NoSpace, TooLarge, Unprocessable
from cctv_server.upload import receive

from .conftest import UTC, tmpfs

DAY = "2026-11-20"
TODAY = dt.date(2026, 11, 27)


@pytest.fixture
def segments(tmp_path, record):
    return record(tmp_path / "camera", dt.datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC), 4)


async def chunks(data: bytes, size: int = 7000, fail_after: int | None = None):
    for i in range(0, len(data), size):
        if fail_after is not None and i >= fail_after:
            raise ConnectionResetError("the client went away")
        yield data[i : i + size]


def put(day_dir, name, data, limit=1 << 26, **kw):
    return asyncio.run(receive.receive(day_dir, name, chunks(data, **kw), limit))


def leftovers(day_dir) -> list[str]:
    return sorted(p.name for p in day_dir.iterdir()) if day_dir.exists() else []


def test_a_segment_is_stored_under_its_name_with_its_sha256(tmp_path, segments):
    data = segments[0].read_bytes()
    stored = put(tmp_path / DAY, "10-00-00.ts", data)
    assert stored.created and stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert (tmp_path / DAY / "10-00-00.ts").read_bytes() == data
    assert leftovers(tmp_path / DAY) == ["10-00-00.ts"]


def test_the_same_bytes_again_change_nothing_and_other_bytes_are_a_conflict(tmp_path, segments):
    first, other = segments[0].read_bytes(), segments[1].read_bytes()
    put(tmp_path / DAY, "a.ts", first)
    mtime = (tmp_path / DAY / "a.ts").stat().st_mtime_ns
    assert not put(tmp_path / DAY, "a.ts", first).created
    with pytest.raises(Conflict, match="kept as it was"):
        put(tmp_path / DAY, "a.ts", other)
    assert (tmp_path / DAY / "a.ts").read_bytes() == first
    assert (tmp_path / DAY / "a.ts").stat().st_mtime_ns == mtime
    assert leftovers(tmp_path / DAY) == ["a.ts"]


@pytest.mark.parametrize("body, error", [(b"\x00" * 50000, Unprocessable),
                                         (bytes(range(256)) * 200, Unprocessable)])
def test_bytes_that_are_no_segment_are_refused_and_nothing_is_kept(tmp_path, body, error):
    with pytest.raises(error):
        put(tmp_path / DAY, "x.ts", body)
    assert leftovers(tmp_path / DAY) == []


def test_a_body_over_the_limit_or_cut_off_leaves_nothing(tmp_path, segments):
    data = segments[0].read_bytes()
    with pytest.raises(TooLarge):
        put(tmp_path / DAY, "a.ts", data, limit=len(data) - 1)
    with pytest.raises(ConnectionResetError):
        put(tmp_path / DAY, "a.ts", data, fail_after=len(data) // 2)
    assert leftovers(tmp_path / DAY) == []
    with pytest.raises(TooLarge):
        receive.check_length(str(len(data)), len(data) - 1)
    receive.check_length(str(len(data)), len(data))


@pytest.mark.parametrize("name", ["../x.ts", ".hidden.ts", "a b.ts", "a.mp4", "x" * 126 + ".ts",
                                  "ç.ts", "a/b.ts", ""])
def test_a_bad_name_is_refused(name):
    with pytest.raises(InvalidInput):
        receive.check_name(name)


@pytest.mark.parametrize("day, ok", [("2026-11-20", True), ("2026-11-28", True), ("2026-11-29", False),
                                     ("2026-11-19", False), ("2026-02-30", False), ("x", False)])
def test_a_day_must_be_real_and_between_the_backlog_and_tomorrow(day, ok):
    if ok:
        receive.check_day(day, TODAY, backlog_days=7)
    else:
        with pytest.raises(Unprocessable):
            receive.check_day(day, TODAY, backlog_days=7)


def test_temp_files_of_interrupted_uploads_are_swept(tmp_path):
    (tmp_path / DAY).mkdir()
    (tmp_path / DAY / ".a.ts.upload-0123abcd").write_bytes(b"half")
    (tmp_path / DAY / "a.ts").write_bytes(b"kept")
    (tmp_path / DAY / ".other").write_bytes(b"not ours")
    assert [p.name for p in receive.sweep(tmp_path)] == [".a.ts.upload-0123abcd"]
    assert leftovers(tmp_path / DAY) == [".other", "a.ts"]


@pytest.fixture
def tiny_fs(tmp_path):
    with tmpfs(tmp_path / "tiny", "256k") as mount:
        yield mount


def test_a_full_disk_is_no_space_and_leaves_nothing(tiny_fs, segments):
    data = b"".join(p.read_bytes() for p in segments) * 4  # far more than 256 KB
    with pytest.raises(NoSpace):
        put(tiny_fs / DAY, "big.ts", data)
    assert leftovers(tiny_fs / DAY) == []


def test_a_received_segment_is_listed_at_once_and_a_file_copied_in_waits(tmp_path, segments):
    from cctv_server.footage.catalog import Catalog

    root = tmp_path / "root"
    (root / DAY).mkdir(parents=True)
    stored = put(root / DAY, "10-00-00.ts", segments[0].read_bytes())
    (root / DAY / "10-00-02.ts").write_bytes(segments[1].read_bytes())  # by other means, just now
    catalog = Catalog(root / ".cctv" / "catalog.sqlite3")
    now = (root / DAY / "10-00-02.ts").stat().st_mtime
    result = catalog.sync_day(root, DAY, now, 3600, UTC,
                              {"10-00-00.ts": (stored.size, stored.mtime_ns),
                               "10-00-02.ts": (stored.size, stored.mtime_ns)})  # not that file
    assert [s.name for s in catalog.segments(DAY)] == ["10-00-00.ts"]
    assert result.pending == ["10-00-02.ts"]
