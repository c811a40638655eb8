"""Benchmark: cataloguing a new day of 8,640 segments, and serving playlists and the index of a year.

A synthetic year (365 days x 8,640 segments) is written into the catalog, one real day of 8,640
small files is catalogued from cold, and the server is loaded with wrk on loopback. Each figure
is printed next to a baseline from the same run: a static file of the same size served by the
same server (machines here are noisy, so read ratios, not absolute times).

    .venv/bin/python bench/catalog_and_serve.py [--days 365] [--workdir bench/out/serve]
Needs wrk (Debian: apt-get install wrk).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from cctv_server import demo, layout  # noqa: E402
from cctv_server.footage import timeline  # noqa: E402
from cctv_server.footage.catalog import Catalog  # noqa: E402
from cctv_server.media import ffmpeg  # noqa: E402

TZ = ZoneInfo("UTC")
PER_DAY = 8640
SEGMENT = 10.0


def synthetic_year(catalog: Catalog, first: dt.date, days: int) -> None:
    """365 days of 10-s segments straight into the catalog (no files: this measures serving)."""
    for n in range(days):
        day = (first + dt.timedelta(days=n)).isoformat()
        start = timeline.day_bounds(day, TZ)[0]
        rows = [
            (day, f"{_clock(i)}.ts", layout.natural_key(f"{_clock(i)}.ts"), 450_000,
             int((start + i * SEGMENT + SEGMENT) * 1e9), 126_000 + i * 900_000 % (1 << 33),
             SEGMENT, start + i * SEGMENT, None)
            for i in range(PER_DAY) if not (i % 1000 == 999)  # a few gaps, as real days have
        ]
        with catalog._tx() as tx:
            tx.executemany("INSERT OR REPLACE INTO segment VALUES (?,?,?,?,?,?,?,?,?)", rows)
            catalog._summarise(tx, day, Path("/nonexistent") / day, None, None)


def _clock(i: int) -> str:
    seconds = int(i * SEGMENT)
    return f"{seconds // 3600:02d}-{seconds // 60 % 60:02d}-{seconds % 60:02d}"


def real_day(root: Path, day: str, binary: str) -> None:
    """8,640 small real segment files: one tiny camera segment copied under every name."""
    with demo.tempfile.TemporaryDirectory() as tmp:
        sample = demo.record(binary, Path(tmp), dt.datetime(2000, 1, 1, tzinfo=TZ), SEGMENT,
                             size="160x90", fps=10)[0]
        (root / day).mkdir(parents=True, exist_ok=True)
        for i in range(PER_DAY):
            target = root / day / f"{_clock(i)}.ts"
            shutil.copyfile(sample, target)
            os.utime(target, (0, 0))


def time_cold_catalog(catalog: Catalog, root: Path, day: str) -> float:
    os.sync()
    began = time.process_time()
    result = catalog.sync_day(root, day, time.time(), 0, TZ)
    spent = time.process_time() - began
    assert result.changed and not result.pending
    return spent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SERVER = """
import sys, uvicorn
from cctv_server import config
from cctv_server.web.app import create_app
settings = config.load(env={{}}, flags={{"root": {root!r}, "timezone": "UTC", "compactor": False}})
uvicorn.run(create_app(settings, watch=False), host="127.0.0.1", port={port}, log_level="warning")
"""


def start_server(root: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", SERVER.format(root=str(root), port=port)])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start")


def wrk(url: str, seconds: int, connections: int) -> dict:
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    return {"p50": _ms(out, "50%"), "p99": _ms(out, "99%"),
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "non2xx": "Non-2xx" in out}


def _ms(out: str, label: str) -> float:
    value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", out).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration per URL")
    parser.add_argument("--workdir", type=Path, default=Path("bench/out/serve"))
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("needs wrk: apt-get install wrk")
    shutil.rmtree(args.workdir, ignore_errors=True)
    root = args.workdir / "root"
    root.mkdir(parents=True)
    catalog = Catalog(root / ".cctv" / "catalog.sqlite3")
    first = dt.date(2025, 1, 1)
    began = time.monotonic()
    synthetic_year(catalog, first, args.days)
    print(f"synthetic archive: {args.days} days x {PER_DAY} segments in {time.monotonic() - began:.0f} s")

    new_day = (first + dt.timedelta(days=args.days)).isoformat()
    real_day(root, new_day, ffmpeg.locate())
    cold = time_cold_catalog(catalog, root, new_day)
    print(f"catalog a new day of {PER_DAY} real segment files from cold: {cold:.2f} CPU s "
          f"({cold / PER_DAY * 1000:.3f} ms per segment; target <= 10 s)")
    report(root, new_day, args.seconds, first)


def report(root: Path, new_day: str, seconds: int, first: dt.date) -> None:
    port = free_port()
    proc = start_server(root, port)
    base = f"http://127.0.0.1:{port}"
    try:
        one_day = f"{base}/playlist.php?date={first.isoformat()}"
        body = subprocess.run(["curl", "-s", one_day], capture_output=True, check=True).stdout
        index = subprocess.run(["curl", "-s", base + "/"], capture_output=True, check=True).stdout
        for name, size in (("baseline-playlist.ts", len(body)), ("baseline-index.ts", len(index))):
            (root / new_day / name).write_bytes(b"\x47" * size)
        rows = [
            ("one-day playlist (warm)", one_day, len(body)),
            ("  baseline: static file of that size", f"{base}/{new_day}/baseline-playlist.ts", len(body)),
            ("index of the year", base + "/", len(index)),
            ("  baseline: static file of the index's size", f"{base}/{new_day}/baseline-index.ts", len(index)),
            ("live playlist, newest minutes", base + "/live.m3u8", None),
        ]
        print(f"\nwrk -t1, {seconds} s per URL, loopback; latency in ms at 1 connection, req/s at 4")
        print(f"{'what':44} {'bytes':>9} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>9}")
        results = {}
        for label, url, size in rows:
            subprocess.run(["curl", "-s", "-o", "/dev/null", url], check=True)  # warm
            lat = wrk(url, seconds, 1)
            rps = wrk(url, seconds, 4)["rps"]
            results[label] = (lat, rps)
            print(f"{label:44} {size or '':>9} {lat['p50']:>8.2f} {lat['p99']:>8.2f} {rps:>9.0f}")
        print(f"\nserver RSS after the load: {rss_mb(proc.pid):.0f} MB (target < 150 MB)")
        print(json.dumps({k: {"p50": v[0]["p50"], "p99": v[0]["p99"], "rps": v[1]}
                          for k, v in results.items()}))
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
