"""Shared fixtures: real segments made by ffmpeg, and the real server on a loopback port."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from cctv_server import demo
from cctv_server.media import ffmpeg

UTC = ZoneInfo("UTC")
FPS = 10
SEGMENT = 2.0  # seconds: tiny segments keep the suite fast
SIZE = "160x90"


@pytest.fixture(scope="session")
def ffmpeg_bin() -> str:
    return ffmpeg.locate()


@pytest.fixture
def record(ffmpeg_bin):
    """record(root, start, seconds, **kw) -> segment paths: one camera run, named by clock time."""

    def make(root: Path, start: dt.datetime, seconds: float, **kwargs) -> list[Path]:
        kwargs.setdefault("segment", SEGMENT)
        kwargs.setdefault("size", SIZE)
        kwargs.setdefault("fps", FPS)
        return demo.record(ffmpeg_bin, root, start, seconds, **kwargs)

    return make


def frame_crcs(ffmpeg_bin: str, source, *input_args: str, output_args: tuple[str, ...] = ()) -> list[str]:
    """The checksum of every decoded video frame of a file or URL: equal checksums, equal pictures."""
    proc = subprocess.run(
        [ffmpeg_bin, "-hide_banner", "-loglevel", "error", *input_args, "-i", str(source),
         "-map", "0:v:0", *output_args, "-f", "framecrc", "-"],
        capture_output=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    return [line.rsplit(",", 1)[1].strip() for line in proc.stdout.decode().splitlines()
            if line and not line.startswith("#")]


def count_frames(ffmpeg_bin: str, source, *input_args: str) -> int:
    """Decode every video frame of a file or URL with ffmpeg; return how many there were."""
    return len(frame_crcs(ffmpeg_bin, source, *input_args))


def frames_in(ffmpeg_bin: str, paths) -> int:
    """Frames in all these files together."""
    return sum(count_frames(ffmpeg_bin, p) for p in paths)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The real `cctv-server serve` in a subprocess on a loopback port."""

    def __init__(self, root: Path | dict[str, Path], tmp: Path,
                 extra_env: dict[str, str] | None = None):
        self.root = root  # one camera's root, or {camera name: root} for several
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp / f"server-{self.port}.log"
        self.env = os.environ | {
            "CCTV_TIMEZONE": "UTC", "CCTV_STABLE_SECONDS": "0.5", "CCTV_RESCAN_INTERVAL": "2s",
            "CCTV_COMPACTOR": "false",
        } | (extra_env or {})
        self.proc: subprocess.Popen | None = None

    def start(self) -> Server:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "cctv_server.cli", "serve", *self._cameras(),
                 "--port", str(self.port)],
                env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )
        self.wait_ready()
        return self

    def _cameras(self) -> list[str]:
        if isinstance(self.root, dict):
            return [a for name, root in self.root.items() for a in ("--camera", f"{name}={root}")]
        return ["--root", str(self.root)]

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc and self.proc.poll() is None, self.log.read_text()
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError("server did not become ready:\n" + self.log.read_text())

    def get(self, path: str, **kwargs) -> httpx.Response:
        return httpx.get(self.url + path, timeout=30, **kwargs)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture
def server(tmp_path):
    """server(root, **env) -> a started Server; stopped at the end of the test."""
    started: list[Server] = []

    def start(root: Path | dict[str, Path], **env: str) -> Server:
        srv = Server(root, tmp_path, env).start()
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()


def wait_until(predicate, timeout: float = 15, interval: float = 0.1):
    """Poll until predicate() is truthy; return its value or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


@contextlib.contextmanager
def tmpfs(mount: Path, size: str, *options: str) -> Iterator[Path]:
    """A small real filesystem of `size` (`3m`) mounted at `mount` for the block (the tests run
    as root): a disk to fill, or one mounted `ro`."""
    mount.mkdir(exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join([*options, f"size={size}"]),
                           "tmpfs", str(mount)], capture_output=True)
    assert done.returncode == 0, "cannot mount a tmpfs: " + done.stderr.decode()
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def process_state(pid: int) -> str:
    """A process's state letter from /proc (R, S, T when stopped, Z when a zombie)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


from .alert_receivers import receiver, still  # noqa: E402,F401 (a webhook receiver, a JPEG: test_alerts*)
from .archiving import archive_root, compacted_day  # noqa: E402,F401 (test_archive*)
from .seaweed import seaweed  # noqa: E402,F401 (a real S3 store for the session: test_archive*)
