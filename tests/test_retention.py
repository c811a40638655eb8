"""Retention end to end: the real commands, server and compactor on real day folders, a really full disk."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from cctv_server import config, layout
from cctv_server.compaction import daemon
from cctv_server.footage.catalog import Catalog
from cctv_server.retention import run

from .conftest import UTC, wait_until
from .test_full_disk import tiny_fs  # noqa: F401  (a fixture)

TODAY = dt.datetime.now(UTC).date()
ENV = {"CCTV_TIMEZONE": "UTC", "CCTV_STABLE_SECONDS": "0", "CCTV_SETTLE": "30d",
       "CCTV_QUALITY_SAMPLE": "false"}


def ago(days: int) -> str:
    return (TODAY - dt.timedelta(days=days)).isoformat()


@pytest.fixture(scope="module")
def footage(tmp_path_factory, ffmpeg_bin) -> list[Path]:
    """Two real 2-s segments, copied into every day folder a test makes."""
    from cctv_server import demo

    staging = tmp_path_factory.mktemp("footage")
    return demo.record(ffmpeg_bin, staging, dt.datetime(2026, 1, 1, 10, tzinfo=UTC), 4,
                       segment=2.0, size="160x90", fps=10)


def make_days(root: Path, footage: list[Path], ages: range) -> list[str]:
    days = [ago(n) for n in ages]
    for day in days:
        (root / day).mkdir(parents=True)
        for path in footage:
            shutil.copy(path, root / day / path.name)
    return sorted(days)


def cli(*args: str, env: dict | None = None, config_file: Path | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "cctv_server.cli"]
    command += ["--config", str(config_file)] if config_file else []
    return subprocess.run([*command, *args], env=os.environ | ENV | (env or {}),
                          capture_output=True, text=True, timeout=timeout)


def days_in(root: Path) -> list[str]:
    return layout.list_days(root)


def audit(state: Path) -> list[dict]:
    path = state / "audit.log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def day_size(root: Path, day: str) -> int:
    return run.size_on_disk(root / day)


# --- each setting, from the environment and from a config file -------------------------------

SETTINGS = {  # setting -> (value, for a week of days with the one 5 days ago held: days deleted)
    "keep_days": (lambda size: "3", [6, 4, 3]),
    "max_size": (lambda size: str(int(3.5 * size)), [6, 4, 3, 2]),  # the held day counts
}


@pytest.mark.parametrize("source", ["environment", "file"])
@pytest.mark.parametrize("setting", sorted(SETTINGS))
def test_each_setting_from_the_environment_or_a_config_file_deletes_whole_days_oldest_first(
        tmp_path, footage, source, setting):
    root = tmp_path / "root"
    days = make_days(root, footage, range(6, -1, -1))
    assert cli("hold", "--root", str(root), ago(5), "--reason", "case 1").returncode == 0
    assert cli("status", "--root", str(root)).returncode == 0  # the catalog, as a server keeps it
    value, gone = SETTINGS[setting]
    value = value(day_size(root, ago(0)))
    toml = tmp_path / "cctv.toml"
    toml.write_text(f'{setting} = "{value}"\n')
    found = cli("retention", "--root", str(root),
                env={f"CCTV_{setting.upper()}": value} if source == "environment" else {},
                config_file=toml if source == "file" else None)
    assert found.returncode == 0, found.stderr
    deleted = sorted(ago(n) for n in gone)
    reason = {"keep_days": "age", "max_size": "size"}[setting]
    assert days_in(root) == sorted(set(days) - set(deleted))
    assert [line.split(":")[0] for line in found.stdout.splitlines() if line.startswith("deleted")] \
        == [f"deleted {d}" for d in deleted]
    assert all(f"{reason} (" in line for line in found.stdout.splitlines() if line.startswith("deleted"))
    assert not list(root.glob(".deleting-*"))
    records = [r for r in audit(root / ".cctv") if r["event"] == "retention-delete"]
    assert [(r["day"], r["reason"]) for r in records] == [(d, reason) for d in deleted]
    assert all(r["bytes"] == day_size(root, ago(0)) for r in records)
    catalog = Catalog(config.load(env={}, flags={"root": root}).catalog_path)
    assert [d.day for d in reversed(catalog.days())] == sorted(set(days) - set(deleted))


@pytest.mark.parametrize("source", ["environment", "file"])
def test_keep_free_from_the_environment_or_a_file_empties_a_disk_that_can_never_have_enough(
        tmp_path, footage, source):
    root = tmp_path / "root"
    days = make_days(root, footage, range(3, -1, -1))
    assert cli("hold", "--root", str(root), ago(3), "--reason", "case 2").returncode == 0
    toml = tmp_path / "cctv.toml"
    toml.write_text('keep_free = "99.9%"\n')
    before = sorted(str(p) for p in root.rglob("*"))
    found = cli("retention", "--root", str(root), "--dry-run",
                env={"CCTV_KEEP_FREE": "99.9%"} if source == "environment" else {},
                config_file=toml if source == "file" else None)
    assert found.returncode == 1  # still short with only the held day and today left: the alarm
    assert "ALARM" in found.stderr
    would = [line for line in found.stdout.splitlines() if line.startswith("would delete")]
    assert [line.split(":")[0] for line in would] == [f"would delete {d}" for d in days[1:-1]]
    assert all("free space (" in line and "frees" in line for line in would)
    assert sorted(str(p) for p in root.rglob("*")) == before  # a dry run deletes nothing
    assert not any(r["event"] == "retention-delete" for r in audit(root / ".cctv"))


def test_a_camera_s_own_keep_days_outranks_the_file_s_and_the_others_keep_theirs(tmp_path, footage):
    porch, garden = tmp_path / "porch", tmp_path / "garden"
    make_days(porch, footage, range(5, -1, -1))
    make_days(garden, footage, range(5, -1, -1))
    toml = tmp_path / "cctv.toml"
    toml.write_text(f'keep_days = 4\n[cameras.porch]\nroot = "{porch}"\nkeep_days = 2\n'
                    f'[cameras.garden]\nroot = "{garden}"\n')
    dry = cli("retention", "--dry-run", config_file=toml)
    assert dry.returncode == 0, dry.stderr
    assert days_in(porch) == [ago(n) for n in range(5, -1, -1)]
    found = cli("retention", config_file=toml)
    assert found.returncode == 0, found.stderr
    assert days_in(porch) == [ago(1), ago(0)]
    assert days_in(garden) == [ago(n) for n in range(3, -1, -1)]
    assert dry.stdout.splitlines()[:4] == [line.replace("deleted", "would delete").replace("freed", "frees")
                                           for line in found.stdout.splitlines()[:4]]
    records = audit(tmp_path / ".cctv")  # the server's state: beside the cameras' roots
    assert sorted((r["camera"], r["day"]) for r in records) == sorted(
        [("porch", ago(n)) for n in (5, 4, 3, 2)] + [("garden", ago(n)) for n in (5, 4)])


# --- holds ---------------------------------------------------------------------------------

def test_hold_release_and_holds_on_several_cameras_are_audited(tmp_path, footage):
    porch, garden = tmp_path / "porch", tmp_path / "garden"
    make_days(porch, footage, range(2, 0, -1))
    make_days(garden, footage, range(1, 0, -1))
    cams = ["--camera", f"porch={porch}", "--camera", f"garden={garden}"]
    held = cli("hold", *cams, ago(2), "--reason", "break-in at the gate")
    assert held.returncode == 0, held.stderr
    assert held.stdout.splitlines() == [f"held porch {ago(2)}: break-in at the gate"]  # garden has none
    assert cli("hold", *cams, ago(1), "--reason", "van", "--allow-compaction").returncode == 0
    listed = cli("holds", *cams).stdout.splitlines()
    assert [line.split(" (")[0] for line in listed] == [
        f"garden {ago(1)}: van", f"porch {ago(2)}: break-in at the gate", f"porch {ago(1)}: van"]
    assert "compaction allowed" in listed[0] and "by cli:" in listed[1]
    assert cli("hold", *cams, ago(2), "--reason", " ").returncode == 1
    assert "no camera has recordings" in cli("hold", *cams, ago(9), "--reason", "x").stderr
    assert cli("hold", *cams, "2026-02-30", "--reason", "x").returncode == 2
    released = cli("release", *cams, "--camera", "porch", ago(1))
    assert released.stdout.splitlines() == [f"released {ago(1)}"]
    assert (garden / ago(1) / ".hold.json").exists()
    assert "is not held" in cli("release", *cams, "--camera", "porch", ago(1)).stderr
    records = audit(tmp_path / ".cctv")
    assert [(r["event"], r["camera"], r["day"]) for r in records] == [
        ("hold", "porch", ago(2)), ("hold", "garden", ago(1)), ("hold", "porch", ago(1)),
        ("release", "porch", ago(1))]
    assert records[0]["reason"] == "break-in at the gate" and records[1]["allow_compaction"]


def test_a_held_day_keeps_its_segments_unless_its_hold_allows_compaction(tmp_path, footage):
    root = tmp_path / "root"
    make_days(root, footage, range(3, 0, -1))
    assert cli("hold", "--root", str(root), ago(3), "--reason", "evidence").returncode == 0
    assert cli("hold", "--root", str(root), ago(2), "--reason", "evidence too",
               "--allow-compaction").returncode == 0
    found = cli("compact", "--root", str(root), "--settle", "0", "--quiet", "0",
                env={"CCTV_CODEC": "copy", "CCTV_KEEP_FREE": "0"})
    assert found.returncode == 0, found.stderr
    assert sorted(p.name for p in (root / ago(3)).glob("*.ts")) == [p.name for p in footage]
    assert not (root / ago(3) / "video.mp4").exists()
    assert f"{ago(3)}: held, so its segments are kept" in found.stderr
    for day in (ago(2), ago(1)):  # held with compaction allowed, and not held
        assert (root / day / "video.mp4").is_file() and not list((root / day).glob("*.ts"))
    assert (root / ago(2) / ".hold.json").exists()


# --- a really full disk ----------------------------------------------------------------------

def fill_to(folder: Path, free: int) -> Path:
    """A dotfile (no recording) that leaves `free` bytes free."""
    st = os.statvfs(folder)
    filler = folder / f".filler-{len(list(folder.glob('.filler*')))}"
    filler.write_bytes(b"\0" * max(0, st.f_bavail * st.f_frsize - free))
    return filler


def test_a_full_disk_makes_the_compactor_delete_the_oldest_days_but_never_a_held_one(
        tmp_path, footage, tiny_fs, server):  # noqa: F811
    root, state = tiny_fs("root"), tmp_path / "state"
    days = make_days(root, footage, range(5, -1, -1))
    env = {"CCTV_KEEP_FREE": "1MB", "CCTV_STATE_DIR": str(state)}
    assert cli("hold", "--root", str(root), ago(5), "--reason", "evidence", env=env).returncode == 0
    srv = server(root, **env)
    assert 'id="emergency"' not in srv.get("/").text
    size = day_size(root, ago(0))
    fill_to(root, (1 << 20) - int(2.5 * size))  # three days short of keep_free, not two
    page = srv.get("/").text
    assert 'id="emergency"' in page and "Disk almost full" in page and "Only held" not in page
    assert "cctv_retention_emergency{mountpoint=\"%s\"} 1.0" % root in srv.get("/metrics").text
    log = tmp_path / "compactor.log"
    with open(log, "wb") as out:
        compactor = subprocess.Popen(
            [sys.executable, "-m", "cctv_server.cli", "compactor", "--root", str(root)],
            env=os.environ | ENV | env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: days_in(root) == [ago(5), ago(1), ago(0)], timeout=30)
    finally:
        compactor.terminate()
        assert compactor.wait(30) == 0, log.read_text()
    text = log.read_text()
    assert "EMERGENCY" in text and "Traceback" not in text
    records = audit(state)  # state_dir: where the server's audit log is too
    assert [(r["day"], r["reason"], r["by"]) for r in records if r["event"] == "retention-delete"] \
        == [(ago(n), "free space", "compactor") for n in (4, 3, 2)]
    assert 'id="emergency"' not in srv.get("/").text
    fill_to(root, 0)  # now even the newest days cannot make enough room
    found = cli("retention", "--root", str(root), env=env)
    assert found.returncode == 1 and "ALARM" in found.stderr
    assert days_in(root) == [ago(5), ago(0)]  # yesterday went too; the held one and today never
    assert sorted(p.name for p in (root / ago(5)).iterdir()) == [".hold.json", *(p.name for p in footage)]
    wait_until(lambda: "Only held days are left" in srv.get("/").text)  # once it has rescanned
    assert set(days) - set(days_in(root)) == {ago(n) for n in range(4, 0, -1)}


def test_the_daemon_looks_again_as_soon_as_a_disk_falls_below_keep_free(tmp_path, footage, tiny_fs):  # noqa: F811
    root = tiny_fs("root")
    make_days(root, footage, range(3, -1, -1))
    settings = config.load(env={}, flags={"root": root, "timezone": "UTC", "keep_free": "1MB",
                                          "state_dir": tmp_path / "state"})
    clock = [time.time()]
    keeper = daemon.Daemon([daemon.make_compactor(settings)], clock=lambda: clock[0]).retention
    assert keeper.step().deleted == []  # the first look is a whole pass: nothing to do
    clock[0] += 60
    assert keeper.step() is None  # an hour before the next pass, and enough room
    fill_to(root, (1 << 20) - day_size(root, ago(0)) // 2)
    clock[0] += 60
    result = keeper.step()
    assert [d.day for d in result.deleted] == [ago(3)] and days_in(root) == [ago(2), ago(1), ago(0)]


# --- killed midway ---------------------------------------------------------------------------

def test_the_retention_command_killed_midway_is_finished_by_the_next_run(tmp_path, footage):
    moment = "delete-file-1"  # every moment of delete.py is killed in test_retention_delete.py
    root = tmp_path / "root"
    make_days(root, footage, range(4, -1, -1))
    killed = cli("retention", "--root", str(root), env={"CCTV_KEEP_DAYS": "4",
                                                         "CCTVTEST_CRASH_AT": moment})
    assert killed.returncode == -9
    assert days_in(root) == [ago(n) for n in range(3, -1, -1)]  # gone from every listing at once
    assert (root / f".deleting-{ago(4)}").is_dir()
    again = cli("retention", "--root", str(root), env={"CCTV_KEEP_DAYS": "4"})
    assert again.returncode == 0, again.stderr
    assert f"finished deleting {ago(4)}, interrupted before" in again.stdout
    assert sorted(p.name for p in root.iterdir()) == [".cctv", *(ago(n) for n in range(3, -1, -1))]
    records = audit(root / ".cctv")
    assert [(r["day"], r["reason"]) for r in records] == [(ago(4), "interrupted")]


def test_the_daemon_runs_retention_in_a_thread_that_stops_with_it(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    settings = config.load(env={}, flags={"root": root, "timezone": "UTC"})
    stop = threading.Event()
    d = daemon.Daemon([daemon.make_compactor(settings)])
    runner = threading.Thread(target=d.run, args=(stop,))
    runner.start()
    wait_until(lambda: any(t.name == "retention" for t in threading.enumerate()))
    stop.set()
    runner.join(30)
    assert not runner.is_alive()
    assert not any(t.name == "retention" for t in threading.enumerate())


def test_the_overview_shows_each_disk_with_its_cameras_forecast_and_alarm(tmp_path, footage, tiny_fs):  # noqa: F811
    from starlette.testclient import TestClient

    from cctv_server import cameras
    from cctv_server.web.server import create_server

    disk = tiny_fs("disk")
    roots = {name: disk / name for name in ("garden", "porch")}
    for root in roots.values():
        make_days(root, footage, range(3, -1, -1))
    settings = config.load(env={}, flags={"timezone": "UTC", "keep_free": "1MB",
                                          "state_dir": tmp_path / "state"})
    cams = cameras.load(settings, flags=[f"{n}={r}" for n, r in roots.items()])
    for c in cams:
        Catalog(c.settings.catalog_path).rescan(c.root, time.time(), 0, UTC, full=True)
    with TestClient(create_server(settings, cams, watch=False), base_url="http://127.0.0.1") as client:
        page = client.get("/").text
        assert f"{disk} (garden, porch)" in page and "Disk almost full" not in page
        assert page.count("a day as recorded") == 2 and "the disk holds <b>" in page
        fill_to(disk, 1 << 19)
        assert "Disk almost full" in client.get("/").text
        assert 'id="emergency"' in client.get("/cam/porch/").text
