"""Greedy and slow clients against the real server: a long live run, half-sent requests, exports
nobody reads and exports whose sources vanish. No client may take the service from the others."""

from __future__ import annotations

import datetime as dt
import glob
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import h11
import httpx
import pytest

from cctv_server import demo, layout
from cctv_server.footage import timeline
from cctv_server.footage.catalog import Catalog

from .conftest import UTC, Server, wait_until

T10 = dt.datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
PER_DAY = 8640  # 10-s segments: a full day
DAYS = 12  # of them in a live run: a render of a second or two
HALF_REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"  # and never the blank line that ends it


# --- a long live run ------------------------------------------------------------------------

def synthetic_days(catalog: Catalog, root: Path, days: list[str]) -> None:
    """Full days of 10-s segments written straight into a running server's catalog, as
    bench/catalog_and_serve.py does; their (empty) folders exist, so no rescan drops them."""
    for day in days:
        start = timeline.day_bounds(day, UTC)[0]
        rows = [(day, f"{_clock(i)}.ts", layout.natural_key(f"{_clock(i)}.ts"), 450_000,
                 int((start + i * 10 + 10) * 1e9), 126_000 + i * 900_000, 10.0, start + i * 10, None)
                for i in range(PER_DAY)]
        with catalog._tx() as tx:
            tx.executemany("INSERT OR REPLACE INTO segment VALUES (?,?,?,?,?,?,?,?,?)", rows)
            catalog._summarise(tx, day, root / day, None, None)


def _clock(i: int) -> str:
    return f"{i * 10 // 3600:02d}-{i * 10 // 60 % 60:02d}-{i * 10 % 60:02d}"


def test_a_long_live_run_renders_while_healthz_keeps_answering(tmp_path, record, server):
    root = tmp_path / "root"
    record(root, T10, 4)  # the newest day: real footage
    days = [(T10.date() - dt.timedelta(days=n)).isoformat() for n in range(DAYS, 0, -1)]
    for day in days:
        (root / day).mkdir()
    srv = server(root, CCTV_RESCAN_INTERVAL="1h")
    synthetic_days(Catalog(root / ".cctv" / "catalog.sqlite3"), root, days)

    began: list[float] = []
    result: dict = {}

    def big() -> None:
        with httpx.stream("GET", f"{srv.url}/playlist.php?date={days[0]}&live=1",
                          timeout=300) as response:
            began.append(time.monotonic())  # its headers: the render is over
            result["response"] = response
            result["body"] = response.read()

    thread = threading.Thread(target=big)
    thread.start()
    answered = []
    while thread.is_alive():
        assert httpx.get(srv.url + "/healthz", timeout=120).status_code == 200
        answered.append(time.monotonic())
    thread.join()
    assert result["response"].status_code == 200
    assert result["body"].count(b"#EXTINF") == DAYS * PER_DAY + 2
    # /healthz was answered, again and again, while the big playlist was being made
    assert len([t for t in answered if t < began[0]]) >= 3
    later = srv.get(f"/playlist.php?date={days[5]}&live=1")  # another start: the days are cached
    assert later.status_code == 200 and later.text.count("#EXTINF") == (DAYS - 5) * PER_DAY + 2


def test_a_live_run_over_more_than_live_max_days_is_refused_with_the_first_allowed_day(
        tmp_path, record, server):
    root = tmp_path / "root"
    for n in range(3):
        record(root, T10 + dt.timedelta(days=n), 2)
    srv = server(root, CCTV_LIVE_MAX_DAYS="2")
    refused = srv.get("/playlist.php?date=2026-11-20&live=1")
    assert refused.status_code == 400
    assert "live_max_days (2)" in refused.text and "2026-11-21" in refused.text
    assert refused.text.count("\n") == 1
    assert srv.get("/playlist.php?date=2026-11-21&live=1").status_code == 200
    assert srv.get("/playlist.php?date=2026-11-20").status_code == 200  # one day is one day


# --- slow clients ---------------------------------------------------------------------------

class LimitedServer(Server):
    """The real server, started with a low open-file limit (as systemd's default is 1,024)."""

    def __init__(self, root: Path, tmp: Path, files: int, **env: str):
        super().__init__(root, tmp, env)
        self.files = files

    def start(self) -> LimitedServer:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "cctv_server.cli", "serve", "--root", str(self.root),
                 "--port", str(self.port)],
                env=self.env, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE,
                                                      (self.files, self.files)),
            )
        self.wait_ready()
        return self


@pytest.fixture
def limited(tmp_path):
    started: list[LimitedServer] = []

    def start(root: Path, files: int, **env: str) -> LimitedServer:
        srv = LimitedServer(root, tmp_path, files, **env).start()
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()


@pytest.fixture
def recorded(tmp_path, record):
    record(tmp_path / "root", T10, 4)
    return tmp_path / "root"


def half_open(port: int, count: int) -> list[socket.socket]:
    held = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        sock.sendall(HALF_REQUEST)
        held.append(sock)
    return held


def test_half_sent_requests_beyond_the_open_file_limit_do_not_lock_others_out(recorded, limited):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    srv = limited(recorded, 512, CCTV_HEADER_TIMEOUT="5m")  # only the limit frees them here
    held = half_open(srv.port, 600)
    try:
        response = httpx.get(srv.url + "/", timeout=30)
        assert response.status_code == 200
        assert httpx.get(srv.url + "/playlist.php?date=2026-11-20", timeout=30).status_code == 200
    finally:
        for sock in held:
            sock.close()
    log = srv.log.read_text()
    assert "max_connections lowered" in log  # 512 files cannot hold 1,000 connections
    assert log.count("connections are open, the limit") == 1  # one line, not one per connection


def closed_by_server(sock: socket.socket, trickle: bytes = b"") -> bool:
    """Wait (30 s at most) for the server to close; meanwhile send `trickle` a byte at a time."""
    sock.settimeout(0.25)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if sock.recv(4096) == b"":
                return True
        except TimeoutError:
            pass
        except ConnectionError:
            return True
        if trickle:
            try:
                sock.send(trickle[:1])
            except ConnectionError:
                return True
            trickle = trickle[1:] or b"X"
    return False


def test_a_request_head_that_does_not_arrive_in_time_is_closed(recorded, server):
    srv = server(recorded, CCTV_HEADER_TIMEOUT="1s")
    silent = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
    half = half_open(srv.port, 1)[0]
    trickling = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
    try:
        assert closed_by_server(silent)
        assert closed_by_server(half)
        assert closed_by_server(trickling, trickle=b"GET / HTTP/1.1\r\nX-Slow: ")  # byte by byte
    finally:
        for sock in (silent, half, trickling):
            sock.close()
    assert srv.get("/").status_code == 200


# --- exports nobody reads, and exports whose sources vanish ----------------------------------

@pytest.fixture(scope="module")
def big_minutes(tmp_path_factory, ffmpeg_bin):
    """90 s of 640x360 in 2-s segments (about 10 MB): a clip more than socket buffers hold."""
    root = tmp_path_factory.mktemp("big") / "root"
    demo.record(ffmpeg_bin, root, T10, 90, segment=2.0, size="640x360", fps=10)
    return root


CLIP = "/export.mp4?from=2026-11-20T10:00:00&to=2026-11-20T10:01:30"


def non_reader(port: int, path: str = CLIP) -> socket.socket:
    """A client that asks for a clip and then reads nothing (a small window, so it stalls)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    return sock


def ffmpegs(parent: int) -> list[int]:
    """The ffmpeg processes making exports for the server (from the process list; not the
    `ffmpeg -version` that finding the binary may run once)."""
    found = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            text = Path(stat).read_text()
            argv = Path(stat).with_name("cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        name, rest = text.rsplit(")", 1)
        if (name.split("(", 1)[1].startswith("ffmpeg") and int(rest.split()[1]) == parent
                and b"concat" in argv):
            found.append(int(stat.split("/")[2]))
    return found


def test_exports_beyond_export_jobs_get_503_and_retry_after(big_minutes, server):
    srv = server(big_minutes, CCTV_EXPORT_JOBS="2")
    stalled = [non_reader(srv.port), non_reader(srv.port)]
    try:
        wait_until(lambda: len(ffmpegs(srv.proc.pid)) == 2)
        busy = srv.get(CLIP)
        assert busy.status_code == 503
        assert int(busy.headers["retry-after"]) > 0 and "export_jobs" in busy.text
        assert len(ffmpegs(srv.proc.pid)) == 2
    finally:
        for sock in stalled:
            sock.close()
    wait_until(lambda: not ffmpegs(srv.proc.pid))  # hung up: ffmpeg killed, the slots free
    assert srv.get(CLIP).status_code == 200


def read_until_closed(sock: socket.socket) -> bytes:
    sock.settimeout(60)
    data = b""
    try:
        while chunk := sock.recv(1 << 16):
            data += chunk
    except ConnectionError:
        pass
    return data


def test_a_stalled_reader_is_disconnected_and_its_ffmpeg_killed(big_minutes, server):
    srv = server(big_minutes, CCTV_SEND_TIMEOUT="1s")
    sock = non_reader(srv.port)
    try:
        wait_until(lambda: ffmpegs(srv.proc.pid))
        wait_until(lambda: not ffmpegs(srv.proc.pid), timeout=30)
        status, _, complete = parse(read_until_closed(sock))
        assert status == 200 and not complete
    finally:
        sock.close()
    assert "read nothing of GET /export.mp4 for 1 s: disconnected" in srv.log.read_text()
    assert srv.get("/healthz").status_code == 200


def open_segment(pid: int) -> str | None:
    """The segment an ffmpeg process has open, if any."""
    for fd in glob.glob(f"/proc/{pid}/fd/*"):
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.endswith(".ts"):
            return os.path.basename(target)
    return None


def stopped_reading(pid: int) -> int:
    """Bytes a process has read, once that stays the same for a second (it is held up)."""
    seen: dict[int, float] = {}

    def steady() -> int | None:
        io = Path(f"/proc/{pid}/io").read_text()
        read = int(io.split("rchar:", 1)[1].split()[0])
        first = seen.setdefault(read, time.monotonic())
        return read if time.monotonic() - first >= 1 else None

    return wait_until(steady, timeout=30)


def parse(data: bytes) -> tuple[int | None, int, bool]:
    """(status, body bytes, whether the message ended properly) of a response read off a
    socket up to its close, as an HTTP client (h11) reads it."""
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="GET", target="/", headers=[("Host", "127.0.0.1")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data(data)
    conn.receive_data(b"")
    status, size = None, 0
    while True:
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError:  # "peer closed connection without sending complete message body"
            return status, size, False
        if isinstance(event, h11.Response):
            status = event.status_code
        elif isinstance(event, h11.Data):
            size += len(event.data)
        elif isinstance(event, h11.EndOfMessage):
            return status, size, True
        else:
            return status, size, False


def test_a_source_deleted_mid_export_fails_the_transfer_and_the_log_says_why(
        big_minutes, server, tmp_path):
    root = tmp_path / "root"
    (root / "2026-11-20").mkdir(parents=True)
    for path in (big_minutes / "2026-11-20").glob("*.ts"):
        os.link(path, root / "2026-11-20" / path.name)  # our own names to delete
    srv = server(root)
    sock = non_reader(srv.port)
    try:
        pid = wait_until(lambda: ffmpegs(srv.proc.pid))[0]
        stopped_reading(pid)  # the client reads nothing: ffmpeg is held up
        reading = open_segment(pid)
        assert reading is not None, "ffmpeg is held up with no segment open"
        later = sorted((p for p in (root / "2026-11-20").glob("*.ts")
                        if layout.natural_key(p.name) > layout.natural_key(reading)),
                       key=lambda p: layout.natural_key(p.name))
        assert len(later) > 5, reading
        for path in later[1:]:  # the next one may be open by the time we get there
            path.unlink()
        status, size, complete = parse(read_until_closed(sock))
    finally:
        sock.close()
    assert status == 200 and size > 1_000_000
    assert not complete  # cut off without the last chunk: a failed transfer, not a short clip
    log = srv.log.read_text()
    assert "export 2026-11-20T10:00:00 to 2026-11-20T10:01:30 failed" in log
    assert "of the 90.0 s planned" in log
