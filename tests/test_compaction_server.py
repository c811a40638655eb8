"""Compacted days through the real server and the real daemon: HLS playback, background compaction."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from . import hlscheck
from .conftest import count_frames, frames_in, process_state, wait_until
from .test_compactor import DAY, ENV, START, compact


def test_a_compacted_day_plays_through_ffmpegs_hls_client(tmp_path, record, server, ffmpeg_bin):
    root = tmp_path / "root"
    made = record(root, START, 6) + record(root, START + dt.timedelta(minutes=5), 4)
    want = frames_in(ffmpeg_bin, made)
    assert compact(root).returncode == 0  # hevc, the default profile
    srv = server(root)
    response = srv.get(f"/playlist.php?date={DAY}")
    assert response.status_code == 200
    m = hlscheck.check(response.text)
    assert m.version == 7 and m.ended
    assert {u.split("?")[0] for u in m.uris} == {f"{DAY}/video.mp4"}
    assert len(m.byteranges) == len(m.uris)
    assert '#EXT-X-MAP:URI="2024-05-01/video.mp4",BYTERANGE=' in response.text
    assert m.dates[0] == START and m.dates[m.discontinuities[0]] == START + dt.timedelta(minutes=5)
    assert count_frames(ffmpeg_bin, f"{srv.url}/playlist.php?date={DAY}") == want
    section = srv.get("/").text.split(f'id="day-{DAY}"', 1)[1]
    assert "<b>10s</b> recorded" in section  # the video's footage, though no segment is left
    assert "from <b>10:00:00</b> to <b>10:05:04</b>" in section
    assert "10:00:06–10:05:00 (4m 54s)" in section


def test_serve_compacts_a_settled_day_in_a_niced_background_process(tmp_path, record, server):
    root = tmp_path / "root"
    record(root, START, 6)
    srv = server(root, CCTV_COMPACTOR="true", CCTV_SETTLE="0", CCTV_CODEC="copy")
    wait_until(lambda: (root / DAY / "video.mp4").exists(), timeout=60)
    page = wait_until(lambda: "compacted (" in (text := srv.get("/").text) and text, timeout=30)
    assert 'class="state state-compacted"' in page
    child = _compactor_pid(srv.proc.pid)
    assert child is not None
    assert _nice(child) == 19
    srv.stop()
    wait_until(lambda: not Path(f"/proc/{child}").exists() or _is_zombie(child), timeout=30)


def _compactor_pid(parent: int) -> int | None:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent and b"compactor" in cmdline:
                return int(entry.name)
    return None


def _nice(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def _is_zombie(pid: int) -> bool:
    try:
        return process_state(pid) == "Z"
    except OSError:
        return True


def test_the_daemon_takes_a_new_day_once_it_is_quiet_and_stops_on_sigterm(tmp_path, record):
    root = tmp_path / "root"
    root.mkdir()
    log = (tmp_path / "daemon.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "cctv_server.cli", "compactor", "--root", str(root),
         "--settle", "0", "--quiet", "3s"],
        env=os.environ | ENV | {"CCTV_CODEC": "copy", "CCTV_RESCAN_INTERVAL": "1h"},
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        time.sleep(1)  # watching an empty root: the new day must come through inotify
        made = record(root, START, 4)
        arrived = max(p.stat().st_ctime for p in made)  # the last segment written
        wait_until(lambda: (root / DAY / "video.mp4").exists(), timeout=30)
        committed = (root / DAY / "video.mp4").stat().st_ctime
        assert committed - arrived >= 2.5  # not before the quiet period was over
        wait_until(lambda: not list((root / DAY).glob("*.ts")))  # deleted after the commit
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
    assert code == 0, (tmp_path / "daemon.log").read_text()
