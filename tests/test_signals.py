"""A compactor stops on SIGTERM however many come: serve sends one and its death signal another."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time


def test_the_compactor_exits_on_a_burst_of_terms(tmp_path):
    (tmp_path / "root").mkdir()
    log = tmp_path / "compactor.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cctv_server.cli", "compactor", "--root", str(tmp_path / "root"),
             "--quiet", "0"], env=os.environ | {"CCTV_TIMEZONE": "UTC"}, stdout=out,
            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while b"Compacting" not in log.read_bytes():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        time.sleep(1.0)  # into its wait for new footage
        for _ in range(200):
            if proc.poll() is not None:
                break
            proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
