"""Load test on loopback: N cameras uploading a real segment every interval, M viewers following live playlists, the compactor at work.

The real `cctv-server serve` runs with N cameras (each a root of its own, each with its token)
and its background compactor, which has an old day of footage to compact in some of them. Each
camera uploads 10-s segments of 720p H.264 (recorded once by ffmpeg), one every `--interval`
seconds (below 10, time is compressed), spread evenly over the interval as unsynchronised
cameras are. Each viewer follows one camera's live playlist (`live.m3u8`, or
`playlist.php?date=D&live=1`) as a player does: a conditional GET every `--poll` seconds, and
each new segment fetched once. The viewers arrive over the first half of `--idle` seconds and
watch alone for the second half (the baseline); then the cameras join for `--duration` seconds.
The cameras and the viewers run in processes of their own, so that neither's work on the client
side delays the other's measurements. Afterwards every upload that was answered 2xx must be on
disk byte for byte and listed in its camera's playlist, in order.

    .venv/bin/python bench/load.py [--cameras 50] [--viewers 50] [--duration 60] [--interval 5]

Prints a table (and writes WORKDIR/load.json): uploads a second against those due, p50/p99 of
upload, playlist and segment latency as the clients saw them (the playlist's also against the
baseline, and as the server measured it), errors, lost segments, the server's RSS and CPU, the
compactor's CPU. Target: 0 errors, 0 lost, playlist p99 under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import multiprocessing
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from cctv_server.access.service import Access  # noqa: E402
from cctv_server.media import ffmpeg  # noqa: E402
from cctv_server.upload.push import LIMITS  # noqa: E402

UTC = ZoneInfo("UTC")
SEGMENT = 10.0  # seconds of footage in each uploaded segment
TICK = os.sysconf("SC_CLK_TCK")
TARGET_P99_MS = 100.0
PLAYLIST_ROUTES = ("newest", "playlist")  # the handlers of live.m3u8 and playlist.php


@dataclass
class Tally:
    """What one kind of request took (and when it began, wall clock), and what went wrong."""

    seconds: list[float] = field(default_factory=list)
    at: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(self, at: float, seconds: float) -> None:
        self.at.append(at)
        self.seconds.append(seconds)

    def merge(self, other: Tally) -> None:
        self.seconds += other.seconds
        self.at += other.at
        self.errors += other.errors

    def ms(self, q: float) -> float:
        if not self.seconds:
            return float("nan")
        ordered = sorted(self.seconds)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def slowest(self, origin: float, n: int = 10) -> list[tuple[float, float]]:
        """(seconds into the run, ms) of the slowest requests: when the tail happened."""
        pairs = sorted(zip(self.seconds, self.at), reverse=True)[:n]
        return [(round(a - origin, 2), round(1000 * s, 1)) for s, a in pairs]


@dataclass(frozen=True)
class Sent:
    camera: str
    day: str
    name: str
    sha256: str


@dataclass(frozen=True)
class Plan:
    """What every client process needs to know: the same clock for all."""

    base: str
    pool: list[Path]
    interval: float
    poll: float
    first_name: float  # the clock time every camera's first segment begins
    arrive: float  # wall clock: viewers arrive from here ...
    idle: float  # ... the baseline is measured from here ...
    load: float  # ... the cameras start here ...
    end: float  # ... and everyone stops here


# --- the footage and the site --------------------------------------------------------------

def record_pool(workdir: Path, count: int, size: str, fps: int, bitrate: str) -> list[Path]:
    """`count` consecutive 10-s segments of one camera run, made once and kept for later runs."""
    folder = workdir / f"pool-{size}-{fps}-{bitrate}"
    found = sorted(folder.glob("*.ts"))
    if len(found) >= count:
        return found[:count]
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    argv = [ffmpeg.locate(), "-hide_banner", "-loglevel", "error", "-f", "lavfi",
            "-i", f"testsrc2=size={size}:rate={fps}", "-t", str(count * SEGMENT),
            "-c:v", "libx264", "-preset", "ultrafast", "-b:v", bitrate, "-maxrate", bitrate,
            "-bufsize", bitrate, "-pix_fmt", "yuv420p", "-bf", "0", "-g", str(fps * 2),
            "-force_key_frames", f"expr:gte(t,n_forced*{SEGMENT})", "-f", "segment",
            "-segment_time", str(SEGMENT), "-segment_format", "mpegts", "-reset_timestamps", "0",
            str(folder / "%05d.ts")]
    ffmpeg.run(argv, timeout=900)
    return sorted(folder.glob("*.ts"))[:count]


def clock_name(t: float) -> tuple[str, str]:
    """(day, name) of a segment that starts at `t`, as a camera names it."""
    when = dt.datetime.fromtimestamp(t, UTC)
    return when.date().isoformat(), when.strftime("%H-%M-%S.ts")


def make_site(base: Path, cameras: int, pool: list[Path], backlog: int) -> tuple[dict, dict]:
    """Each camera's root and token; the first `backlog` cameras get a finished day from two
    days ago for the compactor to work on while the load runs."""
    roots = {f"cam{i:03d}": base / f"cam{i:03d}" for i in range(cameras)}
    old = time.time() - 2 * 86400
    for i, root in enumerate(roots.values()):
        root.mkdir(parents=True)
        for k, path in enumerate(pool[:6] if i < backlog else []):
            day, name = clock_name(old + k * SEGMENT)
            (root / day).mkdir(exist_ok=True)
            shutil.copyfile(path, root / day / name)
            os.utime(root / day / name, (old + (k + 1) * SEGMENT,) * 2)
    access = Access(base / ".cctv", UTC)
    tokens = {name: access.tokens.add(name, "bench")[1] for name in roots}
    return roots, tokens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(roots: dict[str, Path], port: int, log: Path) -> subprocess.Popen:
    """The real server and its background compactor (settle and quiet 0: the old days are due)."""
    argv = [sys.executable, "-m", "cctv_server.cli", "serve", "--port", str(port)]
    argv += [a for name, root in roots.items() for a in ("--camera", f"{name}={root}")]
    env = os.environ | {"CCTV_TIMEZONE": "UTC", "CCTV_SETTLE": "0", "CCTV_QUIET": "0",
                        "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    with open(log, "ab") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the server exited:\n" + log.read_text()[-3000:])
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not become ready:\n" + log.read_text()[-3000:])


def stop_server(proc: subprocess.Popen) -> None:
    """SIGTERM, as systemd stops it; its compactor is ended by id should it outlive it."""
    compactors = _children(proc.pid)
    proc.send_signal(signal.SIGTERM)
    proc.wait(60)
    deadline = time.monotonic() + 10  # it may still be on its way out
    while any(_alive(pid) for pid in compactors) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in compactors:
        if _alive(pid):
            print(f"note: the compactor (pid {pid}) outlived the server; killed", file=sys.stderr)
            os.kill(pid, signal.SIGKILL)


# --- the cameras ----------------------------------------------------------------------------

def upload_first(plan: Plan, tokens: dict[str, str]) -> list[Sent]:
    """Segment 0 of every camera before anyone watches (a live view 404s until there is one),
    and until each is listed."""
    data = plan.pool[0].read_bytes()
    day, name = clock_name(plan.first_name)
    sent = []
    for camera, token in tokens.items():
        response = httpx.put(f"{plan.base}/cam/{camera}/upload/{day}/{name}", content=data,
                             headers={"Authorization": f"Bearer {token}"}, timeout=60)
        response.raise_for_status()
        sent.append(Sent(camera, day, name, hashlib.sha256(data).hexdigest()))
    for camera in tokens:
        for _ in range(100):
            if httpx.get(f"{plan.base}/cam/{camera}/live.m3u8", timeout=30).status_code == 200:
                break
            time.sleep(0.1)
        else:
            raise SystemExit(f"{camera}: its first upload was never listed")
    return sent


def cameras_process(plan: Plan, tokens: dict[str, str], out) -> None:
    out.put(asyncio.run(_cameras(plan, tokens)))


async def _cameras(plan: Plan, tokens: dict[str, str]) -> tuple[Tally, list[Sent]]:
    pool = [p.read_bytes() for p in plan.pool]
    digests = [hashlib.sha256(d).hexdigest() for d in pool]
    tally, sent = Tally(), []

    async def camera(index: int, name: str, token: str) -> None:
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"},
                                     timeout=60, limits=LIMITS) as client:
            for k in range(1, len(pool)):
                due = plan.load + (k - 1 + index / len(tokens)) * plan.interval
                await asyncio.sleep(max(0.0, due - time.time()))
                if time.time() >= plan.end:
                    return
                day, file = clock_name(plan.first_name + k * SEGMENT)
                if await _put(client, f"{plan.base}/cam/{name}/upload/{day}/{file}", pool[k], tally):
                    sent.append(Sent(name, day, file, digests[k]))

    await asyncio.gather(*(camera(i, n, t) for i, (n, t) in enumerate(tokens.items())))
    return tally, sent


async def _put(client: httpx.AsyncClient, url: str, data: bytes, tally: Tally) -> bool:
    began, at = time.perf_counter(), time.time()
    try:
        response = await client.put(url, content=data)
    except httpx.HTTPError as err:
        tally.errors.append(f"PUT {url}: {type(err).__name__}")
        return False
    tally.add(at, time.perf_counter() - began)
    if response.status_code not in (200, 201):
        tally.errors.append(f"PUT {url}: {response.status_code} {response.text[:80]}")
        return False
    return True


# --- the viewers ----------------------------------------------------------------------------

def viewers_process(plan: Plan, watched: list[tuple[str, str]], out) -> None:
    out.put(asyncio.run(_viewers(plan, watched)))


async def _viewers(plan: Plan, watched: list[tuple[str, str]]) -> dict[str, Tally]:
    tallies = {"idle": Tally(), "load": Tally(), "segments": Tally()}
    await asyncio.gather(*(_viewer(plan, camera, path, tallies) for camera, path in watched))
    return tallies


async def _viewer(plan: Plan, camera: str, path: str, tallies: dict[str, Tally]) -> None:
    """A player following a live playlist: conditional GETs, each new segment once."""
    url = f"{plan.base}/cam/{camera}/{path}"
    etag, last = None, None
    await asyncio.sleep(max(0.0, plan.arrive + random.random() * (plan.idle - plan.arrive)
                            - time.time()))
    async with httpx.AsyncClient(timeout=60) as client:
        while (now := time.time()) < plan.end:
            tally = tallies["load"] if now >= plan.load else tallies["idle"] if now >= plan.idle \
                else Tally()  # still arriving: not counted
            began = time.perf_counter()
            try:
                response = await client.get(url, headers={"If-None-Match": etag} if etag else {})
            except httpx.HTTPError as err:
                tally.errors.append(f"GET {url}: {type(err).__name__}")
                await asyncio.sleep(plan.poll)
                continue
            tally.add(now, time.perf_counter() - began)
            if response.status_code == 200:
                etag = response.headers.get("etag")
                uris = [u for u in response.text.splitlines() if u and not u.startswith("#")]
                if uris and uris[-1] != last:
                    last = uris[-1]
                    await _fetch(client, f"{plan.base}/cam/{camera}/{last}", tallies["segments"])
            elif response.status_code != 304:
                tally.errors.append(f"GET {url}: {response.status_code} {response.text[:80]}")
            await asyncio.sleep(plan.poll)


async def _fetch(client: httpx.AsyncClient, url: str, tally: Tally) -> None:
    began, at = time.perf_counter(), time.time()
    try:
        response = await client.get(url)
    except httpx.HTTPError as err:
        tally.errors.append(f"GET {url}: {type(err).__name__}")
        return
    tally.add(at, time.perf_counter() - began)
    if response.status_code != 200:
        tally.errors.append(f"GET {url}: {response.status_code}")


# --- the server's side ----------------------------------------------------------------------

class Usage:
    """The server's RSS (sampled each second) and CPU, and its compactor's (with its ffmpeg)."""

    def __init__(self, pid: int):
        self.pid = pid
        self.rss: list[float] = []

    def sample(self) -> None:
        status = Path(f"/proc/{self.pid}/status").read_text()
        self.rss.append(int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024)

    def cpu(self) -> tuple[float, float]:
        """(server, compactor and its ffmpeg) CPU seconds so far."""
        own = _stat(self.pid)
        compactor = 0.0
        for child in _children(self.pid):
            compactor += sum(_stat(child))  # its own, and the ffmpegs it has waited for
            compactor += sum(sum(_stat(g)[:2]) for g in _children(child))
        return (own[0] + own[1]) / TICK, compactor / TICK


def _stat(pid: int) -> tuple[int, int, int, int]:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0, 0, 0, 0
    return int(fields[11]), int(fields[12]), int(fields[13]), int(fields[14])


def _children(pid: int) -> list[int]:
    """Every thread's children: serve starts its compactor from a thread of its own."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def playlist_histogram(base: str) -> dict[str, float]:
    """The server's own count of playlist requests per latency bucket (le -> count)."""
    text = httpx.get(f"{base}/metrics", timeout=60).text
    found: dict[str, float] = {}
    for labels, count in re.findall(r"cctv_http_request_duration_seconds_bucket\{([^}]*)\} (\S+)",
                                    text):
        label = dict(re.findall(r'(\w+)="([^"]*)"', labels))
        if label.get("route") in PLAYLIST_ROUTES:
            found[label["le"]] = found.get(label["le"], 0.0) + float(count)
    return found


def server_share_under(before: dict[str, float], after: dict[str, float], le: str) -> float:
    """Of the playlist requests between two scrapes, the share the server answered within `le` s."""
    total = after.get("+Inf", 0) - before.get("+Inf", 0)
    return (after.get(le, 0) - before.get(le, 0)) / total if total else float("nan")


# --- one run --------------------------------------------------------------------------------

def run(args, base: str, tokens: dict[str, str], pool: list[Path], usage: Usage) -> dict:
    count = 1 + int(args.duration / args.interval)
    first_name = float(int(time.time() - count * SEGMENT))  # the last then ends about now
    plan = Plan(base, pool[:count], args.interval, args.poll, first_name, 0, 0, 0, 0)
    sent = upload_first(plan, tokens)
    start = time.time() + 2.0  # the processes' own start-up is not the server's
    plan = Plan(base, plan.pool, args.interval, args.poll, first_name, start,
                start + args.idle / 2, start + args.idle, start + args.idle + args.duration)
    names = list(tokens)
    watched = [(names[v % len(names)], "live.m3u8" if v % 2 == 0 else
                f"playlist.php?date={clock_name(first_name)[0]}&live=1")
               for v in range(args.viewers)]
    out = multiprocessing.get_context("fork").Queue()
    parts = [multiprocessing.get_context("fork").Process(target=cameras_process,
                                                         args=(plan, tokens, out))]
    parts += [multiprocessing.get_context("fork").Process(
        target=viewers_process, args=(plan, watched[i::args.viewer_processes], out))
        for i in range(args.viewer_processes)]
    for part in parts:
        part.start()
    histogram, cpu = _watch(plan, usage)
    results = [out.get(timeout=args.duration + args.idle + 120) for _ in parts]
    for part in parts:
        part.join(30)
    uploads, viewing = Tally(), {"idle": Tally(), "load": Tally(), "segments": Tally()}
    for result in results:
        if isinstance(result, tuple):
            uploads.merge(result[0])
            sent += result[1]
        else:
            for key, tally in result.items():
                viewing[key].merge(tally)
    return {"plan": plan, "uploads": uploads, "sent": sent, "viewing": viewing,
            "due": len(names) * (count - 1), "loaded": len(sent) - len(names),
            "cpu": cpu, "server_under_100ms": server_share_under(*histogram, "0.1")}


def _watch(plan: Plan, usage: Usage) -> tuple[tuple[dict, dict], list[float]]:
    """Sample the server until the end; its CPU and its playlist histogram over the load."""
    while time.time() < plan.load:
        usage.sample()
        time.sleep(max(0.0, min(1.0, plan.load - time.time())))
    before, cpu_before, began = playlist_histogram(plan.base), usage.cpu(), time.time()
    while time.time() < plan.end:
        usage.sample()
        time.sleep(max(0.0, min(1.0, plan.end - time.time())))
    elapsed = time.time() - began
    cpu = [(a - b) / elapsed for a, b in zip(usage.cpu(), cpu_before)]
    return (before, playlist_histogram(plan.base)), cpu


def verify(roots: dict[str, Path], base: str, sent: list[Sent], wait: float) -> dict:
    """Every upload answered 2xx: on disk byte for byte, and listed, in order."""
    by_day: dict[tuple[str, str], list[str]] = {}
    for s in sent:
        by_day.setdefault((s.camera, s.day), []).append(s.name)
    deadline = time.monotonic() + wait
    while True:
        unlisted = {}
        for (camera, day), names in by_day.items():
            text = httpx.get(f"{base}/cam/{camera}/playlist.php?date={day}", timeout=30).text
            listed = [u.rsplit("/", 1)[-1] for u in text.splitlines() if u.endswith(".ts")]
            if listed != sorted(names):
                unlisted[(camera, day)] = sorted(set(names) - set(listed)) or ["out of order"]
        if not unlisted or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    damaged = [f"{s.camera}/{s.day}/{s.name}" for s in sent
               if _sha256(roots[s.camera] / s.day / s.name) != s.sha256]
    return {"unlisted": {f"{c}/{d}": n for (c, d), n in unlisted.items()}, "damaged": damaged,
            "lost": len(damaged) + sum(len(n) for n in unlisted.values())}


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def compacted(roots: dict[str, Path], backlog: int) -> int:
    return sum(1 for root in list(roots.values())[:backlog] for _ in root.glob("*/video.mp4"))


# --- the report -----------------------------------------------------------------------------

def report(args, result: dict, checked: dict, usage: Usage, done: int) -> dict:
    viewing, uploads = result["viewing"], result["uploads"]
    idle, loaded, segments = viewing["idle"], viewing["load"], viewing["segments"]
    errors = uploads.errors + idle.errors + loaded.errors + segments.errors
    origin = result["plan"].arrive
    out = {
        "cameras": args.cameras, "viewers": args.viewers, "duration": args.duration,
        "interval": args.interval, "backlog": args.backlog,
        "segment_bytes": statistics.mean(p.stat().st_size for p in result["plan"].pool),
        "uploads": result["loaded"], "due": result["due"],
        "uploads_per_s": result["loaded"] / args.duration,
        "upload_ms": [uploads.ms(0.5), uploads.ms(0.99)],
        "playlist_idle_ms": [idle.ms(0.5), idle.ms(0.99)],
        "playlist_ms": [loaded.ms(0.5), loaded.ms(0.99)], "playlists": len(loaded.seconds),
        "server_under_100ms": result["server_under_100ms"],
        "segment_ms": [segments.ms(0.5), segments.ms(0.99)], "segments": len(segments.seconds),
        "errors": len(errors), "error_list": errors[:20],
        "lost": checked["lost"], "unlisted": checked["unlisted"], "damaged": checked["damaged"],
        "rss_mb": [min(usage.rss, default=0), max(usage.rss, default=0)],
        "server_cpu": result["cpu"][0], "compactor_cpu": result["cpu"][1], "compacted": done,
        "slowest": {name: tally.slowest(origin) for name, tally in (
            ("playlists_idle", idle), ("playlists", loaded), ("uploads", uploads),
            ("segments", segments))},
    }
    out["met"] = out["errors"] == 0 and out["lost"] == 0 and out["playlist_ms"][1] < TARGET_P99_MS
    _print(out)
    return out


def _print(r: dict) -> None:
    mb = r["segment_bytes"] / 1e6
    print(f"\n{r['cameras']} cameras, one {mb:.1f} MB 10-s segment every {r['interval']:g} s each"
          f" ({SEGMENT / r['interval']:.1f}x real time), {r['viewers']} viewers, {r['duration']:g} s,"
          f" the compactor on {r['backlog']} old days\n")
    print("| what | figure |")
    print("|---|---|")
    print(f"| uploads stored | {r['uploads']} of {r['due']} due ({r['uploads_per_s']:.1f}/s;"
          f" {r['uploads'] / max(1, r['due']):.2f} of those due) |")
    print(f"| upload p50 / p99 | {r['upload_ms'][0]:.0f} / {r['upload_ms'][1]:.0f} ms |")
    ratio = r["playlist_ms"][1] / r["playlist_idle_ms"][1]
    print(f"| playlist p50 / p99 ({r['playlists']} requests) | {r['playlist_ms'][0]:.1f} /"
          f" {r['playlist_ms'][1]:.1f} ms; viewers alone {r['playlist_idle_ms'][0]:.1f} /"
          f" {r['playlist_idle_ms'][1]:.1f} ms (p99 {ratio:.1f}x) |")
    print(f"| playlists the server answered within 100 ms | {100 * r['server_under_100ms']:.2f}% |")
    print(f"| segment p50 / p99 ({r['segments']} fetched) | {r['segment_ms'][0]:.1f} /"
          f" {r['segment_ms'][1]:.1f} ms |")
    print(f"| errors | {r['errors']} |")
    print(f"| lost (answered 2xx, not on disk byte for byte or not listed in order) | {r['lost']} |")
    print(f"| server RSS | {r['rss_mb'][0]:.0f}-{r['rss_mb'][1]:.0f} MB |")
    print(f"| server CPU | {r['server_cpu']:.2f} cores |")
    print(f"| compactor CPU (nice 19, with its ffmpeg) | {r['compactor_cpu']:.2f} cores;"
          f" {r['compacted']} of {r['backlog']} days compacted by the end |")
    verdict = "met" if r["met"] else "NOT met"
    print(f"\ntarget (0 errors, 0 lost, playlist p99 < {TARGET_P99_MS:.0f} ms): {verdict}")
    for line in r["error_list"]:
        print("  error:", line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=50)
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of uploads")
    parser.add_argument("--interval", type=float, default=5.0,
                        help="seconds between a camera's uploads (10: real time)")
    parser.add_argument("--idle", type=float, default=10.0,
                        help="seconds of viewers alone first (arriving over the first half)")
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between a viewer's reloads")
    parser.add_argument("--viewer-processes", type=int, default=2)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--bitrate", default="2M")
    parser.add_argument("--backlog", type=int, default=10,
                        help="cameras with an old day for the compactor to work on")
    parser.add_argument("--workdir", type=Path, default=Path("bench/out/load"))
    parser.add_argument("--keep", action="store_true", help="keep the cameras' roots afterwards")
    args = parser.parse_args()
    args.backlog = min(args.backlog, args.cameras)
    args.viewer_processes = max(1, min(args.viewer_processes, args.viewers))
    count = 1 + int(args.duration / args.interval)
    pool = record_pool(args.workdir, max(count, 6), args.size, args.fps, args.bitrate)
    site = args.workdir / "site"
    shutil.rmtree(site, ignore_errors=True)
    roots, tokens = make_site(site, args.cameras, pool, args.backlog)
    port = free_port()
    proc = start_server(roots, port, args.workdir / "server.log")
    base = f"http://127.0.0.1:{port}"
    try:
        usage = Usage(proc.pid)
        result = run(args, base, tokens, pool, usage)
        checked = verify(roots, base, result["sent"], wait=15)
        done = compacted(roots, args.backlog)
    finally:
        stop_server(proc)
    out = report(args, result, checked, usage, done)
    (args.workdir / "load.json").write_text(json.dumps(out, indent=1))
    if not args.keep:
        shutil.rmtree(site, ignore_errors=True)


if __name__ == "__main__":
    main()
