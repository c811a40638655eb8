"""Every install path plays every day: without hls.js a browser's own HLS gets the multivariant playlist; a wheel carries hls.js."""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from cctv_server import demo
from cctv_server.cli import doctor

from .conftest import UTC, Server
from .test_compactor import compact
from .test_player import CHROMIUM, CHROMIUM_ARGS, POLL

REPO = Path(__file__).resolve().parents[1]
DAY = "2026-11-20"
START = dt.datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC)


def hevc_day(tmp: Path, ffmpeg_bin: str) -> Path:
    """A day of 12 s compacted to one H.265 video, its root."""
    root = tmp / "root"
    demo.record(ffmpeg_bin, root, START, 12, segment=2.0, size="160x90", fps=10)
    done = compact(root, CCTV_CODEC="hevc")
    assert done.returncode == 0, done.stderr
    assert (root / DAY / "video.mp4").is_file()
    return root


def plays(url: str, block_hlsjs: bool) -> dict:
    """Open the day's player in Debian's Chromium; once it has played past 2 s, what played it."""
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        browser = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            if block_hlsjs:
                page.route("**/hls.min.js", lambda route: route.abort())
            page.goto(f"{url}/day/{DAY}")
            page.wait_for_function("() => document.getElementById('video').currentTime > 2",
                                   timeout=60000, polling=POLL)
            return page.evaluate("""() => ({
                hlsjs: typeof Hls !== 'undefined',
                src: document.getElementById('video').currentSrc,
                clock: document.getElementById('clock').textContent,
                notice: document.getElementById('notice').hidden })""")
        finally:
            browser.close()


def test_without_hlsjs_a_browsers_own_hls_plays_an_h265_day_from_the_multivariant_playlist(
        tmp_path, ffmpeg_bin):
    srv = Server(hevc_day(tmp_path, ffmpeg_bin), tmp_path).start()
    try:
        played = plays(srv.url, block_hlsjs=True)
    finally:
        srv.stop()
    assert not played["hlsjs"] and played["src"].endswith(f"/variants.m3u8?date={DAY}")
    assert played["clock"].startswith("10:00:0") and played["notice"]


def load_build_hook():
    spec = importlib.util.spec_from_file_location("cctv_build_hook", REPO / "setup.py")
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    return hook


def test_the_build_hook_pins_the_same_hlsjs_as_package_lock():
    import json

    hook = load_build_hook()
    locked = json.loads((REPO / "package-lock.json").read_text())["packages"]["node_modules/hls.js"]
    assert hook.HLSJS == f"hls.js@{locked['version']}"
    assert f"sha512-{hook.HLSJS_SHA512}" == locked["integrity"]


def test_the_build_hook_fails_with_the_reason_when_npm_is_absent(tmp_path, monkeypatch):
    hook = load_build_hook()
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm on it
    with pytest.raises(SystemExit, match="needs npm to fetch the player library hls.js@"):
        hook.fetch_hlsjs(tmp_path / "vendor")
    assert not (tmp_path / "vendor").exists()


def test_the_build_hook_refuses_a_library_of_other_bytes_than_the_pinned_ones(tmp_path, monkeypatch):
    hook = load_build_hook()
    monkeypatch.setattr(hook, "HLSJS_SHA512", "A" * 86 + "==")
    with pytest.raises(SystemExit, match="refusing it"):
        hook.fetch_hlsjs(tmp_path / "vendor")
    assert not (tmp_path / "vendor").exists()


def test_doctor_says_whether_the_player_library_is_there(tmp_path):
    missing = list(doctor.player_library(None, [], 0, path=tmp_path / "hls.min.js"))
    assert missing[0].level == "WARN" and "hls.js is missing" in missing[0].text
    (tmp_path / "hls.min.js").write_text("// the library")
    found = list(doctor.player_library(None, [], 0, path=tmp_path / "hls.min.js"))
    assert found[0].level == "OK"


@pytest.mark.slow
def test_a_wheel_built_in_a_fresh_clone_and_installed_in_a_fresh_venv_plays_an_h265_day(
        tmp_path, ffmpeg_bin):
    clone, venv = tmp_path / "clone", tmp_path / "venv"
    run(["git", "clone", "--quiet", str(REPO), str(clone)])
    assert not (clone / "src/cctv_server/web/static/vendor/hls.min.js").exists()
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", "dist", "."], cwd=clone)
    wheel = next((clone / "dist").glob("cctv_server-*.whl"))
    run([sys.executable, "-m", "venv", str(venv)])
    run([str(venv / "bin" / "pip"), "install", "--quiet", str(wheel)])
    checked = run([str(venv / "bin" / "cctv-server"), "doctor", "--root", str(tmp_path)],
                  ok=(0, 1)).stdout
    assert "OK the player library hls.js is installed" in checked
    srv = Server(hevc_day(tmp_path, ffmpeg_bin), tmp_path)
    srv.start = lambda: started(srv, venv)  # the fresh venv's server, not this checkout's
    srv.start()
    try:
        played = plays(srv.url, block_hlsjs=False)
    finally:
        srv.stop()
    assert played["hlsjs"] and played["clock"].startswith("10:00:0") and played["notice"]


def started(srv: Server, venv: Path) -> Server:
    with open(srv.log, "ab") as log:
        srv.proc = subprocess.Popen(
            [str(venv / "bin" / "cctv-server"), "serve", "--root", str(srv.root), "--port",
             str(srv.port)], env=srv.env, stdout=log, stderr=subprocess.STDOUT, cwd=venv)
    srv.wait_ready(timeout=60)
    return srv


def run(argv: list[str], cwd: Path | None = None, ok=(0,)) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=900,
                          env=os.environ | {"PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    assert done.returncode in ok, f"{argv}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done
