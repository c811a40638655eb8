"""Slow and large request bodies against the real server (issue 21, item 2): a form body
trickled a byte at a time is 408 and closed, so such clients cannot fill max_connections; a form
body too large is 413 before a byte of it is read; a client that leaves mid-body costs one line."""

from __future__ import annotations

import socket

import httpx
import pytest

from .abuse import DAY, NOON, add_user, fingerprint, open_body, trickle_until_answered


@pytest.fixture
def site(tmp_path, record, server):
    root = tmp_path / "root"
    record(root, NOON, 4)
    add_user(root, "alice", "admin")
    before = fingerprint(root)
    srv = server(root, CCTV_HEADER_TIMEOUT="1s", CCTV_MAX_CONNECTIONS="12")
    yield root, srv
    assert fingerprint(root) == before  # the footage, byte for byte


def test_trickled_form_bodies_are_408_and_closed_so_they_cannot_fill_max_connections(site):
    root, srv = site
    paths = ["/login", "/logout", "/login?next=/"]
    socks = [open_body(srv.port, paths[i % 3], 5000, b"name=") for i in range(12)]
    try:
        answers = trickle_until_answered(socks)
    finally:
        for sock in socks:
            sock.close()
    assert all(a.startswith(b"HTTP/1.1 408 ") for a in answers), answers
    assert all(b"too slowly" in a and b"connection: close" in a.lower() for a in answers)
    # every slot is free again: the sign-in page, and the sign-in itself, work
    page = srv.get("/login")
    assert page.status_code == 200 and page.headers.get("connection") != "close"  # keep-alive
    signed = httpx.post(f"{srv.url}/login", data={"name": "alice",
                                                  "password": "alice's long password"})
    assert signed.status_code == 303
    assert srv.get(f"/playlist.php?date={DAY}", auth=("alice", "alice's long password")
                   ).status_code == 200


def test_a_form_body_larger_than_form_max_is_413_before_a_byte_is_read(site):
    _, srv = site
    sock = open_body(srv.port, "/login", 50_000_000)  # and not a byte of it
    try:
        sock.settimeout(10)
        answer = b""
        while chunk := sock.recv(65536):  # until the server closes the connection
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 413 ") and b"at most 65536" in answer
        assert b"content-security-policy" in answer.lower()
    finally:
        sock.close()

    def chunked():  # no Content-Length: counted as it comes
        for _ in range(100):
            yield b"name=" + b"x" * 10_000
    refused = httpx.post(f"{srv.url}/login", content=chunked(),
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert refused.status_code == 413


def test_a_client_that_leaves_mid_body_costs_one_log_line_and_no_traceback(site):
    _, srv = site
    for _ in range(5):
        sock = open_body(srv.port, "/login", 5000, b"name=alice&pass")
        sock.close()
    for _ in range(5):  # and a reset rather than a close
        sock = open_body(srv.port, "/login", 5000, b"name=alice&pass")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()
    assert srv.get("/login").status_code == 200
    log = srv.log.read_text()
    assert "Traceback" not in log and "Exception in ASGI" not in log
    assert log.count("before sending the whole body") <= 10
