"""A full disk: the server starts and serves what is on disk, says it is degraded, and catches up."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cctv_server.footage.catalog import Catalog

from .conftest import UTC, tmpfs, wait_until
from .test_web import upload

DAY = "2026-01-01"
NOON = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
ENV = {"CCTV_TIMEZONE": "UTC", "CCTV_STABLE_SECONDS": "0.5", "CCTV_RESCAN_INTERVAL": "2s"}


@pytest.fixture
def tiny_fs(tmp_path):
    """tiny_fs(name) -> the mount point of a new 3 MB tmpfs: a real disk that can be filled."""
    with contextlib.ExitStack() as mounts:
        yield lambda name: mounts.enter_context(tmpfs(tmp_path / name, "3m"))


def fill(folder: Path) -> Path:
    """Write a dotfile until the filesystem refuses even one more byte."""
    filler = folder / ".filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        for chunk in (1 << 16, 1 << 12, 1):
            try:
                while True:
                    os.write(fd, b"\0" * chunk)
            except OSError as err:
                assert err.errno == errno.ENOSPC, err
    finally:
        os.close(fd)
    assert os.statvfs(folder).f_bavail == 0
    return filler


def catalogued(catalog: Path, day: str) -> list[str]:
    """The segment names the catalog file holds for a day, read as another process would."""
    with sqlite3.connect(f"file:{catalog}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT name FROM segment WHERE day = ? ORDER BY name", (day,))
        return [r[0] for r in rows]


def names(srv) -> list[str]:
    response = srv.get(f"/playlist.php?date={DAY}")
    assert response.status_code == 200, response.text
    return [line for line in response.text.splitlines() if line and not line.startswith("#")]


def test_a_full_disk_starts_the_server_degraded_and_it_catches_up_when_space_returns(
        tmp_path, tiny_fs, record, server):
    staged = record(tmp_path / "staging", NOON, 10)
    root = tiny_fs("root")
    upload(staged[:4], root)
    run(root, "status")  # the catalog of an earlier run, as a server that stopped leaves it
    filler = fill(root)
    srv = server(root)  # before: sqlite3.OperationalError: disk I/O error, and no server
    health = srv.get("/healthz")
    assert health.status_code == 200 and health.text.startswith("degraded: ")
    assert "disk full" in health.text
    assert srv.get("/healthz?strict=1").status_code == 503
    index = srv.get("/")
    assert index.status_code == 200 and 'id="problems"' in index.text
    assert "disk full" in index.text and DAY in index.text
    assert names(srv) == [f"{DAY}/{p.name}" for p in staged[:4]]
    assert srv.get(f"/{DAY}/{staged[0].name}").content == staged[0].read_bytes()
    filler.unlink()
    upload(staged[4:5], root)
    wait_until(lambda: srv.get("/healthz").text == "ready\n")
    wait_until(lambda: len(names(srv)) == 5)
    assert 'id="problems"' not in srv.get("/").text
    catalog = root / ".cctv" / "catalog.sqlite3"
    wait_until(lambda: catalogued(catalog, DAY) == sorted(p.name for p in staged[:5]))
    log = srv.log.read_text()
    assert log.count("cannot be written") == 1 and "Traceback" not in log


def test_a_state_dir_that_fills_under_a_running_server_keeps_new_footage_coming(
        tmp_path, tiny_fs, record, server):
    staged = record(tmp_path / "staging", NOON, 10)
    root, state = tmp_path / "root", tiny_fs("state")
    upload(staged[:3], root)
    srv = server(root, CCTV_STATE_DIR=str(state))
    assert srv.get("/healthz").text == "ready\n"
    filler = fill(state)
    for path in staged[3:5]:  # each sync now needs WAL pages the disk does not have
        upload([path], root)
        time.sleep(0.7)
    wait_until(lambda: len(names(srv)) == 5)  # before: the syncs failed, the footage stayed out
    assert "disk full" in srv.get("/healthz").text
    time.sleep(2.5)  # a few more rescans and checks: none of them logs again
    log = srv.log.read_text()
    assert log.count("cannot be written") == 1 and "Traceback" not in log
    filler.unlink()
    wait_until(lambda: srv.get("/healthz").text == "ready\n")
    wait_until(lambda: catalogued(state / "catalog.sqlite3", DAY)
               == sorted(p.name for p in staged[:5]))


def test_the_compactor_starts_on_a_full_disk_and_skips_the_day(tmp_path, tiny_fs, record):
    root = tiny_fs("root")
    record(root, NOON, 8)
    run(root, "status")
    fill(root)
    once = run(root, "compact", "--settle", "0", "--quiet", "0")
    assert once.returncode == 0, once.stderr
    assert f"{DAY}: skipped - not enough disk" in once.stdout
    log = tmp_path / "compactor.log"
    with open(log, "wb") as out:
        # keep_free 0: retention would rightly delete the day of a full disk; this is compaction's
        daemon = subprocess.Popen(cli_argv(root, "compactor", "--settle", "0", "--quiet", "0"),
                                  env=os.environ | ENV | {"CCTV_KEEP_FREE": "0"}, stdout=out,
                                  stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: "skipped, not enough disk" in log.read_text())
        assert daemon.poll() is None, log.read_text()
    finally:
        daemon.terminate()
        assert daemon.wait(10) == 0, log.read_text()
    assert "Traceback" not in log.read_text()
    assert len(list((root / DAY).glob("*.ts"))) == 4


def test_the_catalog_goes_to_memory_on_a_full_disk_and_back_to_its_file(tmp_path, tiny_fs, record):
    root = tiny_fs("root")
    paths = record(root, NOON, 4)
    filler = fill(root)
    catalog = Catalog(root / ".cctv" / "catalog.sqlite3")
    assert catalog.problem is not None and "disk full" in catalog.problem
    catalog.rescan(root, time.time(), 0, UTC)
    assert [s.name for s in catalog.segments(DAY)] == [p.name for p in paths]
    assert not catalog.check()  # still full
    filler.unlink()
    assert catalog.check() and catalog.problem is None and catalog.generation == 1
    catalog.rescan(root, time.time(), 0, UTC)
    assert catalogued(catalog.path, DAY) == [p.name for p in paths]


def cli_argv(root: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "cctv_server.cli", *args, "--root", str(root)]


def run(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(cli_argv(root, *args), env=os.environ | ENV, capture_output=True,
                          text=True, timeout=60)
