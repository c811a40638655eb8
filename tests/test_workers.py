"""Compaction across machines: chunks as tasks on the real Redis, real `cctv-server worker`
processes (killed with SIGKILL), the real server; every failure path of issue 22."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
import redis

from .conftest import frames_in, free_port, process_state, wait_until
from .test_compactor import DAY, ENV, START, segment_names

REDIS = "redis://127.0.0.1:6379/0"
SECONDS = 16  # footage of the test day: 8 segments of 2 s, 4 chunks of 4 s


class Site:
    """A root with one day to compact, its server, a worker's token, and a broker namespace of
    the test's own (tests run in parallel on the one Redis)."""

    def __init__(self, tmp: Path, root: Path, broker: str, server):
        self.tmp, self.root, self.broker = tmp, root, broker
        self.namespace = f"cctvtest-{uuid.uuid4().hex[:12]}"
        self.env = os.environ | ENV | {
            "CCTV_BROKER": broker, "CCTV_BROKER_NAMESPACE": self.namespace,
            "CCTV_CHUNK_SECONDS": "4s", "CCTV_WORKER_TIMEOUT": "3s",
            "CCTV_QUALITY_SAMPLE": "false"}
        self.srv = server(root, **{k: v for k, v in self.env.items() if k.startswith("CCTV_")})
        self.token_file = tmp / "worker.token"
        self.token_id = self.add_token("w1", self.token_file)
        self.procs: list[subprocess.Popen] = []

    def cli(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "cctv_server.cli", *args],
                              env=self.env | env, capture_output=True, text=True, timeout=180)

    def add_token(self, name: str, path: Path) -> str:
        made = self.cli("token", "add", "--worker", name, "--root", str(self.root))
        assert made.returncode == 0, made.stderr
        path.write_text(made.stdout.splitlines()[-1] + "\n")
        return re.search(r"token (\w+) for worker", made.stdout).group(1)

    def worker(self, token_file: Path | None = None, **env: str) -> subprocess.Popen:
        log = self.tmp / f"worker-{len(self.procs)}.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "cctv_server.cli", "worker", "--server", self.srv.url,
             "--token-file", str(token_file or self.token_file), "--jobs", "1"],
            env=self.env | env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
        proc.log = log
        self.procs.append(proc)
        return proc

    def compact(self, **env: str) -> subprocess.CompletedProcess:
        return self.cli("compact", "--root", str(self.root), "--settle", "0", **env)

    def compact_in_background(self) -> subprocess.Popen:
        log = self.tmp / "compact.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "cctv_server.cli", "compact", "--root", str(self.root),
             "--settle", "0"], env=self.env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
        proc.log = log
        self.procs.append(proc)
        return proc

    def status(self) -> str:
        found = self.cli("status", "--root", str(self.root))
        return found.stdout + found.stderr

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        try:
            client = redis.Redis.from_url(self.broker)
            keys = list(client.scan_iter(f"{self.namespace}:*"))
            if keys:
                client.delete(*keys)
        except redis.RedisError:
            pass


@pytest.fixture
def site(tmp_path, record, server):
    made: list[Site] = []

    def start(broker: str = REDIS) -> Site:
        root = tmp_path / "root"
        if not root.exists():
            record(root, START, SECONDS)
        made.append(Site(tmp_path, root, broker, server))
        return made[-1]

    yield start
    for s in made:
        s.close()


def _compacted(root: Path, frames: int, ffmpeg_bin: str) -> None:
    """The day is one video holding every frame, and its segments are gone."""
    assert (root / DAY / "video.mp4").exists()
    assert segment_names(root / DAY) == []
    assert frames_in(ffmpeg_bin, [root / DAY / "video.mp4"]) == frames


def _stopped(proc: subprocess.Popen) -> bool:
    return process_state(proc.pid) == "T"


@pytest.mark.slow
def test_workers_compact_a_day_whose_chunks_they_fetch_over_http_and_the_pages_say_by_whom(
        site, ffmpeg_bin):
    s = site()
    want = frames_in(ffmpeg_bin, sorted((s.root / DAY).glob("*.ts")))
    s.worker()
    s.worker()
    done = s.compact()
    assert done.returncode == 0, done.stdout + done.stderr
    _compacted(s.root, want, ffmpeg_bin)
    named = re.findall(r"chunk (\d) \(task \w+\) encoded by worker (\S+)", done.stderr)
    assert sorted(k for k, _ in named) == ["0", "1", "2", "3"] and {w for _, w in named} == {"w1"}
    status = s.status()
    assert "0 chunks waiting, 0 running" in status
    assert re.search(r"worker w1@\S+: alive, last seen \d+ s ago, \d chunks done", status)
    figures = s.srv.get("/metrics").text
    assert 'cctv_chunk_tasks{state="waiting"} 0.0' in figures and "cctv_broker_up 1.0" in figures
    assert sum(float(n) for n in re.findall(r'cctv_worker_chunks_total\{worker="w1@[^"]+"\} (\S+)',
                                            figures)) == 4
    # Two processes, one worker token. (The server's catalog may answer 503 for a moment after
    # the compactor's writes: asked again.)
    wait_until(lambda: "by 1 worker)" in s.srv.get("/").text, timeout=20)


@pytest.mark.slow
def test_a_worker_killed_mid_chunk_has_its_chunk_redone_by_another(site, ffmpeg_bin):
    s = site()
    want = frames_in(ffmpeg_bin, sorted((s.root / DAY).glob("*.ts")))
    doomed = s.worker(CCTVTEST_PAUSE_AT="worker-fetched")  # stops itself holding a chunk
    compacting = s.compact_in_background()
    wait_until(lambda: _stopped(doomed), timeout=60)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait()
    s.worker()  # redoes it once the broker finds the first one silent (worker_timeout 3 s)
    assert compacting.wait(120) == 0, compacting.log.read_text()
    _compacted(s.root, want, ffmpeg_bin)


@pytest.mark.slow
@pytest.mark.parametrize("fault, caught", [
    ("truncate", "came back unsound"),  # checksum fits: the frame check catches it
    ("corrupt", "do not match the SHA-256"),  # the server refuses it on arrival
])
def test_a_worker_that_sends_a_bad_chunk_is_caught_and_the_chunk_redone(site, ffmpeg_bin,
                                                                          fault, caught):
    s = site()
    want = frames_in(ffmpeg_bin, sorted((s.root / DAY).glob("*.ts")))
    worker = s.worker(CCTVTEST_WORKER_FAULT=f"{fault}:1")
    done = s.compact()
    assert done.returncode == 0, done.stdout + done.stderr
    _compacted(s.root, want, ffmpeg_bin)
    logs = done.stderr + worker.log.read_text() + s.srv.log.read_text()
    assert caught in logs


@pytest.mark.slow
def test_a_chunk_retried_more_than_chunk_retries_fails_the_day_and_keeps_its_segments(site):
    s = site()
    before = segment_names(s.root / DAY)
    s.worker(CCTVTEST_WORKER_FAULT="truncate:100")
    done = s.compact(CCTV_CHUNK_RETRIES="1")
    assert done.returncode == 1
    assert "retried 1 times (chunk_retries)" in done.stdout
    assert segment_names(s.root / DAY) == before
    assert not (s.root / DAY / "video.mp4").exists()
    assert not list((s.root / DAY).glob(".*.chunks"))


@pytest.mark.slow
def test_with_no_worker_alive_the_day_waits_with_its_segments_and_status_says_so(site, ffmpeg_bin):
    s = site()
    want = frames_in(ffmpeg_bin, sorted((s.root / DAY).glob("*.ts")))
    compacting = s.compact_in_background()
    status = wait_until(lambda: "waiting for a worker: none alive" in (t := s.status()) and t,
                        timeout=60)
    assert "4 chunks waiting, 0 running" in status and "0 workers alive (the days wait)" in status
    assert len(segment_names(s.root / DAY)) == SECONDS // 2
    assert compacting.poll() is None
    s.worker()
    assert compacting.wait(120) == 0, compacting.log.read_text()
    _compacted(s.root, want, ffmpeg_bin)


def test_an_unreachable_broker_is_named_compact_fails_and_healthz_is_degraded(site):
    url = f"redis://127.0.0.1:{free_port()}/0"
    s = site(url)
    before = segment_names(s.root / DAY)
    done = s.compact()
    assert done.returncode == 1
    assert f"broker {url} unreachable" in done.stdout
    assert segment_names(s.root / DAY) == before
    health = wait_until(lambda: "degraded" in (r := s.srv.get("/healthz")).text and r, timeout=15)
    assert f"broker {url} unreachable" in health.text
    assert s.srv.get("/healthz?strict=1").status_code == 503


def _redis_server(port: int, tmp: Path) -> subprocess.Popen:
    binary = shutil.which("redis-server")
    assert binary, "redis-server is needed (apt-get install redis-server)"
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    wait_until(lambda: _pings(client), timeout=10)
    return proc


def _pings(client: redis.Redis) -> bool:
    try:
        return client.ping()
    except redis.RedisError:
        return False


@pytest.mark.slow
def test_a_broker_restarted_mid_day_loses_nothing_and_the_day_completes_on_the_next_pass(
        site, tmp_path, ffmpeg_bin):
    port = free_port()
    broker = _redis_server(port, tmp_path)
    try:
        s = site(f"redis://127.0.0.1:{port}/0")
        want = frames_in(ffmpeg_bin, sorted((s.root / DAY).glob("*.ts")))
        before = segment_names(s.root / DAY)
        held = s.worker(CCTVTEST_PAUSE_AT="worker-fetched")
        compacting = s.compact_in_background()
        wait_until(lambda: _stopped(held), timeout=60)
        broker.kill()  # its queue was in memory alone: every task is gone
        broker.wait()
        assert compacting.wait(60) == 1
        assert f"broker redis://127.0.0.1:{port}/0 unreachable" in compacting.log.read_text()
        assert segment_names(s.root / DAY) == before
        broker = _redis_server(port, tmp_path)
        held.send_signal(signal.SIGCONT)  # its chunk is refused: the day is no longer compacted
        wait_until(lambda: "dropped" in held.log.read_text(), timeout=60)
        held.kill()  # it would stop itself at its next chunk again
        s.worker()
        done = s.compact()
        assert done.returncode == 0, done.stdout + done.stderr
        _compacted(s.root, want, ffmpeg_bin)
    finally:
        broker.kill()
        broker.wait()


@pytest.mark.slow
def test_a_server_restarted_while_chunks_are_out_loses_nothing(site, ffmpeg_bin):
    s = site()
    want = frames_in(ffmpeg_bin, sorted((s.root / DAY).glob("*.ts")))
    s.srv.stop()  # the workers' requests fail; they try again until it is back
    s.worker()
    compacting = s.compact_in_background()
    time.sleep(3)
    s.srv.start()
    assert compacting.wait(120) == 0, compacting.log.read_text()
    _compacted(s.root, want, ffmpeg_bin)


@pytest.mark.slow
def test_a_revoked_worker_stops_at_its_next_request_and_its_chunk_goes_back(site):
    s = site()
    worker = s.worker()
    wait_until(lambda: "taking chunks" in worker.log.read_text(), timeout=30)
    revoked = s.cli("token", "revoke", s.token_id, "--root", str(s.root))
    assert revoked.returncode == 0 and "worker w1" in revoked.stdout
    compacting = s.compact_in_background()
    assert worker.wait(60) == 0
    assert "refuses this worker's token" in worker.log.read_text()
    status = wait_until(lambda: "4 chunks waiting" in (t := s.status()) and t, timeout=30)
    assert "0 running" in status
    assert compacting.poll() is None  # the day waits for a worker whose token holds


def test_a_worker_token_reaches_no_route_but_the_workers_and_only_while_a_day_is_compacted(site):
    s = site()
    auth = {"Authorization": f"Bearer {s.token_file.read_text().strip()}"}
    assert s.srv.get("/worker/whoami", headers=auth).json()["name"] == "w1"
    for path in ("/", f"/playlist.php?date={DAY}", f"/{DAY}/10-00-00.ts", "/export.mp4",
                 f"/day/{DAY}", "/still.jpg", "/cam/camera/"):
        assert s.srv.get(path, headers=auth).status_code == 403, path
    put = httpx.put(f"{s.srv.url}/upload/{DAY}/10-59-00.ts", content=b"x", headers=auth)
    assert put.status_code == 403
    # Not being compacted: nothing to read, nothing to send.
    assert s.srv.get(f"/cam/camera/worker/{DAY}/10-00-00.ts", headers=auth).status_code == 409
    sent = httpx.put(f"{s.srv.url}/cam/camera/worker/{DAY}/tasks/{'a' * 32}.mp4", content=b"x",
                     headers=auth | {"Repr-Digest": "sha-256=:" + "A" * 43 + "=:"})
    assert sent.status_code == 409
    # The worker's routes want a worker's token.
    assert s.srv.get(f"/cam/camera/worker/{DAY}/10-00-00.ts").status_code == 401
    camera = s.cli("token", "add", "camera", "--root", str(s.root)).stdout.splitlines()[-1]
    refused = s.srv.get("/worker/whoami", headers={"Authorization": f"Bearer {camera}"})
    assert refused.status_code == 403
