"""The README's first command: `cctv-server demo` makes three cameras' recordings and serves them."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx

from . import hlscheck
from .conftest import free_port


def test_the_demo_records_three_cameras_and_serves_them(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "demo.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cctv_server.cli", "demo", "--dir", str(tmp_path / "demo"),
             "--port", str(port)],
            env=os.environ | {"CCTV_TIMEZONE": "UTC"}, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the demo did not start:\n" + log.read_text()
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        overview = httpx.get(url + "/", timeout=30)
        assert overview.status_code == 200
        for camera in ("porch", "garden", "drive"):
            assert f'href="cam/{camera}/"' in overview.text
        days = sorted(p.name for p in (tmp_path / "demo" / "porch").iterdir() if p.name[0] != ".")
        assert len(days) == 3  # across midnight three days ago, and today
        porch = httpx.get(url + "/cam/porch/", timeout=30).text
        assert all(day in porch for day in days)
        live = httpx.get(url + "/cam/drive/live.m3u8", timeout=30)
        assert live.status_code == 200
        assert hlscheck.check(live.text).uris
    finally:
        proc.terminate()
        proc.wait(timeout=60)
