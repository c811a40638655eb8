"""The compaction bench runs `cctv-server compact` end to end on tiny days and prints well-formed tables."""

import json
import subprocess
import sys
from pathlib import Path

import av
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXTRA = "hevc:ultrafast:30:2:hqdn3d"
ROWS = ["source", "decode only", "naive", "ours", "ours+drop", "av1", EXTRA]
PHASES = ["probe", "encode", "join", "verify", "index", "checksum", "quality", "rest", "command"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("bench")
    argv = [
        sys.executable, str(ROOT / "bench" / "compaction.py"), "--variants", "tiny,tiny-night",
        "--duration", "4", "--segment", "2", "--repeat", "1", "--vs-clean",
        "--workers", "1,2", "--workdir", str(workdir), "av1", EXTRA,
    ]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=280, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, workdir


def _table(stdout: str, first_header: str, nth: int = 0) -> list[list[str]]:
    lines = stdout.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |")]
    start = starts[nth]
    block = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        block.append([cell.strip() for cell in line.strip("|").split("|")])
    return block


def test_both_days_have_a_table_with_a_row_per_contender(run):
    for nth in (0, 3):  # each day: its table, where the time went, the workers
        table = _table(run[0], "profile", nth)
        assert [row[0] for row in table[2:]] == ROWS
        assert all(len(row) == len(table[0]) for row in table)


def test_where_the_time_went_has_every_phase_and_adds_up_to_the_command(run):
    for nth in (1, 4):
        table = _table(run[0], "profile", nth)
        assert table[0][1:] == PHASES
        assert [row[0] for row in table[2:]] == ROWS[3:]
        for row in table[2:]:
            figures = [float(cell) for cell in row[1:]]
            assert figures[-1] == pytest.approx(sum(figures[:-1]), abs=0.06)
            # The encode always takes time; verifying the test's few seconds may round to 0.0.
            assert figures[PHASES.index("encode")] > 0 and figures[PHASES.index("verify")] >= 0


def test_the_night_day_is_darker_and_noisier_at_the_same_bitrate(run):
    results = json.loads((run[1] / "results.json").read_text())
    day, night = results[0]["info"], results[1]["info"]
    assert night["light"] < day["light"] and night["noise"] > day["noise"]
    assert night["bitrate"] == day["bitrate"]


def test_every_figure_parses_as_a_number(run):
    for row in _table(run[0], "profile")[2:]:
        for cell in row[1:]:
            assert cell == "-" or float(cell) >= 0


def test_encoded_rows_have_every_figure(run):
    table = _table(run[0], "profile")
    for row in table[4:]:
        assert "-" not in row[1:], row
        assert 0 < float(row[table[0].index("SSIM")]) <= 1
        assert 0 <= float(row[table[0].index("VMAF")]) <= 100
    assert table[4][table[0].index("speed vs naive")] == "1.00"


def test_sizes_are_the_files_on_disk(run):
    stdout, workdir = run
    result = json.loads((workdir / "results.json").read_text())[0]
    day = workdir / "tiny-4s-2"
    segments = sum(p.stat().st_size for p in (day / "segments").glob("*.ts"))
    rows = {r["label"]: r for r in result["rows"]}
    assert rows["source"]["bytes"] == segments
    assert rows["naive"]["bytes"] == (day / "out" / "naive.mp4").stat().st_size
    assert rows["ours"]["bytes"] == (day / "out" / "ours.mp4").stat().st_size
    assert rows["ours+drop"]["bytes"] == (day / "out" / "ours_drop.mp4").stat().st_size
    printed = {r[0]: float(r[3]) for r in _table(stdout, "profile")[2:] if r[3] != "-"}
    assert printed["ours"] == pytest.approx(rows["ours"]["bytes"] / 1e6, abs=0.0005)


def test_the_test_day_has_the_camera_layout(run):
    day = run[1] / "tiny-4s-2"
    info = json.loads((day / "day.json").read_text())
    assert (info["width"], info["height"], info["fps"]) == (160, 90, 10)
    assert len(info["segments"]) == 2
    assert (day / "clean.mkv").stat().st_size > 0
    with av.open(str(day / "segments" / info["segments"][0])) as container:
        stream = container.streams.video[0]
        assert container.format.name == "mpegts"
        assert stream.codec_context.name == "h264" and stream.codec_context.profile == "Main"
        assert not stream.codec_context.has_b_frames


def test_the_workers_table_lists_each_worker_count(run):
    table = _table(run[0], "profile | workers")
    assert [row[1] for row in table[2:]] == ["1", "2"]
    assert all(float(row[4]) > 0 and float(row[5]) > 0 for row in table[2:])
