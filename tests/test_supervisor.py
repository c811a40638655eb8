"""serve's background compactor is restarted with backoff when it dies, and says so meanwhile."""

from __future__ import annotations

import datetime as dt
import os
import signal
from pathlib import Path

from cctv_server.cli.serve import FIRST_DELAY, MAX_DELAY, RESET_AFTER, restart_delay

from .conftest import UTC, wait_until


def children(pid: int) -> dict[int, str]:
    """pid -> command line of each live (not zombie) child of a process, from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue  # gone meanwhile
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == pid and state != "Z":
            found[int(entry.name)] = cmdline
    return found


def compactor_of(srv) -> int | None:
    return next((pid for pid, cmd in children(srv.proc.pid).items() if " compactor " in cmd), None)


def zombie_or_alive(pid: int) -> bool:
    try:
        return bool(Path(f"/proc/{pid}/stat").read_text())
    except OSError:
        return False


def test_a_killed_compactor_is_reported_and_restarted_without_a_zombie(tmp_path, record, server):
    root = tmp_path / "root"
    record(root, dt.datetime(2026, 1, 1, 12, tzinfo=UTC), 4)
    srv = server(root, CCTV_COMPACTOR="true")
    first = wait_until(lambda: compactor_of(srv))
    assert srv.get("/healthz").text == "ready\n"
    os.kill(first, signal.SIGKILL)
    wait_until(lambda: "compactor exited with code -9 (SIGKILL)" in srv.get("/healthz").text)
    health = srv.get("/healthz")
    assert health.status_code == 200 and health.text.startswith("degraded: ")
    assert srv.get("/healthz?strict=1").status_code == 503
    assert "compactor exited with code -9" in srv.get("/").text
    second = wait_until(lambda: (pid := compactor_of(srv)) not in (None, first) and pid)
    assert not zombie_or_alive(first)  # before: a zombie, never restarted, healthz "ready"
    assert "restarting it in 1 s" in srv.log.read_text()
    srv.stop()
    wait_until(lambda: not zombie_or_alive(second))


def test_restarts_back_off_to_five_minutes_and_start_over_after_a_long_run():
    delays, delay = [], 0.0
    for _ in range(10):
        delay = restart_delay(delay, ran_for=3)
        delays.append(delay)
    assert delays == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]
    assert restart_delay(MAX_DELAY, ran_for=RESET_AFTER) == FIRST_DELAY
    assert restart_delay(8, ran_for=RESET_AFTER - 1) == 16
