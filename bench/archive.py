"""An archived day against a local one, in the same run: time to first picture, and export speed.

Usage: python bench/archive.py [--minutes M] [--repeat N]

One recorded day (M minutes of 640x360, compacted by stream copy) is copied into two cameras'
roots; one copy is moved to a real SeaweedFS (started here, on free loopback ports) by the real
`cctv-server archive`. One real server serves both cameras, once with `archive_serve = presign`
and once with `proxy`. Time to first picture is ffmpeg's HLS client asked for the day's
playlist and one decoded frame (what a player waits for, the process start included alike);
export is `/export.mp4` of the whole day. Requests alternate local/archived round by round so
the machine's drift hits both alike; medians, and the archived/local ratios.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT_DIR))

from cctv_server import demo  # noqa: E402
from cctv_server.media.ffmpeg import locate  # noqa: E402
from tests import seaweed as weed  # noqa: E402
from tests.conftest import free_port  # noqa: E402

DAY = "2026-11-20"
START = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.timezone.utc)


def cli(*args: str, env: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "-m", "cctv_server.cli", *args], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def make_roots(work: Path, minutes: float, env: dict[str, str]) -> tuple[Path, Path]:
    local = work / "local"
    demo.record(locate(), local, START, minutes * 60, segment=4.0, size="640x360", fps=15)
    cli("compact", "--root", str(local), "--settle", "0", env=env | {"CCTV_CODEC": "copy"})
    archived = work / "archived"
    shutil.copytree(local, archived)
    cli("archive", "--root", str(archived), env=env)
    assert not (archived / DAY / "video.mp4").exists()
    return local, archived


def serve(local: Path, archived: Path, env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cctv_server.cli", "serve", "--camera", f"local={local}",
         "--camera", f"archived={archived}", "--port", str(port)],
        env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("server did not start: " + log.read_text()[-2000:])


def first_picture(url: str) -> float:
    begin = time.perf_counter()
    done = subprocess.run([locate(), "-hide_banner", "-loglevel", "error", "-i",
                           f"{url}/playlist.php?date={DAY}", "-frames:v", "1", "-f", "null", "-"],
                          capture_output=True)
    assert done.returncode == 0, done.stderr.decode()[-500:]
    return time.perf_counter() - begin


def export(url: str, minutes: float) -> tuple[float, int]:
    end = START + dt.timedelta(minutes=minutes)
    begin = time.perf_counter()
    answer = httpx.get(f"{url}/export.mp4?from={START:%Y-%m-%dT%H:%M:%S}&to={end:%Y-%m-%dT%H:%M:%S}",
                       timeout=600)
    assert answer.status_code == 200, answer.text
    return time.perf_counter() - begin, len(answer.content)


def compare(url: str, minutes: float, repeat: int) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {k: [] for k in ("ttfp-local", "ttfp-archived",
                                                     "export-local", "export-archived")}
    for _ in range(repeat):
        for cam in ("local", "archived"):
            found[f"ttfp-{cam}"].append(first_picture(f"{url}/cam/{cam}"))
            seconds, size = export(f"{url}/cam/{cam}", minutes)
            found[f"export-{cam}"].append(size / seconds / 1e6)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-archive-"))
    store = weed.start(work / "seaweed")
    try:
        bucket = store.bucket()
        env = os.environ | store.env() | {
            "CCTV_TIMEZONE": "UTC", "CCTV_ARCHIVE": f"s3://{bucket}/cams",
            "CCTV_ARCHIVE_ENDPOINT": store.endpoint, "CCTV_ARCHIVE_AFTER": "0",
            "CCTV_COMPACTOR": "false", "CCTV_STABLE_SECONDS": "0", "CCTV_KEEP_FREE": "0"}
        local, archived = make_roots(work, args.minutes, env)
        size = (local / DAY / "video.mp4").stat().st_size
        print(f"day: {args.minutes:g} min of 640x360 15 fps, video {size / 1e6:.1f} MB;"
              f" {args.repeat} rounds, medians")
        for mode in ("presign", "proxy"):
            proc, url = serve(local, archived, env | {"CCTV_ARCHIVE_SERVE": mode},
                              work / f"server-{mode}.log")
            try:
                m = {k: statistics.median(v) for k, v in compare(url, args.minutes, args.repeat).items()}
            finally:
                proc.terminate()
                proc.wait(10)
            print(f"{mode:8} first picture: local {m['ttfp-local'] * 1000:.0f} ms, archived"
                  f" {m['ttfp-archived'] * 1000:.0f} ms, x{m['ttfp-archived'] / m['ttfp-local']:.2f};"
                  f" export: local {m['export-local']:.1f} MB/s, archived"
                  f" {m['export-archived']:.1f} MB/s, x{m['export-archived'] / m['export-local']:.2f}")
    finally:
        os.killpg(store.proc.pid, signal.SIGKILL)  # nothing of it is kept
        store.proc.wait(15)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
