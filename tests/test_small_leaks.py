"""Small leaks (issue 21, item 8): a viewer's player links only to its cameras; a share link
learns nothing outside its range (the same 403 for a day with footage and one without, redirects
to its own day); the 421 and the 503 carry the security headers every answer does."""

from __future__ import annotations

import datetime as dt
import re
import socket

import httpx
import pytest

from .abuse import DAY, NOON, PASSWORD, add_user, fingerprint, open_body

LATER = "2026-01-03"  # a day with footage, after the shared one
EMPTY = "2026-01-02"  # a day without


@pytest.fixture
def cameras(tmp_path, record):
    roots = {"porch": tmp_path / "porch", "garden": tmp_path / "garden"}
    for root in roots.values():
        record(root, NOON, 4)
    record(roots["porch"], NOON + dt.timedelta(days=2), 2)
    add_user(roots, "alice", "admin")
    add_user(roots, "bob", "viewer", "--cameras", "porch")
    before = {name: fingerprint(root) for name, root in roots.items()}
    yield roots
    assert {name: fingerprint(root) for name, root in roots.items()} == before


def test_a_viewers_player_links_only_to_the_cameras_it_may_watch(cameras, server):
    srv = server(cameras)
    page = srv.get(f"/cam/porch/day/{DAY}", auth=("bob", PASSWORD["bob"]))
    assert page.status_code == 200 and "garden" not in page.text
    assert "../garden/day/" in srv.get(f"/cam/porch/day/{DAY}",
                                       auth=("alice", PASSWORD["alice"])).text


def test_a_share_link_learns_nothing_outside_its_range(cameras, server):
    srv = server(cameras)
    made = httpx.post(f"{srv.url}/cam/porch/admin/share", auth=("alice", PASSWORD["alice"]),
                      data={"from": f"{DAY}T12:00:00", "to": f"{DAY}T12:00:02"})
    assert made.status_code == 200, made.text
    token = re.search(r"share=([^&\s]+)", made.json()["url"]).group(1)
    base = f"{srv.url}/cam/porch"

    def get(path: str) -> httpx.Response:
        joiner = "&" if "?" in path else "?"
        return httpx.get(f"{base}{path}{joiner}share={token}", timeout=30)

    assert get(f"/api/day/{DAY}").status_code == 200
    with_footage, without = get(f"/api/day/{LATER}"), get(f"/api/day/{EMPTY}")
    assert with_footage.status_code == without.status_code == 403
    assert with_footage.text.replace(LATER, "D") == without.text.replace(EMPTY, "D")
    for what in ("/playlist.php?date=", "/day/"):
        one, other = get(f"{what}{LATER}"), get(f"{what}{EMPTY}")
        assert one.status_code == other.status_code == 403
        assert one.text.replace(LATER, "D") == other.text.replace(EMPTY, "D")
    # a URL without a date leads to the shared day, never to the camera's latest
    for path in ("/playlist.php", "/h264.m3u8", "/variants.m3u8", "/watch"):
        moved = get(path)
        assert moved.status_code == 302 and LATER not in moved.headers["location"], path
        assert DAY in moved.headers["location"]


def test_the_421_and_the_503_carry_the_security_headers(cameras, server):
    srv = server(cameras, CCTV_MAX_CONNECTIONS="2", CCTV_HEADER_TIMEOUT="30s")
    wrong_host = httpx.get(f"{srv.url}/cam/porch/", headers={"Host": "evil.example"})
    assert wrong_host.status_code == 421
    assert_security_headers(wrong_host.headers)
    busy = [open_body(srv.port, "/login", 1000, b"name=") for _ in range(2)]  # being answered
    try:
        sock = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        answer = b""  # written as the connection is accepted, before any request
        while chunk := sock.recv(4096):
            answer += chunk
        sock.close()
    finally:
        for held in busy:
            held.close()
    head = answer.split(b"\r\n\r\n")[0].decode()
    assert head.startswith("HTTP/1.1 503 ")
    headers = dict(line.lower().split(": ", 1) for line in head.split("\r\n")[1:])
    assert_security_headers(headers)


def assert_security_headers(headers) -> None:
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"].lower() == "deny"
