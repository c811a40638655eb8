"""The load bench runs end to end on a tiny site and checks what it uploaded."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_load_bench_uploads_watches_and_checks_every_segment(tmp_path):
    argv = [sys.executable, str(ROOT / "bench" / "load.py"), "--cameras", "3", "--viewers", "2",
            "--duration", "4", "--interval", "1", "--idle", "2", "--size", "160x90", "--fps", "10",
            "--bitrate", "100k", "--backlog", "1", "--workdir", str(tmp_path)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads((tmp_path / "load.json").read_text())
    assert (result["uploads"], result["due"], result["errors"], result["lost"]) == (12, 12, 0, 0)
    assert result["playlists"] > 0 and result["segments"] > 0 and result["rss_mb"][1] > 0
    rows = [line.split("|")[1].strip() for line in proc.stdout.splitlines() if line.startswith("| ")]
    assert rows[:3] == ["what", "uploads stored", "upload p50 / p99"]
    assert "target (0 errors, 0 lost, playlist p99 < 100 ms)" in proc.stdout
    assert not (tmp_path / "site").exists()  # the cameras' roots go afterwards
