"""Helpers for the attacks of issue 21 against the real server: footage fingerprints, sockets
that trickle, clients from other loopback addresses, and a process's memory."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from .conftest import UTC

DAY = "2026-01-01"
NOON = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
PASSWORD = {"alice": "alice's long password", "bob": "bob's long password"}


def fingerprint(root: Path) -> dict[str, str]:
    """Every recording under a root (not the state folder), by path: its SHA-256."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and ".cctv" not in p.parts}


def cli(root, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    command, *rest = args
    sub = rest[:1] if command in ("user", "token") and rest[:1] else []
    rest = rest[len(sub):]
    where = (["--root", str(root)] if not isinstance(root, dict)
             else [a for n, r in root.items() for a in ("--camera", f"{n}={r}")])
    return subprocess.run([sys.executable, "-m", "cctv_server.cli", command, *sub, *where, *rest],
                          input=stdin, capture_output=True, text=True, timeout=60,
                          env=os.environ | {"CCTV_TIMEZONE": "UTC"})


def add_user(root, name: str, role: str, *extra: str) -> None:
    done = cli(root, "user", "add", name, "--role", role, "--password-stdin", *extra,
               stdin=PASSWORD[name] + "\n")
    assert done.returncode == 0, done.stderr


def client_from(address: str, base_url: str, **kwargs) -> httpx.Client:
    """An HTTP client whose connections come from another loopback address (127.0.0.0/8)."""
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=base_url, transport=transport, timeout=60, **kwargs)


def rss(pid: int) -> tuple[int, int]:
    """(resident now, the high-water mark) of a process, in bytes."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return (int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024)


def open_body(port: int, path: str, length: int, first: bytes = b"",
              extra: str = "") -> socket.socket:
    """A POST whose head promises `length` bytes of form body, and `first` of them sent."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall((f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}"
                  "Content-Type: application/x-www-form-urlencoded\r\n"
                  f"Content-Length: {length}\r\n\r\n").encode() + first)
    return sock


def trickle_until_answered(socks: list[socket.socket], every: float = 0.5,
                           within: float = 40) -> list[bytes]:
    """Send each socket one more byte of body every `every` seconds until the server has
    answered and closed every one (or `within` passed); what each received."""
    got = [b""] * len(socks)
    closed = [False] * len(socks)
    deadline = time.monotonic() + within
    for sock in socks:
        sock.settimeout(0.01)
    while not all(closed) and time.monotonic() < deadline:
        for i, sock in enumerate(socks):
            if closed[i]:
                continue
            try:
                while chunk := sock.recv(65536):
                    got[i] += chunk
                closed[i] = True  # an empty read: the server closed it
                continue
            except (TimeoutError, BlockingIOError):
                pass
            except ConnectionError:
                closed[i] = True
                continue
            try:
                sock.send(b"a")
            except (ConnectionError, BrokenPipeError):
                closed[i] = True
        time.sleep(every)
    assert all(closed), f"{closed.count(False)} trickling connections are still open"
    return got
