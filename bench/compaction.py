"""Compact one test day with the naive command, our default and named profiles; print tables.

Usage: python bench/compaction.py [--variants 720p25,1080p15] [--duration S] [PROFILE ...]
where PROFILE is a name from cctv_server.encoding.PROFILES or codec:preset:crf[:keyint[:denoise]].
Profiles run exactly as the compactor runs them (cctv_server.chunks: chunks on every core, joined);
the naive command is one ffmpeg. Repeats are interleaved (naive, ours, ..., naive, ours, ...) so the
machine's drift hits every contender alike, and "speed vs naive" is the median of per-round ratios.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_test_day import VARIANTS, make_day, spec_for  # noqa: E402
from measure import (  # noqa: E402
    Timing,
    input_args,
    median_timing,
    quality,
    seek_ms,
    timed,
    timed_call,
)

from cctv_server.compaction import chunks
from cctv_server.compaction.encoding import (  # noqa: E402
    DEFAULT,
    PROFILES,
    Profile,
    audio_args,
    profile_from,
    video_args,
    workers_for,
)
from cctv_server.media import decode  # noqa: E402
from cctv_server.media.ffmpeg import locate  # noqa: E402

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


def encode_profile(profile: Profile, bench: Bench, fps: float, out: Path, workers: int) -> None:
    """What the compactor runs for a day: chunks on `workers` encoders, joined into fragmented MP4."""
    job = chunks.Job(locate(), bench.pieces, profile, fps, [], False, 0.0, "bench")
    chunks.encode(job, out.with_suffix(".chunks"), out, workers)


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


def pieces_of(day: Path, info: dict) -> list[chunks.Piece]:
    """The day's segments with their decoded durations, as the compactor lists them."""
    paths = [(day / "segments" / n).resolve() for n in info["segments"]]
    return [chunks.Piece(p, decode.decode(p).duration) for p in paths]


@dataclass(frozen=True)
class Bench:
    day: Path
    info: dict
    repeat: int
    vs_clean: bool
    vmaf_subsample: int
    pieces: list[chunks.Piece]
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


def measure_output(row: Row, out: Path, bench: Bench) -> Row:
    sized(row, out.stat().st_size, bench)
    row.ssim, row.vmaf = quality(out, bench.source, bench.vmaf_subsample)
    if bench.vs_clean:
        row.ssim_clean, row.vmaf_clean = quality(out, bench.day / "clean.mkv", bench.vmaf_subsample)
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


def compare(bench: Bench, contenders: dict[str, Profile], fps: float) -> list[Row]:
    """Source and decode rows, then the naive command, then each profile, timed in rounds."""
    outdir = bench.day / "out"
    outdir.mkdir(exist_ok=True)
    naive_out = outdir / "naive.mp4"
    naive = naive_argv(bench.source, naive_out)
    outs = {label: outdir / f"{label.replace(':', '_')}.mp4" for label in contenders}
    tasks = {"naive": lambda: timed([naive])} | {
        label: (lambda p=profile, o=outs[label]: timed_call(
            lambda: encode_profile(p, bench, fps, o, bench.workers)))
        for label, profile in contenders.items()}
    runs: dict[str, list[Timing]] = {label: [] for label in tasks}
    for round_ in range(bench.repeat):
        for label, task in tasks.items():
            print(f"  round {round_ + 1}: {label} ...", file=sys.stderr, flush=True)
            runs[label].append(task())
    rows = [*source_rows(bench), timed_row("naive", runs["naive"], naive_out, bench,
                                           shlex.join(naive))]
    for label in contenders:
        rows.append(timed_row(label, runs[label], outs[label], bench, f"chunks x{bench.workers}"))
        rows[-1].vs_naive = statistics.median(
            n.wall / t.wall for n, t in zip(runs["naive"], runs[label]))
    rows[2].vs_naive = 1.0
    return rows


def timed_row(label: str, runs: list[Timing], out: Path, bench: Bench, how: str) -> Row:
    timing = median_timing(runs)
    return measure_output(Row(label, bench.seconds / timing.wall, timing.cpu, argv=how), out, bench)


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


def contenders_from(specs: list[str]) -> dict[str, Profile]:
    found = {"ours": DEFAULT}
    found.update((spec, parse_profile(spec)) for spec in specs)
    return found


def run_variant(variant: str, args: argparse.Namespace, contenders: dict) -> dict:
    day, info = prepare_day(variant, args.duration, args.segment, args.workdir)
    bench = Bench(day, info, args.repeat, args.vs_clean, args.vmaf_subsample,
                  pieces_of(day, info), workers_for(os.cpu_count() or 1))
    rows = compare(bench, contenders, info["fps"])
    kbps = info["source_bytes"] * 8 / bench.seconds / 1000
    print(f"\n### {variant}: {info['width']}x{info['height']} at {info['fps']} fps, "
          f"{bench.seconds:g} s, {len(info['segments'])} segments, source {kbps:.0f} kbit/s\n")
    print(markdown(rows))
    result = {"variant": variant, "info": info, "rows": [asdict(r) for r in rows]}
    if args.workers:
        result["workers"] = [by_workers(bench, label, contenders[label], info["fps"], w)
                             for label in args.workers_profiles for w in args.workers]
        print("\n" + workers_markdown(result["workers"]))
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
    ap.add_argument("--workers", default="", help="e.g. 1,2: also time the day on that many encoders")
    ap.add_argument("--workers-profiles", default="ours", help="labels to run --workers with")
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
    print(f"\nCommands (ours): each chunk of up to {chunks.CHUNK_SECONDS:g} s, one per core, "
          "single-threaded, then joined by stream copy:")
    for label, profile in contenders.items():
        one = profile_from(profile.codec, profile.preset, profile.crf, profile.keyint,
                           profile.denoise, threads=1)
        print(f"- {label}: ffmpeg -f concat -safe 0 -i chunk.ffconcat "
              f"{shlex.join(video_args(one, 25))} chunk.mp4")
    print(f"- join: ffmpeg -f concat -safe 0 -i chunks.ffconcat -c:v copy "
          f"{shlex.join(audio_args() + chunks.FRAGMENTED)} out.mp4")
    (args.workdir / "results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
