"""Deleting a day, SIGKILLed at every step and finished at the next start: the whole day or none of it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from cctv_server.compaction.journal import day_lock
from cctv_server.retention import delete, holds

from .conftest import process_state, wait_until

DAY = "2026-11-20"
FILES = ["10-00-00.ts", "10-00-10.ts", "video.mp4", "video.mp4.sha512sum", ".video.mp4.json",
         "quarantine/x.ts"]
MOMENTS = ["delete-locked", "delete-renamed", "delete-renamed-synced",
           *[f"delete-file-{n}" for n in range(1, len(FILES) + 1)], "delete-done"]


def make_day(root) -> None:
    for name in FILES:
        path = root / DAY / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(name.encode() * 100)
    (root / "2026-11-21").mkdir()
    (root / "2026-11-21" / "keep.ts").write_bytes(b"other day")


def listing(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_a_day_goes_whole_and_nothing_else_does(tmp_path):
    make_day(tmp_path)
    assert delete.delete_day(tmp_path, DAY) == delete.DELETED
    assert listing(tmp_path) == ["2026-11-21", "2026-11-21/keep.ts"]


def test_a_day_being_compacted_is_not_deleted_now(tmp_path):
    make_day(tmp_path)
    with day_lock(tmp_path / DAY) as locked:
        assert locked and delete.delete_day(tmp_path, DAY) == delete.BUSY
    assert (tmp_path / DAY / "video.mp4").exists()


def test_a_day_held_since_the_plan_was_made_is_not_deleted(tmp_path):
    make_day(tmp_path)
    holds.hold(tmp_path, DAY, "the police asked for it", "alice")
    assert delete.delete_day(tmp_path, DAY) == delete.HELD
    assert (tmp_path / DAY / "video.mp4").exists()


@pytest.mark.parametrize("moment", MOMENTS)
def test_a_deletion_killed_at_any_step_leaves_the_whole_day_or_none_of_it(tmp_path, moment):
    make_day(tmp_path)
    before = listing(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from pathlib import Path; "
         "from cctv_server.retention.delete import delete_day; delete_day(Path(sys.argv[1]), sys.argv[2])",
         str(tmp_path), DAY],
        env=os.environ | {"CCTVTEST_CRASH_AT": moment}, capture_output=True, timeout=30)
    assert proc.returncode == -9, proc.stderr.decode()  # it died where we asked
    delete.finish(tmp_path)  # as the next start does
    renamed = moment != "delete-locked"  # from the rename on, the day is gone for good
    assert listing(tmp_path) == (["2026-11-21", "2026-11-21/keep.ts"] if renamed else before)


def _deleting(root, **env: str) -> subprocess.Popen:
    """delete_day in a process of its own, stopped or killed at the moments `env` names."""
    return subprocess.Popen(
        [sys.executable, "-c", "import sys; from pathlib import Path; "
         "from cctv_server.retention.delete import delete_day; "
         "print(delete_day(Path(sys.argv[1]), sys.argv[2]))", str(root), DAY],
        env=os.environ | env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_hold_put_between_the_last_check_and_the_rename_keeps_the_day(tmp_path):
    make_day(tmp_path)
    before = listing(tmp_path)
    proc = _deleting(tmp_path, CCTVTEST_PAUSE_AT="delete-locked")  # its hold check is done
    wait_until(lambda: process_state(proc.pid) == "T", timeout=30)  # stopped there
    holds.hold(tmp_path, DAY, "the police asked for it", "alice")  # answered: it must hold
    os.kill(proc.pid, signal.SIGCONT)
    out, err = proc.communicate(timeout=30)
    assert out.strip() == delete.HELD, err
    assert listing(tmp_path) == sorted([*before, f"{DAY}/.hold.json"])


def test_a_deletion_killed_after_a_late_hold_is_finished_by_keeping_the_day(tmp_path):
    make_day(tmp_path)
    proc = _deleting(tmp_path, CCTVTEST_PAUSE_AT="delete-locked",
                     CCTVTEST_CRASH_AT="delete-renamed")
    wait_until(lambda: process_state(proc.pid) == "T", timeout=30)
    holds.hold(tmp_path, DAY, "the police asked for it", "alice")
    os.kill(proc.pid, signal.SIGCONT)
    assert proc.wait(timeout=30) == -9  # killed with the day renamed, its hold inside
    assert delete.finish(tmp_path) == []  # as the next start does
    assert (tmp_path / DAY / "video.mp4").exists() and holds.get(tmp_path, DAY) is not None
