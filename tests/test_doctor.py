"""`cctv-server doctor` on real roots: a line per finding, OK, WARN or FAIL, and exit 1 on a FAIL."""

from __future__ import annotations

import datetime as dt
import os
import stat
import subprocess
import sys
import time

from cctv_server.access.accounts import Accounts
from cctv_server.access.store import Store
from cctv_server.cli.doctor import User
from cctv_server.compaction.journal import day_lock

from .conftest import UTC
from .test_full_disk import fill, tiny_fs  # noqa: F401  (a fixture)

TODAY = dt.datetime.now(UTC).date()
DAY = str(TODAY - dt.timedelta(days=3))
ENV = {"CCTV_TIMEZONE": "UTC"}


def doctor(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cctv_server.cli", "doctor", *args],
                          env=os.environ | ENV | env, capture_output=True, text=True, timeout=60)


def lines(found: subprocess.CompletedProcess, level: str) -> list[str]:
    return [line[len(level) + 1:] for line in found.stdout.splitlines() if line.startswith(level + " ")]


def test_permissions_are_read_from_the_mode_bits_for_the_user_given():
    alice = User("alice", 1000, frozenset({1000, 50}))
    st = os.stat_result((stat.S_IFDIR | 0o750, 0, 0, 2, 1000, 50, 0, 0, 0, 0))
    assert alice.may(st, os.R_OK | os.W_OK | os.X_OK)
    group = os.stat_result((stat.S_IFDIR | 0o750, 0, 0, 2, 0, 50, 0, 0, 0, 0))
    assert alice.may(group, os.R_OK | os.X_OK) and not alice.may(group, os.W_OK)
    other = os.stat_result((stat.S_IFDIR | 0o755, 0, 0, 2, 0, 0, 0, 0, 0, 0))
    assert not alice.may(other, os.W_OK) and User("root", 0, frozenset()).may(other, os.W_OK)


def test_what_a_crash_leaves_a_damaged_catalog_and_a_wrong_clock_are_named(tmp_path):
    root = tmp_path / "root"
    for folder in (root / DAY, root / f".deleting-{TODAY - dt.timedelta(days=9)}",
                   root / str(TODAY + dt.timedelta(days=5)), root / ".cctv"):
        folder.mkdir(parents=True)
    (root / DAY / ".compaction.json").write_text("{}")
    old, new = root / DAY / ".a.ts.upload-0123abcd", root / DAY / ".b.ts.upload-4567cdef"
    old.write_bytes(b"x")
    new.write_bytes(b"x")  # an upload under way: no stray
    os.utime(old, (time.time() - 7200,) * 2)
    (root / ".cctv" / "catalog.sqlite3").write_bytes(b"SQLite format 3\0" + b"\xff" * 4000)
    found = doctor("--root", str(root))
    assert found.returncode == 1
    warned = lines(found, "WARN")
    assert any(".deleting-" in w and "interrupted deletion" in w for w in warned)
    assert any(f"{DAY}/.compaction.json" in w for w in warned)
    assert any(".a.ts.upload-0123abcd" in w for w in warned)
    assert not any(".b.ts.upload" in w for w in warned)
    assert any("dated after tomorrow" in w for w in warned)
    assert any(f.startswith("the catalog") and "not a database" in f for f in lines(found, "FAIL"))
    with day_lock(root / DAY):  # a compaction working on the day: its journal is no stray
        assert not any(".compaction.json" in w for w in lines(doctor("--root", str(root)), "WARN"))


def test_a_healthy_root_passes_and_the_machine_is_checked(tmp_path):
    root = tmp_path / "root"
    (root / DAY).mkdir(parents=True)
    found = doctor("--root", str(root))
    assert found.returncode == 0, found.stdout
    ok = lines(found, "OK")
    assert any("ffmpeg has libx265" in o for o in ok) and any("libsvtav1" in o for o in ok)
    assert any("inotify watches needed (2 folders)" in o for o in ok)
    assert any("keep_free" in o for o in ok) and any("the clock says" in o for o in ok)
    assert any("listening on 127.0.0.1" in o for o in ok)
    assert not lines(found, "WARN") and not lines(found, "FAIL")
    broken = doctor("--root", str(root), CCTV_FFMPEG=str(tmp_path / "no-ffmpeg"))
    assert broken.returncode == 1 and any("ffmpeg cannot run" in f for f in lines(broken, "FAIL"))


def test_the_server_s_user_needs_its_roots_and_accounts_beyond_loopback(tmp_path):
    root = tmp_path / "root"
    (root / DAY).mkdir(parents=True)
    root.chmod(0o755)
    found = doctor("--root", str(root), "--user", "nobody", CCTV_HOST="0.0.0.0")
    assert found.returncode == 1
    assert any(f.startswith(f"nobody cannot read and change {root}") for f in lines(found, "FAIL"))
    assert any("no account" in f and "user add" in f for f in lines(found, "FAIL"))
    Accounts(Store(root / ".cctv")).add("admin", "admin", "a long password")
    found = doctor("--root", str(root), CCTV_HOST="0.0.0.0")
    assert any("with 1 accounts" in o for o in lines(found, "OK"))
    assert doctor("--root", str(root), "--user", "no-such-user").returncode == 2


def test_a_disk_below_keep_free_fails(tiny_fs):  # noqa: F811
    root = tiny_fs("root")
    (root / DAY).mkdir()
    fill(root)
    found = doctor("--root", str(root))
    assert found.returncode == 1
    assert any(f.startswith(f"{root}: 0 B free") and "below keep_free" in f
               and "retention deletes" in f for f in lines(found, "FAIL"))
