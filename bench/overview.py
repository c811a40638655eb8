"""Benchmark: the overview page of many cameras, each with a year of catalog.

One synthetic year (365 days x 8,640 segments) is written into a catalog once and copied to
every camera; each camera also gets a real newest segment, so that its tile has footage. The
server is loaded with wrk on loopback and each figure printed beside a static file of the same
size served by the same server (machines here are noisy: read ratios, not absolute times).

    .venv/bin/python bench/overview.py [--cameras 16] [--days 365] [--workdir bench/out/overview]
Needs wrk (Debian: apt-get install wrk).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from catalog_and_serve import free_port, rss_mb, synthetic_year, wrk  # noqa: E402

from cctv_server import demo  # noqa: E402
from cctv_server.footage.catalog import Catalog  # noqa: E402
from cctv_server.media import ffmpeg  # noqa: E402

SERVER = """
import sys, uvicorn
from cctv_server import cameras, config
from cctv_server.web.server import create_server
settings = config.load(env={{}}, flags={{"timezone": "UTC", "compactor": False}})
cams = cameras.load(settings, None, {specs!r})
uvicorn.run(create_server(settings, cams, watch=False), host="127.0.0.1", port={port},
            log_level="warning")
"""


def make_cameras(workdir: Path, count: int, days: int) -> list[str]:
    """`count` camera roots sharing one synthetic year (copied), each with a recent real segment."""
    year = workdir / "year.sqlite3"
    began = time.monotonic()
    synthetic_year(Catalog(year), dt.date(2025, 1, 1), days)
    Catalog(year)._db().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print(f"synthetic year: {days} days x 8640 segments in {time.monotonic() - began:.0f} s")
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    newest = demo.record(ffmpeg.locate(), workdir / "camera-00", now - dt.timedelta(seconds=20), 10,
                         segment=10, size="320x180")[-1]
    specs = []
    for n in range(count):
        root = workdir / f"camera-{n:02d}"
        (root / ".cctv").mkdir(parents=True, exist_ok=True)
        shutil.copy(year, root / ".cctv" / "catalog.sqlite3")
        day_dir = root / newest.parent.name
        day_dir.mkdir(exist_ok=True)
        if not (day_dir / newest.name).exists():
            shutil.copy(newest, day_dir / newest.name)
        Catalog(root / ".cctv" / "catalog.sqlite3").sync_day(root, day_dir.name, time.time(), 0,
                                                             dt.timezone.utc)
        specs.append(f"cam{n:02d}={root}")
    return specs


def start(specs: list[str], port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", SERVER.format(specs=specs, port=port)])
    for _ in range(300):
        try:
            if subprocess.run(["curl", "-sf", "-o", "/dev/null", f"http://127.0.0.1:{port}/"],
                              timeout=30).returncode == 0:
                return proc
        except subprocess.TimeoutExpired:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=16)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration per URL")
    parser.add_argument("--workdir", type=Path, default=Path("bench/out/overview"))
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("needs wrk: apt-get install wrk")
    shutil.rmtree(args.workdir, ignore_errors=True)
    args.workdir.mkdir(parents=True)
    specs = make_cameras(args.workdir, args.cameras, args.days)
    port = free_port()
    proc = start(specs, port)
    base = f"http://127.0.0.1:{port}"
    try:
        page = subprocess.run(["curl", "-s", base + "/"], capture_output=True, check=True).stdout
        day = next(p.name for p in (args.workdir / "camera-00").iterdir() if p.name[0].isdigit())
        (args.workdir / "camera-00" / day / "baseline.ts").write_bytes(b"\x47" * len(page))
        rows = [(f"overview of {args.cameras} cameras, a year each", base + "/"),
                ("  baseline: static file of that size", f"{base}/cam/cam00/{day}/baseline.ts"),
                ("one camera's still (cached JPEG)", f"{base}/cam/cam00/still.jpg")]
        print(f"\nwrk -t1, {args.seconds} s per URL, loopback; latency in ms at 1 connection,"
              f" req/s at 4; the page is {len(page)} bytes")
        print(f"{'what':44} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>9}")
        results = {}
        for label, url in rows:
            subprocess.run(["curl", "-s", "-o", "/dev/null", url], check=True)  # warm
            lat, rps = wrk(url, args.seconds, 1), wrk(url, args.seconds, 4)["rps"]
            results[label] = {"p50": lat["p50"], "p99": lat["p99"], "rps": rps}
            print(f"{label:44} {lat['p50']:>8.2f} {lat['p99']:>8.2f} {rps:>9.0f}")
        print(f"\nserver RSS after the load: {rss_mb(proc.pid):.0f} MB")
        print(json.dumps(results))
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
