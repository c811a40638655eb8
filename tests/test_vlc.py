"""VLC 3's own HLS client (Debian's vlc-bin) on our playlists: a day of segments, a compacted day, a live run.

VLC refuses to run as root, so it runs as a user of its own; `--sout` remuxes what it plays to a
file, which ffmpeg then decodes frame by frame. What these tests pin down is written in the
README ("Other players"): VLC drops the last frame of a segment where the next one's MPEG-TS
continuity counters do not run on (every camera segment restarts them) unless it is started with
`--no-ts-cc-check`, and it opens a `live=1` playlist near its newest footage, not at D.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from .conftest import FPS, UTC, Server, frame_crcs
from .test_compactor import compact

USER = "vlctest"
DAY, NEXT = "2026-11-20", "2026-11-21"
T10 = dt.datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC)
SEGMENT = 2.0
EOF_LOSS = 2  # frames VLC's --sout leaves out at the very end of any input, a plain file too


@pytest.fixture(scope="module")
def vlc() -> str:
    found = shutil.which("cvlc")
    assert found, "VLC is missing: run `scripts/setup --test` (apt-get install vlc-bin vlc-plugin-base)"
    if subprocess.run(["id", USER], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--create-home", USER], check=True)
    return found


@pytest.fixture(scope="module")
def site(tmp_path_factory, ffmpeg_bin):
    """D compacted (two 10-s fragments), then D+1 of 2-s segments, served."""
    from cctv_server import demo

    tmp = tmp_path_factory.mktemp("vlc")
    root = tmp / "root"
    kw = {"segment": SEGMENT, "size": "160x90", "fps": FPS}
    demo.record(ffmpeg_bin, root, T10, 20, **kw)
    assert compact(root).returncode == 0
    demo.record(ffmpeg_bin, root, T10 + dt.timedelta(days=1), 10, **kw)
    srv = Server(root, tmp).start()
    yield srv
    srv.stop()


@pytest.fixture
def outdir():
    """A folder VLC's user may write in (pytest's own are root's alone)."""
    path = Path(tempfile.mkdtemp(prefix="vlc-"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def vlc_frames(vlc: str, url: str, out: Path, ffmpeg_bin: str, *options: str) -> list[str]:
    """Play `url` in VLC as the test user, remuxing it to MPEG-TS; the frames it wrote."""
    command = ["runuser", "-u", USER, "--", vlc, "-q", "--play-and-exit", "--no-loop", *options,
               url, "--sout", f"#std{{access=file,mux=ts,dst={out}}}"]
    subprocess.run(command, capture_output=True, timeout=60, env=os.environ | {"HOME": f"/home/{USER}"})
    assert out.is_file() and out.stat().st_size, f"VLC wrote nothing for {url}"
    return frame_crcs(ffmpeg_bin, out)


def segment_frames(ffmpeg_bin: str, day_dir: Path) -> list[list[str]]:
    return [frame_crcs(ffmpeg_bin, p) for p in sorted(day_dir.glob("*.ts"))]


def test_vlc_plays_a_day_of_segments_whole_when_told_not_to_check_continuity_counters(
        site, vlc, outdir, ffmpeg_bin):
    want = [crc for seg in segment_frames(ffmpeg_bin, site.root / NEXT) for crc in seg]
    url = f"{site.url}/playlist.php?date={NEXT}"
    got = vlc_frames(vlc, url, outdir / "whole.ts", ffmpeg_bin, "--no-ts-cc-check")
    assert got == want[: len(got)] and len(got) >= len(want) - EOF_LOSS


def test_by_default_vlc_drops_only_last_frames_of_segments_at_their_joins(
        site, vlc, outdir, ffmpeg_bin):
    segments = segment_frames(ffmpeg_bin, site.root / NEXT)
    want = [crc for seg in segments for crc in seg]
    got = vlc_frames(vlc, f"{site.url}/playlist.php?date={NEXT}", outdir / "default.ts", ffmpeg_bin)
    missing = [crc for crc in want if crc not in got]
    last_of_each = {seg[-1] for seg in segments} | set(want[-EOF_LOSS:])
    assert set(missing) <= last_of_each, "VLC lost a frame other than a segment's last"
    assert got == [crc for crc in want if crc in got]  # nothing out of order, nothing repeated


def test_vlc_plays_a_compacted_day_from_its_fmp4_byte_ranges(site, vlc, outdir, ffmpeg_bin):
    want = frame_crcs(ffmpeg_bin, site.root / DAY / "video.mp4")
    got = vlc_frames(vlc, f"{site.url}/playlist.php?date={DAY}", outdir / "video.ts", ffmpeg_bin)
    assert got == want[: len(got)] and len(got) >= len(want) - EOF_LOSS


def test_vlc_opens_a_live_run_near_its_newest_footage_not_at_its_day(
        site, vlc, outdir, ffmpeg_bin):
    playlist = site.get(f"/playlist.php?date={DAY}&live=1").text
    assert "#EXT-X-START:TIME-OFFSET=0" in playlist  # what Safari and hls.js honour; VLC does not
    day = frame_crcs(ffmpeg_bin, site.root / DAY / "video.mp4")
    later = [crc for seg in segment_frames(ffmpeg_bin, site.root / NEXT) for crc in seg]
    got = vlc_frames(vlc, f"{site.url}/playlist.php?date={DAY}&live=1", outdir / "live.ts",
                     ffmpeg_bin, "--run-time=10", "--no-ts-cc-check")  # 4 s: once too
    # short on a fresh machine for VLC to have written anything (its first start is slow)
    assert got and got[0] not in day and got[0] in later  # not at D: in the newest day
    start = later.index(got[0])
    assert got == later[start : start + len(got)]  # from there on, in order
