"""Compact one test day with the naive command, our default and named profiles; print tables.

Usage: python bench/compaction.py [--variants 720p25,1080p15] [--duration S] [PROFILE ...]
where PROFILE is a name from cctv_server.encoding.PROFILES or codec:preset:crf[:keyint[:denoise]].
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_test_day import VARIANTS, make_day, spec_for  # noqa: E402
from measure import Timing, input_args, median_timing, quality, seek_ms, timed  # noqa: E402

from cctv_server.encoding import (  # noqa: E402
    DEFAULT,
    PROFILES,
    Profile,
    audio_args,
    encoder_threads,
    profile_from,
    video_args,
)
from cctv_server.ffmpeg import locate  # noqa: E402

FRAGMENTED = ["-movflags", "+frag_keyframe+empty_moov+default_base_moof", "-f", "mp4"]
DAY = 86400.0
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


def parse_profile(spec: str) -> Profile:
    """A named profile, or codec:preset:crf[:keyint[:denoise]]."""
    if spec in PROFILES:
        return PROFILES[spec]
    codec, preset, crf, *rest = spec.split(":") + [""] * (3 - spec.count(":") - 1)
    keyint = int(rest[0]) if rest and rest[0] else None
    denoise = rest[1] if len(rest) > 1 and rest[1] else None
    return profile_from(codec, preset or None, int(crf) if crf else None, keyint, denoise)


def naive_argv(source: Path, out: Path) -> list[str]:
    """What the original service most likely ran: x265 defaults (medium, crf 28) into mp4."""
    return [locate(), "-hide_banner", "-nostdin", "-y", *input_args(source), "-c:v", "libx265",
            str(out)]


def profile_argv(profile: Profile, source: Path, fps: float, out: Path) -> list[str]:
    """What the compactor runs: our arguments into fragmented MP4."""
    return [locate(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error", *input_args(source),
            *video_args(profile, fps), *audio_args(profile), *FRAGMENTED, str(out)]


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


@dataclass(frozen=True)
class Bench:
    day: Path
    info: dict
    repeat: int
    vs_clean: bool
    vmaf_subsample: int

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


def measure_output(row: Row, out: Path, bench: Bench) -> Row:
    sized(row, out.stat().st_size, bench)
    row.ssim, row.vmaf = quality(out, bench.source, bench.vmaf_subsample)
    if bench.vs_clean:
        row.ssim_clean, row.vmaf_clean = quality(out, bench.day / "clean.mkv", bench.vmaf_subsample)
    row.seek_ms = seek_ms(out)
    return row


def encode_row(label: str, argv: list[str], out: Path, bench: Bench) -> Row:
    print(f"  encoding {label} ...", file=sys.stderr, flush=True)
    timing = median_timing([timed([argv]) for _ in range(bench.repeat)])
    row = Row(label, bench.seconds / timing.wall, timing.cpu, argv=shlex.join(argv))
    return measure_output(row, out, bench)


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


def compare(bench: Bench, contenders: dict[str, Profile], fps: float) -> list[Row]:
    """Source and decode rows, then the naive command, then each profile, in one run."""
    outdir = bench.day / "out"
    outdir.mkdir(exist_ok=True)
    naive = encode_row("naive", naive_argv(bench.source, outdir / "naive.mp4"),
                       outdir / "naive.mp4", bench)
    rows = [*source_rows(bench), naive]
    for label, profile in contenders.items():
        out = outdir / f"{label.replace(':', '_')}.mp4"
        rows.append(encode_row(label, profile_argv(profile, bench.source, fps, out), out, bench))
    for row in rows[2:]:
        row.vs_naive = row.realtime / naive.realtime
    return rows


def markdown(rows: list[Row]) -> str:
    """A pipe table, one row per Row; '-' where a figure does not apply."""
    head = "| " + " | ".join(title for title, _, _ in COLUMNS) + " |"
    rule = "|" + "|".join("---" for _ in COLUMNS) + "|"
    body = ["| " + " | ".join(_cell(r, key, fmt) for _, key, fmt in COLUMNS) + " |" for r in rows]
    return "\n".join([head, rule, *body])


def _cell(row: Row, key: str, fmt: str) -> str:
    value = getattr(row, key)
    return "-" if value is None else fmt.format(value)


def parallel(bench: Bench, label: str, profile: Profile, fps: float, jobs: int) -> dict:
    """Throughput of `jobs` concurrent compactions, threads shared out as the server would."""
    cores = os.cpu_count() or 1
    threads = encoder_threads(cores, jobs)
    tuned = profile_from(profile.codec, profile.preset, profile.crf, profile.keyint,
                         profile.denoise, threads)
    outdir = bench.day / "out"
    argvs = [profile_argv(tuned, bench.source, fps, outdir / f"par{j}.mp4") for j in range(jobs)]
    timing = median_timing([timed(argvs) for _ in range(bench.repeat)])
    return {"profile": label, "jobs": jobs, "threads": threads, "wall": timing.wall,
            "cpu": timing.cpu, "days_per_hour": jobs * 3600 / timing.wall * bench.seconds / DAY,
            "realtime": jobs * bench.seconds / timing.wall}


def parallel_markdown(results: list[dict]) -> str:
    lines = ["| profile | jobs | threads/job | wall s | CPU s | aggregate x realtime |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['profile']} | {r['jobs']} | {r['threads']} | {r['wall']:.1f} | "
              f"{r['cpu']:.1f} | {r['realtime']:.1f} |" for r in results]
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


def contenders_from(specs: list[str]) -> dict[str, Profile]:
    found = {"ours": DEFAULT}
    found.update((spec, parse_profile(spec)) for spec in specs)
    return found


def run_variant(variant: str, args: argparse.Namespace, contenders: dict) -> dict:
    day, info = prepare_day(variant, args.duration, args.segment, args.workdir)
    bench = Bench(day, info, args.repeat, args.vs_clean, args.vmaf_subsample)
    rows = compare(bench, contenders, info["fps"])
    kbps = info["source_bytes"] * 8 / bench.seconds / 1000
    print(f"\n### {variant}: {info['width']}x{info['height']} at {info['fps']} fps, "
          f"{bench.seconds:g} s, {len(info['segments'])} segments, source {kbps:.0f} kbit/s\n")
    print(markdown(rows))
    result = {"variant": variant, "info": info, "rows": [asdict(r) for r in rows]}
    if args.jobs:
        result["parallel"] = [parallel(bench, label, contenders[label], info["fps"], j)
                              for label in args.jobs_profiles for j in args.jobs]
        print("\n" + parallel_markdown(result["parallel"]))
    return result


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("profiles", nargs="*", help="extra profiles: name or codec:preset:crf[:keyint[:denoise]]")
    ap.add_argument("--variants", default="720p25,1080p15", help=f"of {', '.join(VARIANTS)}")
    ap.add_argument("--duration", type=float, default=120.0, help="seconds of video in the day")
    ap.add_argument("--segment", type=float, default=10.0, help="segment length, seconds")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per encode; medians shown")
    ap.add_argument("--vs-clean", action="store_true", help="also SSIM/VMAF against the clean scene")
    ap.add_argument("--vmaf-subsample", type=int, default=1, help="score every Nth frame")
    ap.add_argument("--jobs", default="", help="e.g. 1,2: also time that many concurrent jobs")
    ap.add_argument("--jobs-profiles", default="ours", help="labels to run --jobs with")
    ap.add_argument("--workdir", type=Path, default=Path("bench/out"))
    args = ap.parse_args(argv)
    args.jobs = [int(j) for j in args.jobs.split(",") if j]
    args.jobs_profiles = [p for p in args.jobs_profiles.split(",") if p]
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    contenders = contenders_from(args.profiles)
    print(f"Machine: {machine()}")
    results = [run_variant(v, args, contenders) for v in args.variants.split(",") if v]
    print("\nCommands (ours):")
    for label, profile in contenders.items():
        print(f"- {label}: ffmpeg -f concat -safe 0 -i list.txt "
              f"{shlex.join(video_args(profile, 25) + audio_args(profile) + FRAGMENTED)} out.mp4")
    (args.workdir / "results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
