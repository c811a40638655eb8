"""One compactor for several cameras: oldest day first across cameras; one camera's bad day never
stops another's."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

from .conftest import UTC
from .test_compactor import ENV

D1 = dt.datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)


def run(args, tmp_path, **env):
    return subprocess.run([sys.executable, "-m", "cctv_server.cli", *args],
                          env=os.environ | ENV | env, capture_output=True, text=True, timeout=180,
                          cwd=tmp_path)


def test_one_pass_compacts_every_cameras_days_oldest_first(tmp_path, record):
    porch, garden = tmp_path / "porch", tmp_path / "garden"
    record(porch, D1, 4)
    record(garden, D1 + dt.timedelta(days=1), 4)
    record(porch, D1 + dt.timedelta(days=2), 4)
    done = run(["compact", "--settle", "0", "--camera", f"porch={porch}",
                "--camera", f"garden={garden}"], tmp_path)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if ": compacted" in line]
    assert [line.split(":")[0] for line in lines] == [
        "porch 2024-05-01", "garden 2024-05-02", "porch 2024-05-03"]
    for day_dir in (porch / "2024-05-01", garden / "2024-05-02", porch / "2024-05-03"):
        assert (day_dir / "video.mp4").exists() and not list(day_dir.glob("*.ts"))


def test_a_camera_of_undecodable_segments_does_not_stop_the_other(tmp_path, record):
    porch, garden = tmp_path / "porch", tmp_path / "garden"
    record(garden, D1, 4)
    (porch / "2024-05-01").mkdir(parents=True)
    for name in ("10-00-00.ts", "10-00-02.ts"):
        (porch / "2024-05-01" / name).write_bytes(os.urandom(30000))
    toml = tmp_path / "cctv.toml"
    toml.write_text(f'[cameras.porch]\nroot = "{porch}"\n[cameras.garden]\nroot = "{garden}"\n')
    done = run(["--config", str(toml), "compact", "--settle", "0"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert (garden / "2024-05-01" / "video.mp4").exists()
    assert sorted(p.name for p in (porch / "2024-05-01" / "quarantine").glob("*.ts")) == [
        "10-00-00.ts", "10-00-02.ts"]
    status = run(["--config", str(toml), "status"], tmp_path)
    assert status.returncode == 0 and "porch (" in status.stdout and "garden (" in status.stdout
    only = run(["--config", str(toml), "status", "--camera", "garden"], tmp_path)
    assert "porch" not in only.stdout and "2024-05-01  compacted" in only.stdout
    assert run(["--config", str(toml), "status", "--camera", "drive"], tmp_path).returncode == 2
