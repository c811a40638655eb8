"""Uploads when things go wrong: the real server SIGKILLed mid-upload while `push` keeps at it, and a full disk."""

from __future__ import annotations

import datetime as dt
import errno
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from cctv_server.upload import receive

from .conftest import UTC, Server, tmpfs, wait_until

YESTERDAY = (dt.datetime.now(UTC).date() - dt.timedelta(days=1)).isoformat()
NOON = dt.datetime.combine(dt.date.fromisoformat(YESTERDAY), dt.time(12), tzinfo=UTC)


def add_token(root: Path, env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-m", "cctv_server.cli", "token", "add", "--root",
                           str(root), "camera"], capture_output=True, text=True, timeout=60,
                          env=os.environ | {"CCTV_TIMEZONE": "UTC"} | env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def launch(srv: Server, crash_at: str | None) -> None:
    """Start the server without waiting for it: it may kill itself (CCTVTEST_CRASH_AT) before
    it ever looks ready, as soon as the uploader's retry reaches it."""
    srv.env = {k: v for k, v in srv.env.items() if k != "CCTVTEST_CRASH_AT"}
    srv.env |= {"CCTVTEST_CRASH_AT": crash_at} if crash_at else {}
    with open(srv.log, "ab") as log:
        srv.proc = subprocess.Popen(
            [sys.executable, "-m", "cctv_server.cli", "serve", "--root", str(srv.root), "--port",
             str(srv.port)], env=srv.env, stdout=log, stderr=subprocess.STDOUT)


def killed(srv: Server) -> None:
    wait_until(lambda: srv.proc.poll() is not None, timeout=30)
    assert srv.proc.returncode == -9, srv.log.read_text()


def listed(srv: Server) -> list[str]:
    response = srv.get(f"/playlist.php?date={YESTERDAY}")
    if response.status_code == 404:
        return []
    return [line.split("/")[-1] for line in response.text.splitlines() if line.endswith(".ts")]


def dotfiles(day_dir: Path) -> list[Path]:
    return sorted(p for p in day_dir.iterdir() if p.name.startswith("."))


def test_a_server_killed_mid_upload_lists_nothing_partial_and_push_completes(tmp_path, record):
    root = tmp_path / "root"
    root.mkdir()
    token_file = tmp_path / "token"
    token_file.write_text(add_token(root, {}))
    local = tmp_path / "camera"
    made = record(local, NOON, 6, size="960x540")  # each bigger than one write block
    assert all(p.stat().st_size > receive.BLOCK for p in made)
    sent = {p.name: p.read_bytes() for p in made}
    day_dir = root / YESTERDAY
    srv = Server(root, tmp_path)
    launch(srv, "upload-body")  # first life: killed with part of the first body written
    pusher = subprocess.Popen(
        [sys.executable, "-m", "cctv_server.cli", "push", "--dir", str(local), "--url", srv.url,
         "--token-file", str(token_file), "--delete-after"],
        env=os.environ | {"CCTV_TIMEZONE": "UTC"}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        killed(srv)
        (partial,) = dotfiles(day_dir)
        assert 0 < partial.stat().st_size < len(sent[made[0].name])
        assert not list(day_dir.glob("*.ts"))
        launch(srv, "upload-linked")  # second life: killed once the first is named and synced
        killed(srv)
        assert not partial.exists()  # swept at start-up, before serving
        assert (day_dir / made[0].name).read_bytes() == sent[made[0].name]
        assert len(dotfiles(day_dir)) == 1  # its dotfile, not yet unlinked
        launch(srv, None)  # third life: push finishes the job
        srv.wait_ready()
        wait_until(lambda: not list(local.glob("*/*.ts")), timeout=60)
    finally:
        pusher.terminate()
        pusher.wait(10)
        srv.stop()
    srv.start()
    assert listed(srv) == [p.name for p in made]  # the first once, nothing partial
    assert {p.name: p.read_bytes() for p in day_dir.glob("*.ts")} == sent
    assert dotfiles(day_dir) == []
    assert "interrupted by a crash" in srv.log.read_text()
    srv.stop()


@pytest.fixture
def tiny_root(tmp_path):
    with tmpfs(tmp_path / "root", "1m") as mount:
        yield mount


def fill(folder: Path) -> Path:
    """A dotfile that takes every byte left on the filesystem."""
    filler = folder / ".filler"
    with open(filler, "wb", buffering=0) as f:
        for size in (1 << 16, 1 << 12, 1):
            try:
                while True:
                    f.write(b"\0" * size)
            except OSError as err:
                assert err.errno == errno.ENOSPC, err
    assert os.statvfs(folder).f_bavail == 0
    return filler


def test_a_full_disk_is_507_keeps_nothing_and_uploads_work_once_space_is_freed(
        tmp_path, tiny_root, record, server):
    env = {"CCTV_STATE_DIR": str(tmp_path / "state")}  # the catalog elsewhere: only footage fills
    token = {"Authorization": f"Bearer {add_token(tiny_root, env)}"}
    first, second = record(tmp_path / "camera", NOON, 4)
    srv = server(tiny_root, **env)

    def put(path: Path) -> httpx.Response:
        return httpx.put(f"{srv.url}/upload/{YESTERDAY}/{path.name}", content=path.read_bytes(),
                         headers=token, timeout=30)

    assert put(first).status_code == 201
    wait_until(lambda: listed(srv) == [first.name], timeout=5)
    filler = fill(tiny_root)
    full = put(second)
    assert full.status_code == 507 and "disk is full" in full.text
    day_dir = tiny_root / YESTERDAY
    assert sorted(p.name for p in day_dir.iterdir()) == [first.name]  # nothing partial, no dotfile
    assert listed(srv) == [first.name]
    filler.unlink()
    assert put(second).status_code == 201
    wait_until(lambda: listed(srv) == [first.name, second.name], timeout=5)
    assert (day_dir / second.name).read_bytes() == second.read_bytes()
