"""serve refuses what it cannot honour before anything starts, naming the setting: the real CLI."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from .conftest import free_port, tmpfs


def serve(root, *args: str, **env: str) -> subprocess.CompletedProcess:
    """Run `cctv-server serve` to its end (a refused start ends at once)."""
    return subprocess.run(
        [sys.executable, "-m", "cctv_server.cli", "serve", "--root", str(root), *args],
        env=os.environ | {"CCTV_TIMEZONE": "UTC", "CCTV_COMPACTOR": "false"} | env,
        capture_output=True, text=True, timeout=60,
    )


def refused(proc: subprocess.CompletedProcess, setting: str) -> str:
    """The one line of a refused start, which names the setting."""
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr and "Serving" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f"'{setting}'" in lines[0], proc.stderr
    return lines[0]


def test_a_host_that_is_neither_an_address_nor_a_resolvable_name_is_refused(tmp_path):
    line = refused(serve(tmp_path, "--host", "no-such-host.invalid"), "host")
    assert "no-such-host.invalid" in line


def test_an_address_this_machine_does_not_have_is_refused(tmp_path):
    line = refused(serve(tmp_path, "--host", "192.0.2.1"), "host")  # TEST-NET-1: never ours
    assert "192.0.2.1" in line


def test_a_port_in_use_is_refused_naming_the_port(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = refused(serve(tmp_path, "--port", str(port)), "port")
    assert str(port) in line and "in use" in line


@pytest.mark.parametrize("setting, value", [
    ("rescan_interval", "0"), ("live_window", "0s"), ("export_max", "0"), ("header_timeout", "0"),
    ("send_timeout", "0"), ("export_jobs", "0"), ("live_max_days", "0"), ("max_connections", "0"),
    ("jobs", "-1"), ("host", ""), ("allowed_hosts", "http://cctv.example/"),
])
def test_nonsensical_values_are_refused(tmp_path, setting, value):
    line = refused(serve(tmp_path, **{f"CCTV_{setting.upper()}": value}), setting)
    assert "unknown" not in line  # a known setting, refused for its value


def test_a_state_dir_on_a_read_only_filesystem_is_refused(tmp_path):
    with tmpfs(tmp_path / "state", "1m", "ro") as state:
        line = refused(serve(tmp_path, CCTV_STATE_DIR=str(state)), "state_dir")
    assert str(state) in line and "not writable" in line
    assert not any(tmp_path.glob("*.sqlite3*"))  # nothing was started elsewhere instead


def test_a_state_dir_that_cannot_be_made_is_refused(tmp_path):
    (tmp_path / "a-file").write_text("")
    line = refused(serve(tmp_path, CCTV_STATE_DIR=str(tmp_path / "a-file" / "state")), "state_dir")
    assert "a-file" in line


def test_a_refused_start_leaves_the_port_free_and_the_root_untouched(tmp_path):
    port = free_port()
    before = sorted(tmp_path.iterdir())
    refused(serve(tmp_path, "--port", str(port), CCTV_RESCAN_INTERVAL="0"), "rescan_interval")
    assert sorted(tmp_path.iterdir()) == before  # no state folder, no catalog
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))
