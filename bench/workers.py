"""Benchmark: a backlog of days (several cameras) drained by the in-process compactor, then by 1 and 2 `cctv-server worker` processes, each pinned to one core, on the same cores in the same run.

    .venv/bin/python bench/workers.py [--cameras 3] [--seconds 60] [--size 1280x720] [--fps 25]
        [--broker redis://127.0.0.1:6379/0] [--workdir bench/out/workers]

Every contender gets a fresh copy of the same backlog and the same cores (`taskset`): the
in-process compactor with jobs = cores; with workers, the server and the compactor (the server's
own share: probe, join, verification, index, checksum) are pinned to those cores too, as they
would share the server machine. Printed: throughput (video-seconds compacted per wall second),
each contender's ratio to the in-process compactor on the same cores, the 2-worker/1-worker
scaling, and the figures docs/scale-out.md's model takes: worker CPU seconds per chunk, bytes
over the network per chunk, and the server's own seconds per video-second. Ratios, not times:
the machine is shared. Needs taskset and a Redis.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import httpx  # noqa: E402
import redis  # noqa: E402

from cctv_server import demo  # noqa: E402
from cctv_server.media import ffmpeg  # noqa: E402

DAY = "2024-05-01"
START = dt.datetime(2024, 5, 1, 10, 0, tzinfo=ZoneInfo("UTC"))
CLI = [sys.executable, "-m", "cctv_server.cli"]


def make_backlog(template: Path, cameras: int, seconds: float, size: str, fps: int) -> None:
    """One day of `seconds` per camera: a backlog of days over several cameras."""
    if template.exists():
        return
    binary = ffmpeg.locate()
    for k in range(cameras):
        demo.record(binary, template / f"cam{k}", START, seconds, segment=10.0, size=size, fps=fps)


def fresh(template: Path, work: Path) -> list[str]:
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(template, work)
    return [a for d in sorted(work.iterdir()) for a in ("--camera", f"{d.name}={d}")]


def env(extra: dict) -> dict:
    return os.environ | {"CCTV_TIMEZONE": "UTC", "CCTV_STABLE_SECONDS": "0",
                         "CCTV_QUALITY_SAMPLE": "false", "CCTV_KEEP_FREE": "0"} | extra


def pinned(cores: str) -> list[str]:
    return ["taskset", "-c", cores]


def in_process(template: Path, work: Path, cores: str, jobs: int) -> float:
    cams = fresh(template, work)
    started = time.monotonic()
    subprocess.run(pinned(cores) + CLI + ["compact", *cams, "--settle", "0"], check=True,
                   env=env({"CCTV_JOBS": str(jobs)}), capture_output=True)
    return time.monotonic() - started


def with_workers(template: Path, work: Path, cores: list[str], broker: str) -> tuple[float, dict]:
    """Wall seconds to drain the backlog with one worker per core in `cores`; the workers' figures."""
    cams = fresh(template, work)
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    extra = {"CCTV_BROKER": broker, "CCTV_BROKER_NAMESPACE": namespace,
             "CCTV_CHUNK_SECONDS": "30s", "CCTV_WORKER_TIMEOUT": "30s"}
    every = ",".join(cores)
    port = _free_port()
    token = subprocess.run(CLI + ["token", "add", "--worker", "bench", *cams], env=env(extra),
                           capture_output=True, text=True, check=True).stdout.splitlines()[-1]
    (work / "token").write_text(token + "\n")
    procs = [subprocess.Popen(pinned(every) + CLI + ["serve", *cams, "--port", str(port),
                                                     "--no-compactor"],
                              env=env(extra), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        _wait_ready(f"http://127.0.0.1:{port}/healthz")
        for core in cores:
            procs.append(subprocess.Popen(
                pinned(core) + CLI + ["worker", "--server", f"http://127.0.0.1:{port}",
                                      "--token-file", str(work / "token"), "--jobs", "1"],
                env=env(extra), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(2)  # the workers connected: their start-up is no part of the drain
        started = time.monotonic()
        subprocess.run(pinned(every) + CLI + ["compact", *cams, "--settle", "0"], check=True,
                       env=env(extra), capture_output=True)
        wall = time.monotonic() - started
        return wall, _figures(broker, namespace)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        client = redis.Redis.from_url(broker)
        keys = list(client.scan_iter(f"{namespace}:*"))
        if keys:
            client.delete(*keys)


def _figures(broker: str, namespace: str) -> dict:
    found = redis.Redis.from_url(broker).hgetall(f"{namespace}:cctv:workers")
    return {k.decode(): json.loads(v) for k, v in found.items()}


def server_share(work: Path) -> tuple[float, float, int, int]:
    """From each camera's catalog: (the compactor's own CPU seconds outside the encode, footage
    seconds, segment bytes in, video bytes out)."""
    own = footage = bytes_in = bytes_out = 0
    for cam in sorted(p for p in work.iterdir() if p.is_dir() and not p.name.startswith(".")):
        db = sqlite3.connect(cam / ".cctv" / "catalog.sqlite3")
        row = db.execute("SELECT phases, input_size, output_size, seconds, realtime"
                         " FROM compaction WHERE day = ?", (DAY,)).fetchone()
        phases = json.loads(row[0] or "{}")
        own += sum(cpu for k, (_, cpu) in phases.items() if k != "encode")  # [wall, cpu]
        footage += (row[3] or 0) * (row[4] or 0)
        bytes_in += row[1] or 0
        bytes_out += row[2] or 0
    return own, footage, bytes_in, bytes_out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(url: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the server at {url} did not become ready")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cameras", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--fps", type=int, default=25)
    ap.add_argument("--broker", default="redis://127.0.0.1:6379/0")
    ap.add_argument("--workdir", type=Path, default=Path("bench/out/workers"))
    args = ap.parse_args()
    template = args.workdir / f"backlog-{args.cameras}x{args.seconds:.0f}s-{args.size}-{args.fps}"
    make_backlog(template, args.cameras, args.seconds, args.size, args.fps)
    footage = args.cameras * args.seconds
    work = args.workdir / "run"
    rows = []
    for cores in (["0"], ["0", "1"]):
        base = in_process(template, work, ",".join(cores), len(cores))
        wall, figures = with_workers(template, work, cores, args.broker)
        own, seconds, bytes_in, bytes_out = server_share(work)
        chunks = sum(f["chunks"] for f in figures.values())
        cpu = sum(f["cpu"] for f in figures.values())
        rows.append((len(cores), base, wall, chunks, cpu, own, seconds, bytes_in, bytes_out))
        print(f"# {len(cores)} cores: in-process {base:.1f} s, workers {wall:.1f} s, {chunks} chunks,"
              f" {cpu:.1f} worker CPU-s, server's own {own:.1f} CPU-s", flush=True)
    print(f"backlog: {args.cameras} cameras x {args.seconds:.0f} s of {args.size} at {args.fps} fps"
          f" ({footage:.0f} video-seconds), chunks of 30 s\n")
    print("cores  in-process  workers   workers/in-process  (video-s per wall-s)")
    for n, base, wall, *_ in rows:
        print(f"{n:5d}  {footage / base:10.2f}  {footage / wall:7.2f}   {base / wall:18.2f}")
    one, two = rows[0][2], rows[1][2]
    print(f"\nscaling, 2 workers / 1 worker: {one / two:.2f}x"
          f"   (in-process, 2 cores / 1 core: {rows[0][1] / rows[1][1]:.2f}x)")
    n, _, _, chunks, cpu, own, seconds, bytes_in, bytes_out = rows[-1]
    print(f"\nper chunk (30 s of footage): {cpu / max(1, chunks):.1f} worker CPU-s,"
          f" {(bytes_in + bytes_out) / max(1, chunks) / 1e6:.2f} MB over the network"
          f" ({bytes_in / max(1, chunks) / 1e6:.2f} MB of segments out, "
          f"{bytes_out / max(1, chunks) / 1e6:.2f} MB of chunk back)")
    print(f"server's own share (probe, join, verify, index, checksum): {own:.1f} CPU-s for"
          f" {footage:.0f} video-s = {own / footage:.3f} s per video-second")


if __name__ == "__main__":
    main()
