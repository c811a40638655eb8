"""The rendition bench runs end to end on a tiny day and prints a well-formed table."""

import json
import subprocess
import sys
from pathlib import Path

from cctv_server.playback import transcodes

ROOT = Path(__file__).resolve().parents[1]


def test_the_rendition_bench_times_remux_and_rendition_per_fragment_and_through_the_server(tmp_path):
    argv = [sys.executable, str(ROOT / "bench" / "rendition.py"), "--variant", "tiny",
            "--duration", "20", "--segment", "2", "--repeat", "1", "--workdir", str(tmp_path)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [line for line in proc.stdout.splitlines() if line.startswith("| ")]
    threads = transcodes.threads_per_job(transcodes.default_jobs())  # as the server runs it
    assert [line.split("|")[1].strip() for line in lines[1:]] == [
        "remux (stream copy to MPEG-TS)", f"H.264 rendition, {threads} thread(s)",
        "H.264 rendition, 1 thread"]
    result = json.loads((tmp_path / "rendition.json").read_text())
    remux, rendition, _ = result["rows"]
    assert remux["vs_remux"] == 1.0 and rendition["realtime"] > 0 and 0 < rendition["ssim"] <= 1
    assert result["served"]["fragments"] == 2  # 20 s compacted with keyframes every 10 s
    assert "Through the server, a fragment nobody had made:" in proc.stdout
