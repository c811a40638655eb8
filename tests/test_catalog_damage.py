"""A catalog deleted or damaged under a running server is rebuilt from the recordings, as a start would."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import time

from cctv_server.footage.catalog import Catalog

from .conftest import UTC, wait_until

DAYS = ("2026-01-01", "2026-01-02")
ROUTES = ["/", "/index.php", "/healthz", "/live.m3u8", "/playlist.php?date=2026-01-02",
          *(f"/playlist.php?date={d}" for d in DAYS), f"/playlist.php?date={DAYS[0]}&live=1",
          *(f"/api/day/{d}" for d in DAYS), f"/day/{DAYS[0]}", f"/{DAYS[0]}/12-00-00.ts"]
PLAYLISTS = [r for r in ROUTES if r.startswith("/playlist") or r.startswith("/api/")]


def answers(srv, seen: set[int]) -> dict[str, tuple[int, str]]:
    """Every route's status and, for the playlists and the day API, its body."""
    found = {}
    for route in ROUTES:
        response = srv.get(route)
        seen.add(response.status_code)
        found[route] = (response.status_code, response.text if route in PLAYLISTS else "")
    return found


def recorded_days(path) -> list[str]:
    """The days the catalog file holds; none while it is still the garbage the test wrote (the
    answers may already be right from the playlists' caches before the server notices)."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            return [r[0] for r in db.execute("SELECT day FROM day ORDER BY day")]
    except sqlite3.DatabaseError:
        return []


def test_a_catalog_deleted_then_overwritten_under_a_running_server_is_rebuilt(
        tmp_path, record, server):
    root = tmp_path / "root"
    for day in DAYS:
        record(root, dt.datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC), 6)
    srv = server(root)
    seen: set[int] = set()
    before = answers(srv, seen)
    assert all(status == 200 for status, _ in before.values()), before
    catalog = root / ".cctv" / "catalog.sqlite3"

    for suffix in ("", "-wal", "-shm"):
        os.unlink(f"{catalog}{suffix}")
    time.sleep(0.5)  # some requests, before the check notices
    answers(srv, seen)
    wait_until(lambda: answers(srv, seen) == before and catalog.exists()
               and recorded_days(catalog) == list(DAYS), timeout=60)  # a poll is 12 requests

    damaged = root / ".cctv" / "catalog.sqlite3.damaged"

    def overwritten_and_noticed() -> bool:
        """Garbage in place: the same inode, no SQLite any more. Again until the server notices:
        a checkpoint of its WAL can write the header back first, and the file is SQLite again."""
        if not damaged.is_file():
            catalog.write_bytes(os.urandom(64 * 1024))
            time.sleep(0.5)
            answers(srv, seen)
        return damaged.is_file()

    wait_until(overwritten_and_noticed, timeout=60)
    wait_until(lambda: answers(srv, seen) == before and recorded_days(catalog) == list(DAYS),
               timeout=60)
    assert seen <= {200, 503}  # 503 with Retry-After at worst while the new catalog fills: no
    # 500, and no 404 for a day that is on disk but not catalogued yet
    log = srv.log.read_text()
    assert "was deleted while in use" in log and "Traceback" not in log


def test_check_tells_a_deleted_a_replaced_and_a_damaged_file(tmp_path, record):
    root = tmp_path / "root"
    record(root, dt.datetime(2026, 1, 1, 12, tzinfo=UTC), 4)
    path = root / ".cctv" / "catalog.sqlite3"
    catalog = Catalog(path)
    catalog.rescan(root, time.time(), 0, UTC)
    assert not catalog.check() and catalog.generation == 0

    path.unlink()
    assert catalog.check() and catalog.generation == 1
    assert catalog.days() == []  # a fresh database, which the caller's rescan fills
    catalog.rescan(root, time.time(), 0, UTC)

    other = tmp_path / "other.sqlite3"
    Catalog(other)
    os.replace(other, path)
    assert catalog.check() and catalog.generation == 2

    with open(path, "r+b") as f:
        f.write(b"not a database at all")
    assert catalog.check() and catalog.generation == 3
    catalog.rescan(root, time.time(), 0, UTC)
    assert [d.day for d in catalog.days()] == [DAYS[0]]
    assert path.with_name("catalog.sqlite3.damaged").read_bytes().startswith(b"not a database")


def test_a_damaged_catalog_found_at_start_is_moved_aside_and_rebuilt(tmp_path, record, server):
    root = tmp_path / "root"
    record(root, dt.datetime(2026, 1, 1, 12, tzinfo=UTC), 4)
    (root / ".cctv").mkdir()
    (root / ".cctv" / "catalog.sqlite3").write_bytes(b"\x00garbage" * 1000)
    srv = server(root)  # before: sqlite3.DatabaseError: file is not a database
    assert srv.get("/healthz").text == "ready\n"
    assert srv.get(f"/playlist.php?date={DAYS[0]}").status_code == 200
