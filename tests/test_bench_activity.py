"""The activity bench runs end to end on small test days and prints its table."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_activity_bench_finds_the_crossings_and_prints_the_table(tmp_path):
    argv = [sys.executable, str(ROOT / "bench" / "activity.py"), "--size", "320x180", "--fps",
            "10", "--duration", "45", "--bitrate", "300k", "--kinds", "figure,light",
            "--workdir", str(tmp_path)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
            for line in proc.stdout.splitlines() if line.startswith("| ") and "---" not in line}
    assert rows["figure"][:4] == ["2", "2", "2", "0.0%"]  # crossings, inside events, events, false
    assert rows["light"][:4] == ["0", "0", "0", "0.0%"]
    assert "activity / decode" in proc.stdout and list(tmp_path.iterdir()) == []
