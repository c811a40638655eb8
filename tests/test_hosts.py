"""The Host allowlist against DNS rebinding: plain values, then raw requests to the real server."""

from __future__ import annotations

import datetime as dt
import socket

import pytest

from cctv_server.web import hosts

from .conftest import UTC

NAMES = hosts.own_names("127.0.0.1", ("cctv.example",))


@pytest.mark.parametrize("header", ["127.0.0.1", "127.0.0.1:8080", "localhost:8080", "LOCALHOST",
                                    "[::1]:8080", "cctv.example", "cctv.example.:80"])
def test_our_own_names_and_the_allowed_ones_are_answered(header):
    assert hosts.allowed(header, NAMES, "127.0.0.1")


@pytest.mark.parametrize("header", ["evil.example", "evil.example:8080", "127.0.0.1.evil.example",
                                    "cctv.example.evil", "10.1.2.3", "", "[::1"])
def test_any_other_name_is_refused(header):
    assert not hosts.allowed(header, NAMES, "127.0.0.1")


def test_an_address_is_ours_when_the_connection_arrived_at_it():
    assert hosts.allowed("192.168.1.20:8080", NAMES, "192.168.1.20")
    assert hosts.allowed("192.168.1.20", NAMES, "::ffff:192.168.1.20")  # a dual-stack socket
    assert not hosts.allowed("192.168.1.21", NAMES, "192.168.1.20")


def test_the_machines_host_name_is_ours_and_a_star_turns_the_check_off():
    assert hosts.allowed(socket.gethostname(), NAMES, "127.0.0.1")
    assert hosts.allowed("anything.example", hosts.own_names("0.0.0.0", ("*",)), None)


def raw_get(port: int, path: str, host: str) -> tuple[int, str]:
    """One request written by hand, with exactly this Host header."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode(errors="replace")


@pytest.fixture
def recorded(tmp_path, record):
    record(tmp_path / "root", dt.datetime(2026, 11, 20, 10, 0, tzinfo=UTC), 4)
    return tmp_path / "root"


@pytest.mark.parametrize("path", ["/", "/playlist.php?date=2026-11-20", "/2026-11-20/10-00-00.ts",
                                  "/api/day/2026-11-20", "/live.m3u8"])
def test_a_request_for_another_name_gets_421_and_a_reason(recorded, server, path):
    srv = server(recorded)
    status, body = raw_get(srv.port, path, "evil.example")
    assert status == 421
    assert body.count("\n") == 1 and "evil.example" in body and "allowed_hosts" in body
    assert raw_get(srv.port, path, f"127.0.0.1:{srv.port}")[0] == 200
    assert raw_get(srv.port, path, f"localhost:{srv.port}")[0] == 200
    assert raw_get(srv.port, "/healthz", "evil.example")[0] == 200  # readiness only: any name


def test_allowed_hosts_adds_names(recorded, server):
    srv = server(recorded, CCTV_ALLOWED_HOSTS="cctv.example, nvr.lan")
    assert raw_get(srv.port, "/", "nvr.lan")[0] == 200
    assert raw_get(srv.port, "/", "cctv.example:443")[0] == 200
    assert raw_get(srv.port, "/", "evil.example")[0] == 421
