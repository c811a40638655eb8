"""Every access command finds the state a running multi-camera server reads, however the cameras are named."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from .conftest import UTC, Server, wait_until

DAY = "2026-01-01"
NOON = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
PASSWORD = "a long enough password"


class ConfigServer(Server):
    """The real server started with `serve --config FILE` (the option after the command name)."""

    def __init__(self, config: Path, tmp: Path):
        super().__init__({}, tmp)
        self.config = config

    def _cameras(self) -> list[str]:
        return ["--config", str(self.config)]


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "cctv_server.cli", *args], input=stdin,
                          capture_output=True, text=True, timeout=60,
                          env=os.environ | {"CCTV_TIMEZONE": "UTC"})
    assert done.returncode == 0, f"{args}: {done.stdout}{done.stderr}"
    return done


@pytest.fixture
def cameras(tmp_path, record):
    roots = {"porch": tmp_path / "cctv" / "porch", "garden": tmp_path / "cctv" / "garden"}
    for root in roots.values():
        record(root, NOON, 4)
    return roots


def by_config(tmp_path, roots, server):
    config = tmp_path / "cctv.toml"
    config.write_text("".join(f'[cameras.{n}]\nroot = "{r}"\n' for n, r in roots.items()))
    return ConfigServer(config, tmp_path).start(), ["--config", str(config)], ["--config", str(config), "--camera", "porch"]


def by_flags(tmp_path, roots, server):
    flags = [a for n, r in roots.items() for a in ("--camera", f"{n}={r}")]
    return server(roots), flags, [*flags, "--camera", "porch"]


@pytest.mark.slow
@pytest.mark.parametrize("named", [by_config, by_flags])
def test_every_access_command_works_on_the_state_a_multi_camera_server_reads(
        tmp_path, cameras, server, named):
    srv, every, porch = named(tmp_path, cameras, server)
    try:
        check_every_command(srv, every, porch, cameras["porch"])
    finally:
        srv.stop()


def check_every_command(srv: Server, every: list[str], porch: list[str], footage: Path) -> None:
    # picking a camera (--camera porch) must not move the state into porch's own folder
    run("user", "add", "alice", "--role", "admin", "--password-stdin", *porch, stdin=PASSWORD + "\n")
    run("user", "add", "bob", "--role", "viewer", "--cameras", "porch", "--password-stdin",
        *every, stdin=PASSWORD + "\n")
    alice, bob = ("alice", PASSWORD), ("bob", PASSWORD)
    wait_until(lambda: srv.get(f"/cam/porch/api/day/{DAY}").status_code == 401)
    assert srv.get(f"/cam/garden/api/day/{DAY}", auth=alice).status_code == 200
    assert srv.get(f"/cam/porch/api/day/{DAY}", auth=bob).status_code == 200
    assert srv.get(f"/cam/garden/api/day/{DAY}", auth=bob).status_code == 403
    assert "alice" in run("user", "list", *porch).stdout

    made = run("share", *porch, "--from", f"{DAY}T12:00:00", "--to", f"{DAY}T12:00:02").stdout
    path = re.search(r"https?://[^/\s]+(/\S+)", made).group(1)
    shared = httpx.get(srv.url + path, timeout=30)
    assert shared.status_code == 200, shared.text
    share_id = run("share", "list", *every).stdout.split()[0]
    run("share", "revoke", share_id, *porch)  # the cameras after the subcommand, too
    assert httpx.get(srv.url + path, timeout=30).status_code == 403

    added = run("token", "add", "garden", "--name", "pi", *porch).stdout  # any camera, picked or not
    token_id, secret = added.split()[1], added.strip().splitlines()[-1]
    body = (footage / DAY / "12-00-00.ts").read_bytes()
    today = dt.datetime.now(UTC).date().isoformat()  # uploads are refused for old days
    upload = f"/cam/garden/upload/{today}/00-00-00.ts"
    put = httpx.put(srv.url + upload, content=body, timeout=30,
                    headers={"Authorization": f"Bearer {secret}"})
    assert put.status_code in (200, 201), put.text
    assert token_id in run("token", "list", *every).stdout
    run("token", "revoke", token_id, *porch)
    assert httpx.put(srv.url + upload.replace("00-00-00", "00-00-10"), content=body, timeout=30,
                     headers={"Authorization": f"Bearer {secret}"}).status_code == 401

    run("user", "passwd", "bob", "--password-stdin", *porch, stdin="another long password\n")
    wait_until(lambda: srv.get(f"/cam/porch/api/day/{DAY}", auth=bob).status_code == 401)
    run("user", "remove", "bob", *every)
    events = run("audit", *porch).stdout
    for event in ("user added", "share link made", "share link revoked", "token added",
                  "token revoked", "password changed", "user removed"):
        assert event in events
