"""Measurements for the compaction bench: timed runs, SSIM/VMAF, and seek latency."""

from __future__ import annotations

import random
import re
import resource
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import av

from cctv_server.media.ffmpeg import locate

SSIM_ALL = re.compile(r"SSIM Y:.*?All:([0-9.]+)")
VMAF_SCORE = re.compile(r"VMAF score: ([0-9.]+)")


@dataclass(frozen=True)
class Timing:
    wall: float  # seconds
    cpu: float  # user + system seconds of the child processes


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argvs: list[list[str]], env: dict[str, str] | None = None) -> Timing:
    """Run the commands concurrently and time them together; raise on any failure.

    The CPU counts every process they start too, once it has been waited for."""
    cpu0, t0 = children_cpu(), time.perf_counter()
    procs = [subprocess.Popen(a, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
             for a in argvs]
    errors = [p.communicate()[1] for p in procs]
    wall, cpu = time.perf_counter() - t0, children_cpu() - cpu0
    for argv, proc, err in zip(argvs, procs, errors):
        if proc.returncode:
            raise RuntimeError(f"{argv}: {err.decode(errors='replace')[-1500:]}")
    return Timing(wall, cpu)


def timed_call(fn) -> Timing:
    """Time a call that runs child processes (and waits for them): wall and their CPU."""
    cpu0, t0 = children_cpu(), time.perf_counter()
    fn()
    return Timing(time.perf_counter() - t0, children_cpu() - cpu0)


def median_timing(runs: list[Timing]) -> Timing:
    return Timing(statistics.median(r.wall for r in runs), statistics.median(r.cpu for r in runs))


def input_args(path: Path) -> list[str]:
    """A concat list is read with the concat demuxer; anything else as a plain file."""
    if path.suffix == ".txt":
        return ["-f", "concat", "-safe", "0", "-i", str(path)]
    return ["-i", str(path)]


def quality_argv(distorted: Path, reference: Path, vmaf_subsample: int,
                 fps: float | None = None) -> list[str]:
    """One pass computing SSIM and VMAF; timestamps rebased so the frames pair up.

    With `fps`, the distorted video is first brought to that constant rate, each frame repeated
    until the next: a video whose still frames were dropped is scored as it plays.
    """
    cfr = f",fps={fps:g}" if fps else ""
    graph = (
        f"[0:v]setpts=PTS-STARTPTS{cfr},split[d1][d2];"
        "[1:v]setpts=PTS-STARTPTS,split[r1][r2];"
        "[d1][r1]ssim;"
        f"[d2][r2]libvmaf=n_threads=2:n_subsample={vmaf_subsample}"
    )
    return [
        locate(), "-hide_banner", "-nostdin", *input_args(distorted), *input_args(reference),
        "-lavfi", graph, "-f", "null", "-",
    ]


def quality(distorted: Path, reference: Path, vmaf_subsample: int = 1,
            fps: float | None = None) -> tuple[float, float]:
    """(SSIM over all planes, VMAF) of distorted against reference."""
    proc = subprocess.run(
        quality_argv(distorted, reference, vmaf_subsample, fps), capture_output=True, text=True
    )
    ssim, vmaf = SSIM_ALL.search(proc.stderr), VMAF_SCORE.search(proc.stderr)
    if proc.returncode or not (ssim and vmaf):
        raise RuntimeError(f"quality measurement failed: {proc.stderr[-1500:]}")
    return float(ssim.group(1)), float(vmaf.group(1))


def seek_ms(video: Path, seeks: int = 7, seed: int = 7) -> float:
    """Median milliseconds to land on a random instant: seek to its keyframe, decode up to it."""
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        duration = float(container.duration or 0) / av.time_base
        start = float((stream.start_time or 0) * stream.time_base)
        rng = random.Random(seed)
        targets = [start + rng.uniform(0, duration * 0.95) for _ in range(seeks)]
        times = [_seek_once(container, stream, t) for t in targets]
    return statistics.median(times) * 1000


def _seek_once(container, stream, target: float) -> float:
    t0 = time.perf_counter()
    container.seek(int(target / stream.time_base), stream=stream, backward=True)
    for frame in container.decode(stream):
        if frame.time is not None and frame.time >= target:
            break
    return time.perf_counter() - t0
