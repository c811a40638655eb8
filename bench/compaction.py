"""Compact test days with the naive command and with `cctv-server compact` itself; print tables.

Usage: python bench/compaction.py [--variants 720p25,720p25-night,720p25-garage,720p25-dusk] [--duration S] [PROFILE ...]
where PROFILE is `ours` (the defaults), a codec from cctv_server's PROFILES, or
codec:preset:crf[:keyint[:denoise]], each optionally followed by `+drop` (still_frames = "drop").
Each profile runs as a user meets it: the whole `cctv-server compact` (probe, encode, join,
verify, index, checksum, quality sample, deletions) on a fresh copy of the day, with the profile
in CCTV_* settings; the compactor's own phase timings say where its time went. The naive command
is one ffmpeg. Repeats are interleaved (naive, ours, ..., naive, ours, ...) so the machine's drift
hits every contender alike, and "speed vs naive" is the median of per-round ratios.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_test_day import make_day, spec_for, variant_names  # noqa: E402
from measure import (  # noqa: E402
    Timing,
    input_args,
    median_timing,
    quality,
    seek_ms,
    timed,
    timed_call,
)

from cctv_server.compaction import chunks, phases  # noqa: E402
from cctv_server.compaction.encoding import (  # noqa: E402
    DEFAULT,
    PROFILES,
    Profile,
    audio_args,
    profile_from,
    video_args,
    workers_for,
)
from cctv_server.footage.catalog import Catalog  # noqa: E402
from cctv_server.media import decode  # noqa: E402
from cctv_server.media.ffmpeg import locate  # noqa: E402

DAY = 86400.0
DAY_NAME = "2024-05-01"  # the folder each run's copy of the test day goes in
COMMAND_ENV = {"CCTV_TIMEZONE": "UTC", "CCTV_STABLE_SECONDS": "0", "CCTV_MIN_FREE": "0"}
COLUMNS = [
    ("profile", "label", "{}"), ("x realtime", "realtime", "{:.1f}"), ("CPU s", "cpu", "{:.1f}"),
    ("size MB", "mb", "{:.3f}"), ("size/src", "ratio", "{:.3f}"), ("MB/day", "mb_day", "{:.0f}"),
    ("SSIM", "ssim", "{:.4f}"), ("VMAF", "vmaf", "{:.2f}"),
    ("SSIM clean", "ssim_clean", "{:.4f}"), ("VMAF clean", "vmaf_clean", "{:.2f}"),
    ("seek ms", "seek_ms", "{:.0f}"), ("speed vs naive", "vs_naive", "{:.2f}"),
]


@dataclass
class Row:
    label: str
    realtime: float | None = None
    cpu: float | None = None
    bytes: int | None = None
    mb: float | None = None
    ratio: float | None = None
    mb_day: float | None = None
    ssim: float | None = None
    vmaf: float | None = None
    ssim_clean: float | None = None
    vmaf_clean: float | None = None
    seek_ms: float | None = None
    vs_naive: float | None = None
    argv: str = ""
    phases: dict = field(default_factory=dict)  # phase -> median wall s, for whole commands


@dataclass(frozen=True)
class Contender:
    """A profile as `cctv-server compact` is told it: CCTV_* settings."""

    label: str
    env: dict[str, str]
    profile: Profile
    drop: bool  # still_frames = "drop"


@dataclass(frozen=True)
class Run:
    """One timed `cctv-server compact`: its timing, its phases (wall, CPU) and its video."""

    timing: Timing
    phases: dict[str, tuple[float, float]]
    video: Path


def parse_profile(spec: str) -> Profile:
    """A named profile, or codec:preset:crf[:keyint[:denoise]]."""
    if spec in PROFILES:
        return PROFILES[spec]
    codec, preset, crf, *rest = spec.split(":") + [""] * (3 - spec.count(":") - 1)
    keyint = int(rest[0]) if rest and rest[0] else None
    denoise = rest[1] if len(rest) > 1 and rest[1] else None
    return profile_from(codec, preset or None, int(crf) if crf else None, keyint, denoise)


def contender(spec: str) -> Contender:
    """`ours`, a named profile or codec:preset:crf[:keyint[:denoise]], maybe with `+drop`."""
    base, _, mode = spec.partition("+")
    if mode not in ("", "drop"):
        raise SystemExit(f"{spec}: the only mode is +drop")
    env = {"CCTV_STILL_FRAMES": "drop"} if mode else {}
    if base == "ours":
        return Contender(spec, env, DEFAULT, bool(mode))
    if base in PROFILES:
        return Contender(spec, env | {"CCTV_CODEC": base}, PROFILES[base], bool(mode))
    profile = parse_profile(base)
    env |= {"CCTV_CODEC": profile.codec, "CCTV_PRESET": profile.preset,
            "CCTV_CRF": str(profile.crf), "CCTV_KEYINT": str(profile.keyint)}
    env |= {"CCTV_DENOISE": profile.denoise} if profile.denoise else {}
    return Contender(spec, env, profile, bool(mode))


def naive_argv(source: Path, out: Path) -> list[str]:
    """What the original service most likely ran: x265 defaults (medium, crf 28) into mp4."""
    return [locate(), "-hide_banner", "-nostdin", "-y", *input_args(source), "-c:v", "libx265",
            str(out)]


def encode_profile(profile: Profile, bench: Bench, fps: float, out: Path, workers: int) -> None:
    """The compactor's encode alone: chunks on `workers` encoders, joined into fragmented MP4."""
    job = chunks.Job(locate(), bench.parts, profile, fps, [], False, 0.0, "bench")
    chunks.encode(job, out.with_suffix(".chunks"), out, workers)


def compact_argv(root: Path) -> list[str]:
    return [sys.executable, "-m", "cctv_server.cli", "compact", "--root", str(root),
            "--settle", "0"]


def fresh_root(bench: Bench, label: str) -> Path:
    """A root holding a copy of the test day's segments (not timed: a camera put them there)."""
    root = bench.day / "runs" / label.replace(":", "_").replace("+", "_")
    shutil.rmtree(root, ignore_errors=True)
    (root / DAY_NAME).mkdir(parents=True)
    for name in bench.info["segments"]:
        shutil.copy2(bench.day / "segments" / name, root / DAY_NAME / name)
    return root


def command_env(c: Contender) -> dict[str, str]:
    """Our environment without any CCTV_* of the caller's, then the run's settings."""
    mine = {k: v for k, v in os.environ.items() if not k.startswith("CCTV_")}
    return mine | COMMAND_ENV | c.env


def run_command(c: Contender, bench: Bench, out: Path) -> Run:
    """`cctv-server compact` on a fresh copy of the day, timed; its video is kept as `out`."""
    root = fresh_root(bench, c.label)
    timing = timed([compact_argv(root)], env=command_env(c))
    row = Catalog(root / ".cctv" / "catalog.sqlite3").compaction(DAY_NAME) or {}
    if row.get("state") != "compacted" or not (root / DAY_NAME / "video.mp4").exists():
        raise RuntimeError(f"{c.label}: the day was not compacted: {row}")
    shutil.move(root / DAY_NAME / "video.mp4", out)
    shutil.rmtree(root, ignore_errors=True)  # the catalog may still be closing its WAL files
    return Run(timing, phases.loads(row.get("phases")), out)


def decode_argv(source: Path) -> list[str]:
    return [locate(), "-hide_banner", "-nostdin", *input_args(source), "-f", "null", "-"]


def prepare_day(variant: str, duration: float, segment: float, workdir: Path) -> tuple[Path, dict]:
    """The test day under workdir, made once per (variant, duration, segment) and reused."""
    day = workdir / f"{variant}-{duration:g}s-{segment:g}"
    if not (day / "day.json").exists():
        make_day(spec_for(variant, duration, segment=segment), day)
    info = json.loads((day / "day.json").read_text())
    listing = "".join(f"file '{(day / 'segments' / n).resolve()}'\n" for n in info["segments"])
    (day / "list.txt").write_text(listing)
    return day, info


def parts_of(day: Path, info: dict) -> list[chunks.Part]:
    """The day's segments with their decoded durations, as the compactor lists them."""
    paths = [(day / "segments" / n).resolve() for n in info["segments"]]
    return [chunks.Part(p, decode.decode(p).duration) for p in paths]


@dataclass(frozen=True)
class Bench:
    day: Path
    info: dict
    repeat: int
    vs_clean: bool
    vmaf_subsample: int
    parts: list[chunks.Part]
    workers: int

    @property
    def source(self) -> Path:
        return self.day / "list.txt"

    @property
    def seconds(self) -> float:
        return float(self.info["duration"])


def sized(row: Row, nbytes: int, bench: Bench) -> Row:
    row.bytes, row.mb = nbytes, nbytes / 1e6
    row.ratio = nbytes / bench.info["source_bytes"]
    row.mb_day = row.mb * DAY / bench.seconds
    return row


def measure_output(row: Row, out: Path, bench: Bench, vfr: bool = False) -> Row:
    """Size, quality against the source (and the clean scene) and seek time of one output; a
    video with dropped frames is scored with each kept frame repeated until the next."""
    sized(row, out.stat().st_size, bench)
    fps = bench.info["fps"] if vfr else None
    row.ssim, row.vmaf = quality(out, bench.source, bench.vmaf_subsample, fps)
    if bench.vs_clean:
        row.ssim_clean, row.vmaf_clean = quality(out, bench.day / "clean.mkv",
                                                 bench.vmaf_subsample, fps)
    row.seek_ms = seek_ms(out)
    return row


def source_rows(bench: Bench) -> list[Row]:
    source = sized(Row("source"), bench.info["source_bytes"], bench)
    if bench.vs_clean:
        source.ssim_clean, source.vmaf_clean = quality(
            bench.source, bench.day / "clean.mkv", bench.vmaf_subsample
        )
    timing = median_timing([timed([decode_argv(bench.source)]) for _ in range(bench.repeat)])
    decode = Row("decode only", bench.seconds / timing.wall, timing.cpu,
                 argv=shlex.join(decode_argv(bench.source)))
    return [source, decode]


def compare(bench: Bench, contenders: list[Contender]) -> list[Row]:
    """Source and decode rows, the naive command, then each contender's whole command, in rounds."""
    outdir = bench.day / "out"
    outdir.mkdir(exist_ok=True)
    naive_out = outdir / "naive.mp4"
    naive = naive_argv(bench.source, naive_out)
    runs: dict[str, list] = {"naive": []} | {c.label: [] for c in contenders}
    for round_ in range(bench.repeat):
        print(f"  round {round_ + 1}: naive ...", file=sys.stderr, flush=True)
        runs["naive"].append(timed([naive]))
        for c in contenders:
            print(f"  round {round_ + 1}: {c.label} ...", file=sys.stderr, flush=True)
            out = outdir / f"{c.label.replace(':', '_').replace('+', '_')}.mp4"
            runs[c.label].append(run_command(c, bench, out))
    rows = [*source_rows(bench), timed_row("naive", runs["naive"], naive_out, bench,
                                           shlex.join(naive))]
    rows[-1].vs_naive = 1.0
    for c in contenders:
        rows.append(command_row(c, runs[c.label], bench))
        rows[-1].vs_naive = statistics.median(
            n.wall / r.timing.wall for n, r in zip(runs["naive"], runs[c.label]))
    return rows


def timed_row(label: str, runs: list[Timing], out: Path, bench: Bench, how: str) -> Row:
    timing = median_timing(runs)
    return measure_output(Row(label, bench.seconds / timing.wall, timing.cpu, argv=how), out, bench)


def command_row(c: Contender, runs: list[Run], bench: Bench) -> Row:
    timing = median_timing([r.timing for r in runs])
    row = Row(c.label, bench.seconds / timing.wall, timing.cpu,
              argv=f"cctv-server compact with {c.env or 'the defaults'}")
    row.phases = median_phases(runs)
    return measure_output(row, runs[-1].video, bench, vfr=c.drop)


def median_phases(runs: list[Run]) -> dict[str, float]:
    """Each phase's median wall seconds; "rest" is the command's time outside them (Python
    starting, the catalog, deleting the segments); "command" the whole, as timed from outside."""
    found = {p: statistics.median(r.phases.get(p, (0.0, 0.0))[0] for r in runs)
             for p in phases.PHASES}
    found["rest"] = statistics.median(
        r.timing.wall - sum(w for w, _ in r.phases.values()) for r in runs)
    found["command"] = statistics.median(r.timing.wall for r in runs)
    return found


def phases_markdown(rows: list[Row]) -> str:
    """Where each whole command's time went: the compactor's own phase timings, wall seconds."""
    names = [*phases.PHASES, "rest", "command"]
    lines = ["| profile | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    lines += [f"| {r.label} | " + " | ".join(f"{r.phases[n]:.2f}" for n in names) + " |"
              for r in rows if r.phases]
    return "\n".join(lines)


def markdown(rows: list[Row]) -> str:
    """A pipe table, one row per Row; '-' where a figure does not apply."""
    head = "| " + " | ".join(title for title, _, _ in COLUMNS) + " |"
    rule = "|" + "|".join("---" for _ in COLUMNS) + "|"
    body = ["| " + " | ".join(_cell(r, key, fmt) for _, key, fmt in COLUMNS) + " |" for r in rows]
    return "\n".join([head, rule, *body])


def _cell(row: Row, key: str, fmt: str) -> str:
    value = getattr(row, key)
    return "-" if value is None else fmt.format(value)


def by_workers(bench: Bench, label: str, profile: Profile, fps: float, workers: int) -> dict:
    """One day encoded with 1 worker (one encode, all threads) or several chunks at once."""
    out = bench.day / "out" / f"workers{workers}.mp4"
    timing = median_timing([timed_call(lambda: encode_profile(profile, bench, fps, out, workers))
                            for _ in range(bench.repeat)])
    return {"profile": label, "workers": workers, "wall": timing.wall, "cpu": timing.cpu,
            "realtime": bench.seconds / timing.wall, "bytes": out.stat().st_size}


def workers_markdown(results: list[dict]) -> str:
    lines = ["| profile | workers | wall s | CPU s | x realtime | size MB |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['profile']} | {r['workers']} | {r['wall']:.1f} | {r['cpu']:.1f} | "
              f"{r['realtime']:.1f} | {r['bytes'] / 1e6:.3f} |" for r in results]
    return "\n".join(lines)


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in _cpuinfo() if "model name" in line), "?")
    version = subprocess.run([locate(), "-version"], capture_output=True, text=True).stdout
    return (f"{os.cpu_count()} cores ({model}), {platform.system()} {platform.release()}, "
            f"{version.split(chr(10))[0]}, {datetime.date.today()}")


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


def contenders_from(specs: list[str]) -> list[Contender]:
    found = [contender(spec) for spec in ["ours", "ours+drop", *specs]]
    return list({c.label: c for c in found}.values())


def run_variant(variant: str, args: argparse.Namespace, contenders: list[Contender]) -> dict:
    day, info = prepare_day(variant, args.duration, args.segment, args.workdir)
    bench = Bench(day, info, args.repeat, args.vs_clean, args.vmaf_subsample,
                  parts_of(day, info), workers_for(os.cpu_count() or 1))
    rows = compare(bench, contenders)
    kbps = info["source_bytes"] * 8 / bench.seconds / 1000
    naive = next(r for r in rows if r.label == "naive")
    print(f"\n### {variant}: {info['width']}x{info['height']} at {info['fps']} fps, "
          f"{bench.seconds:g} s, {len(info['segments'])} segments, source {kbps:.0f} kbit/s, "
          f"naive output {naive.ratio:.2f}x the source\n")
    print(markdown(rows))
    print("\nWhere the whole command's time went (seconds, medians of the rounds):\n")
    print(phases_markdown(rows))
    result = {"variant": variant, "info": info, "rows": [asdict(r) for r in rows]}
    if args.workers:
        profiles = {c.label: c.profile for c in contenders}
        result["workers"] = [by_workers(bench, label, profiles[label], info["fps"], w)
                             for label in args.workers_profiles for w in args.workers]
        print("\n" + workers_markdown(result["workers"]))
    return result


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("profiles", nargs="*",
                    help="extra profiles: name or codec:preset:crf[:keyint[:denoise]], +drop")
    ap.add_argument("--variants", default="720p25,720p25-night,720p25-garage,720p25-dusk",
                    help=f"of {', '.join(variant_names())}")
    ap.add_argument("--duration", type=float, default=120.0, help="seconds of video in the day")
    ap.add_argument("--segment", type=float, default=10.0, help="segment length, seconds")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per encode; medians shown")
    ap.add_argument("--vs-clean", action=argparse.BooleanOptionalAction, default=True,
                    help="also SSIM/VMAF against the clean scene (what the goals use)")
    ap.add_argument("--vmaf-subsample", type=int, default=1, help="score every Nth frame")
    ap.add_argument("--workers", default="", help="e.g. 1,2: also time the day on that many encoders")
    ap.add_argument("--workers-profiles", default="ours",
                    help="labels to run --workers with (the encode alone, through chunks.encode)")
    ap.add_argument("--workdir", type=Path, default=Path("bench/out"))
    args = ap.parse_args(argv)
    args.workers = [int(w) for w in args.workers.split(",") if w]
    args.workers_profiles = [p for p in args.workers_profiles.split(",") if p]
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    contenders = contenders_from(args.profiles)
    print(f"Machine: {machine()}")
    results = [run_variant(v, args, contenders) for v in args.variants.split(",") if v]
    print(f"\nEach contender is `cctv-server compact` with these settings; its encode cuts the day "
          f"into chunks of up to {chunks.CHUNK_SECONDS:g} s, one single-threaded encoder per "
          "core, joined by stream copy:")
    for c in contenders:
        one = dataclasses.replace(c.profile, threads=1)
        print(f"- {c.label}: {' '.join(f'{k}={v}' for k, v in c.env.items()) or 'defaults'}; "
              f"chunk: ffmpeg -f concat -safe 0 -i chunk.ffconcat "
              f"{shlex.join(video_args(one, 25))} chunk.mp4"
              + (" (-vf mpdecimate with the day's thresholds, a keyframe every keyint s)"
                 if c.drop else ""))
    print(f"- join: ffmpeg -f concat -safe 0 -i chunks.ffconcat -c:v copy "
          f"{shlex.join(audio_args() + chunks.FRAGMENTED)} out.mp4")
    (args.workdir / "results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
