"""How well activity finds crossings, how little it marks when nothing happens, and what it costs.

Makes test days with known ground truth (bench/activity_days.py: a figure crossing a still
scene, a smaller one, the figure at night in strong noise, slow light changes without any
crossing, a still scene), measures them as the server does (real catalog, footage model and
decode), finds events at the default threshold, and prints a table: crossings found, false
activity, and the CPU it took against a plain single-threaded `ffmpeg -f null` decode of the
same segments, measured in the same run.

    .venv/bin/python bench/activity.py                      # 720p25, 120-s days
    .venv/bin/python bench/activity.py --size 320x180 --fps 10 --duration 60
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).parent))
import activity_days  # noqa: E402

from cctv_server import config  # noqa: E402
from cctv_server.activity import events, files, measure  # noqa: E402
from cctv_server.footage.catalog import Catalog  # noqa: E402
from cctv_server.footage.reader import Footage  # noqa: E402
from cctv_server.media.ffmpeg import locate  # noqa: E402

UTC = ZoneInfo("UTC")
START = dt.datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def measure_day(root: Path, settings: config.Settings) -> tuple[dict[int, float], float]:
    """The day's seconds as the server measures them, and the CPU seconds it took."""
    catalog = Catalog(root / ".cctv" / "catalog.sqlite3")
    catalog.rescan(root, time.time() + 3600, 0, UTC)
    footage = Footage(root, catalog)
    day = START.date().isoformat()
    found: dict[int, float] = {}
    before = cpu(resource.RUSAGE_SELF)
    for name, pieces in files.by_file(footage.day(day)).items():
        row = files.measure_file(root / day / name, day, pieces, settings.activity_mask)
        found.update(measure.from_levels(row.first, row.levels))
    return found, cpu(resource.RUSAGE_SELF) - before


def baseline(binary: str, segments: list[Path]) -> float:
    """CPU seconds of ffmpeg decoding every frame of the segments on one thread."""
    before = cpu(resource.RUSAGE_CHILDREN)
    for path in segments:
        subprocess.run([binary, "-hide_banner", "-loglevel", "error", "-threads", "1", "-i",
                        str(path), "-map", "0:v:0", "-f", "null", "-"], check=True, timeout=600)
    return cpu(resource.RUSAGE_CHILDREN) - before


def score(day: activity_days.Day, found: list[events.Event]) -> dict:
    """Crossings inside an event; seconds of events where nothing crossed (with the padding
    an event is given around a crossing allowed), as a share of the still seconds."""
    t0 = START.timestamp()
    crossings = [(t0 + a, t0 + b) for a, b in day.crossings if b - a >= 2]
    inside = sum(1 for a, b in crossings if any(e.start <= a and b <= e.end for e in found))
    margin = events.PAD + 1
    busy = [(a - margin, b + margin) for a, b in crossings]
    still = [s for s in range(int(t0), int(t0 + day.duration))
             if not any(t0 + a <= s < t0 + b for a, b in day.crossings)]
    false = [s for s in still if any(e.start <= s < e.end for e in found)
             and not any(a <= s < b for a, b in busy)]
    return {"crossings": len(crossings), "found": inside, "events": len(found),
            "false": 100 * len(false) / max(1, len(still))}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--fps", type=int, default=25)
    ap.add_argument("--duration", type=float, default=120.0, help="seconds of each test day")
    ap.add_argument("--bitrate", default="1000k")
    ap.add_argument("--kinds", default=",".join(activity_days.KINDS))
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args(argv)
    width, height = (int(n) for n in args.size.split("x"))
    binary = locate()
    settings = config.load(env={})
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        rows = []
        for kind in args.kinds.split(","):
            day = activity_days.Day(kind, width, height, args.fps, args.duration)
            root = Path(tmp) / kind / "cam"
            segments = activity_days.make(binary, day, root, START, args.bitrate)
            seconds, spent = measure_day(root, settings)
            found = events.find(seconds, settings.activity_threshold)
            base = baseline(binary, segments)
            rows.append((kind, score(day, found), spent, base))
        print_table(rows, args, settings.activity_threshold)


def print_table(rows, args, threshold: float) -> None:
    print(f"\nactivity on {args.size} {args.fps} fps, {args.duration:g}-s days, threshold"
          f" {threshold:g}%; cost in CPU seconds per second of footage (one core)\n")
    print("| day | crossings >= 2 s | inside an event | events | false activity (of still time)"
          " | activity CPU x realtime | % of a core per camera | ffmpeg decode x realtime |"
          " activity / decode |")
    print("|---|---|---|---|---|---|---|---|---|")
    for kind, s, spent, base in rows:
        rt, brt = args.duration / max(spent, 1e-9), args.duration / max(base, 1e-9)
        print(f"| {kind} | {s['crossings']} | {s['found']} | {s['events']} | {s['false']:.1f}% |"
              f" {rt:.0f}x | {100 / rt:.1f}% | {brt:.0f}x | {spent / max(base, 1e-9):.2f} |")
    print("\ngoals: every crossing inside an event; false activity under 5%, none on the light"
          " and still days; at least 20x realtime (at most 5% of a core) per 720p25 camera")


if __name__ == "__main__":
    main()
