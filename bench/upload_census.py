"""Benchmark: what the upload's packet census (media/tscensus.py) costs, against reading the same file.

A real segment is padded with null packets to 8, 32 and 64 MB (the attack of issue 21); each is
counted, and read plainly, from the page cache, best of five. Machines here are noisy: read the
ratio, not the times.

    .venv/bin/python bench/upload_census.py [--workdir bench/out/census]
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from cctv_server import demo  # noqa: E402
from cctv_server.media import ffmpeg, tscensus  # noqa: E402

NULL = b"\x47\x1f\xff\x10" + b"\xff" * 184


def best(fn, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workdir", type=Path, default=Path("bench/out/census"))
    work = parser.parse_args().workdir
    shutil.rmtree(work, ignore_errors=True)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    (segment, *_) = demo.record(ffmpeg.locate(), work / "root", start, 2, segment=2.0,
                                size="160x90", fps=10)
    data = segment.read_bytes()
    middle = len(data) // 188 // 2 * 188
    print("size     census   plain read  ratio")
    for mb in (8, 32, 64):
        path = work / f"padded-{mb}.ts"
        path.write_bytes(data[:middle] + NULL * ((mb << 20) // 188) + data[middle:])
        census = best(lambda: tscensus.count(path))
        plain = best(lambda: path.read_bytes())
        print(f"{mb:3d} MB  {census:7.3f} s  {plain:7.3f} s  {census / plain:5.2f}")


if __name__ == "__main__":
    main()
