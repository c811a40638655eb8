"""The H.264 rendition, one fragment at a time, against the plain fragment remux and realtime; then through the server.

Usage: python bench/rendition.py [--variant 720p25] [--duration S] [--repeat N]

A test day (bench/make_test_day.py) is compacted with the default profile by the real
`cctv-server compact`; each fragment of its video is then remuxed to MPEG-TS (what a playlist that
runs into segments serves) and re-encoded to H.264 (the rendition), exactly as the server runs
them (remux.argv, transcode.fragment_argv with the default jobs' threads), interleaved fragment
by fragment and round by round so the machine's drift hits both alike. "x realtime" is a
fragment's length over the wall time to make it (medians); the goal is 4x for 720p25. Last, the
real server answers cold requests for the rendition's fragments (the last first, so nothing is
made ahead): the wait a viewer has between pressing play, or seeking, and the first picture.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from compaction import machine, prepare_day  # noqa: E402
from make_test_day import VARIANTS  # noqa: E402
from measure import children_cpu, quality  # noqa: E402

from cctv_server.footage import videoindex  # noqa: E402
from cctv_server.media import streams, transcode  # noqa: E402
from cctv_server.media.ffmpeg import locate  # noqa: E402
from cctv_server.playback import remux, transcodes  # noqa: E402

DAY = "2026-11-20"
ENV = {"CCTV_TIMEZONE": "UTC", "CCTV_STABLE_SECONDS": "0", "CCTV_MIN_FREE": "0",
       "CCTV_COMPACTOR": "false", "CCTV_QUALITY_SAMPLE": "false"}


@dataclass
class Row:
    label: str
    wall: float  # seconds a fragment, median
    realtime: float  # fragment length over wall, median
    cpu: float  # CPU seconds a fragment, median
    vs_remux: float | None = None  # wall over the remux's wall, median of per-fragment ratios
    kbps: float | None = None
    ssim: float | None = None
    vmaf: float | None = None


def compacted_root(day: Path, info: dict, workdir: Path) -> Path:
    """The test day's segments in a root, compacted once with the default profile."""
    root = workdir / f"root-{day.name}"
    video = root / DAY / "video.mp4"
    if video.is_file():
        return root
    (root / DAY).mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(info["segments"]):
        seconds = round(i * info["segment"])
        target = root / DAY / f"10-{seconds // 60:02d}-{seconds % 60:02d}.ts"
        target.write_bytes((day / "segments" / name).read_bytes())
    done = subprocess.run([sys.executable, "-m", "cctv_server.cli", "compact", "--root", str(root),
                           "--settle", "0"], env=os.environ | ENV, capture_output=True, text=True)
    if done.returncode or not video.is_file():
        raise RuntimeError(f"compaction failed: {done.stderr[-2000:]}")
    return root


def timed_stdin(argv: list[str], data: bytes) -> tuple[float, float, bytes]:
    """(wall, CPU of the child, stdout) of one run with `data` on stdin."""
    cpu0, t0 = children_cpu(), time.perf_counter()
    proc = subprocess.run(argv, input=data, capture_output=True)
    wall, cpu = time.perf_counter() - t0, children_cpu() - cpu0
    if proc.returncode:
        raise RuntimeError(f"{argv}: {proc.stderr.decode(errors='replace')[-1500:]}")
    return wall, cpu, proc.stdout


def compare(video: Path, repeat: int, threads: int, workdir: Path) -> list[Row]:
    """The remux and the rendition of every fragment, interleaved, `repeat` rounds."""
    index = videoindex.load(video.parent, video.name)
    info = streams.probe(video)
    target = transcode.target(info.width, info.height, info.fps)
    binary = locate()
    contenders = {"remux (stream copy to MPEG-TS)": remux.argv(binary),
                  f"H.264 rendition, {threads} thread(s)": transcode.fragment_argv(binary, target, threads),
                  "H.264 rendition, 1 thread": transcode.fragment_argv(binary, target, 1)}
    runs: dict[str, list[tuple[float, float, float]]] = {label: [] for label in contenders}
    made = []
    for round_ in range(repeat):
        print(f"  round {round_ + 1} of {repeat} ...", file=sys.stderr, flush=True)
        for f in index.fragments:
            data = transcodes.read_ranges(video, [(0, index.init_length), (f.offset, f.length)])
            for label, argv in contenders.items():
                wall, cpu, out = timed_stdin(argv, data)
                runs[label].append((wall, cpu, f.duration))
                if round_ == 0 and label.startswith("H.264 rendition, 1"):
                    made.append(out)
    rendition = workdir / "rendition.ts"
    rendition.write_bytes(b"".join(made))
    return rows(runs, sum(f.duration for f in index.fragments), rendition, video)


def rows(runs: dict, seconds: float, rendition: Path, video: Path) -> list[Row]:
    found = []
    remux_walls = next(iter(runs.values()))
    for label, timings in runs.items():
        found.append(Row(label, statistics.median(w for w, _, _ in timings),
                         statistics.median(d / w for w, _, d in timings),
                         statistics.median(c for _, c, _ in timings),
                         statistics.median(w / r[0] for (w, _, _), r in zip(timings, remux_walls))))
    ssim, vmaf = quality(rendition, video)
    kbps = rendition.stat().st_size * 8 / seconds / 1000
    for row in found[1:]:
        row.kbps, row.ssim, row.vmaf = kbps, ssim, vmaf
    found[0].kbps = video.stat().st_size * 8 / seconds / 1000
    return found


def through_the_server(root: Path, workdir: Path) -> dict:
    """Seconds from asking for a fragment nobody has made to having all of it, via HTTP."""
    state = workdir / f"state-{time.time_ns()}"
    port = 18000 + os.getpid() % 1000
    server = subprocess.Popen([sys.executable, "-m", "cctv_server.cli", "serve", "--root", str(root),
                               "--port", str(port)], env=os.environ | ENV | {"CCTV_STATE_DIR": str(state)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url)
        playlist = httpx.get(f"{url}/h264.m3u8?date={DAY}", timeout=30).text
        uris = [line for line in playlist.splitlines() if line and not line.startswith("#")]
        waits = []
        for uri in reversed(uris):  # the last first: what follows each one is made already
            t0 = time.perf_counter()
            response = httpx.get(f"{url}/{uri}", timeout=60)
            waits.append(time.perf_counter() - t0)
            assert response.status_code == 200 and response.headers["x-transcode"] == "made"
        return {"fragments": len(waits), "median_s": statistics.median(waits), "max_s": max(waits)}
    finally:
        server.terminate()
        server.wait(10)


def _wait_ready(url: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not start")


def markdown(found: list[Row]) -> str:
    lines = ["| what | s a fragment | x realtime | CPU s a fragment | time vs remux | kbit/s | SSIM | VMAF |",
             "|---|---|---|---|---|---|---|---|"]
    for r in found:
        cells = [r.label, f"{r.wall:.3f}", f"{r.realtime:.1f}", f"{r.cpu:.3f}",
                 "-" if r.vs_remux is None else f"{r.vs_remux:.0f}",
                 "-" if r.kbps is None else f"{r.kbps:.0f}",
                 "-" if r.ssim is None else f"{r.ssim:.4f}", "-" if r.vmaf is None else f"{r.vmaf:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variant", choices=VARIANTS, default="720p25")
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of video in the day")
    ap.add_argument("--segment", type=float, default=10.0, help="segment length, seconds")
    ap.add_argument("--repeat", type=int, default=3, help="rounds over every fragment")
    ap.add_argument("--workdir", type=Path, default=Path("bench/out"))
    args = ap.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"Machine: {machine()}")
    day, info = prepare_day(args.variant, args.duration, args.segment, args.workdir)
    root = compacted_root(day, info, args.workdir)
    video = root / DAY / "video.mp4"
    threads = transcodes.threads_per_job(transcodes.default_jobs())
    found = compare(video, args.repeat, threads, args.workdir)
    served = through_the_server(root, args.workdir)
    print(f"\n### {args.variant}: {info['width']}x{info['height']} at {info['fps']} fps, "
          f"{args.duration:g} s compacted to {streams.probe(video).video}\n")
    print(markdown(found))
    print(f"\nThrough the server, a fragment nobody had made: {served['median_s']:.2f} s "
          f"(median of {served['fragments']}), at most {served['max_s']:.2f} s.")
    result = {"variant": args.variant, "info": info, "rows": [asdict(r) for r in found],
              "served": served}
    (args.workdir / "rendition.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
