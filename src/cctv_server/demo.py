"""Demo cameras made by ffmpeg: days across midnight, a gap, a camera restart, and cameras that keep recording."""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from .media import ffmpeg

log = logging.getLogger(__name__)

SEGMENT = 10  # seconds, as the cameras upload
FPS = 15
# Three cameras, each its own test pattern so that the overview tells them apart at a glance.
CAMERAS = {"porch": "testsrc2", "garden": "smptehdbars", "drive": "testsrc"}


CODEC_ARGS = {
    "libx264": ["-preset", "ultrafast", "-profile:v", "main"],
    "libx265": ["-preset", "ultrafast", "-x265-params", "log-level=error"],
    "mpeg2video": ["-q:v", "4"],
}


def segment_argv(binary: str, seconds: float, out_pattern: str, size: str = "320x180",
                 fps: int = FPS, audio: bool = False, ts_offset: float = 0,
                 segment: float = SEGMENT, pattern: str = "testsrc2",
                 codec: str = "libx264") -> list[str]:
    """ffmpeg arguments for `seconds` of test pattern cut into MPEG-TS segments, like a camera
    (in H.264; `codec` libx265 or mpeg2video for a camera, or a token, that sends another)."""
    argv = [binary, "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"{pattern}=size={size}:rate={fps}"]
    if audio:
        argv += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000"]
    argv += ["-t", str(seconds), "-c:v", codec, *CODEC_ARGS[codec],
             "-pix_fmt", "yuv420p", "-bf", "0", "-g", str(fps * 2),
             "-force_key_frames", f"expr:gte(t,n_forced*{segment})"]
    argv += ["-c:a", "aac", "-b:a", "32k"] if audio else []
    argv += ["-f", "segment", "-segment_time", str(segment), "-segment_format", "mpegts",
             "-reset_timestamps", "0", "-output_ts_offset", str(ts_offset), out_pattern]
    return argv


def record(binary: str, root: Path, start: dt.datetime, seconds: float,
           segment: float = SEGMENT, **kwargs) -> list[Path]:
    """One camera run from `start`: segments named by their clock time in their day's folder."""
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=".demo-") as tmp:
        argv = segment_argv(binary, seconds, f"{tmp}/%05d.ts", segment=segment, **kwargs)
        ffmpeg.run(argv, timeout=600)
        made = []
        for i, part in enumerate(sorted(Path(tmp).iterdir())):
            begins = start + dt.timedelta(seconds=i * segment)
            made.append(_place(part, root, begins, segment))
        return made


def _place(part: Path, root: Path, begins: dt.datetime, segment: float) -> Path:
    day_dir = root / begins.date().isoformat()
    day_dir.mkdir(parents=True, exist_ok=True)
    target = day_dir / begins.strftime("%H-%M-%S.ts")
    os.replace(part, target)
    end = (begins + dt.timedelta(seconds=segment)).timestamp()
    os.utime(target, (end, end))
    return target


def make_demo(base: Path, binary: str, tz: ZoneInfo, now: dt.datetime | None = None) -> None:
    """One folder per demo camera under `base`, each with a few days of its own story."""
    now = now or dt.datetime.now(tz)
    for name, pattern in CAMERAS.items():
        STORIES[name](binary, base / name, tz, now, pattern)


def _across_midnight_with_a_gap(binary: str, root: Path, tz: ZoneInfo, now: dt.datetime,
                                pattern: str) -> None:
    """Three days ago: across midnight, a gap, a restart at 00:06; and today's last minutes."""
    midnight = dt.datetime.combine(now.date() - dt.timedelta(days=2), dt.time(), tzinfo=tz)
    record(binary, root, midnight - dt.timedelta(minutes=4), 8 * 60, pattern=pattern)
    record(binary, root, midnight + dt.timedelta(minutes=6), 3 * 60, pattern=pattern)
    _recent(binary, root, tz, now, pattern)


def _restarted(binary: str, root: Path, tz: ZoneInfo, now: dt.datetime, pattern: str) -> None:
    """Yesterday afternoon, a camera restart in the middle (its timestamps start over)."""
    afternoon = dt.datetime.combine(now.date() - dt.timedelta(days=1), dt.time(15), tzinfo=tz)
    record(binary, root, afternoon, 3 * 60, pattern=pattern)
    record(binary, root, afternoon + dt.timedelta(minutes=3), 3 * 60, pattern=pattern)
    _recent(binary, root, tz, now, pattern)


def _recent(binary: str, root: Path, tz: ZoneInfo, now: dt.datetime, pattern: str) -> None:
    """The last two minutes, up to `now` (the camera then keeps recording)."""
    record(binary, root, now.replace(microsecond=0) - dt.timedelta(minutes=2), 2 * 60,
           pattern=pattern)


STORIES = {"porch": _across_midnight_with_a_gap, "garden": _restarted, "drive": _recent}


def has_recordings(base: Path) -> bool:
    """Whether every demo camera's folder is there already (kept between runs)."""
    return all((base / name).is_dir() for name in CAMERAS)


MAX_CATCH_UP = 600  # seconds: a live demo camera fills a gap this short since the newest footage


class LiveCamera(threading.Thread):
    """Drops a fresh 10-s segment into today's folder every 10 s, as an uploading camera does."""

    def __init__(self, root: Path, binary: str, tz: ZoneInfo, pattern: str = "testsrc2"):
        super().__init__(daemon=True, name=f"demo-camera-{root.name}")
        self.root, self.binary, self.tz, self.pattern = root, binary, tz, pattern
        self.stop = threading.Event()
        self.uploaded = 0

    def run(self) -> None:
        first = self._first(time.time())
        # Segment k covers first + k*10 s; uploading when it ends keeps names and timestamps in step.
        while not self.stop.wait(max(0.0, self._begins(first, 1).timestamp() - time.time())):
            try:
                self._upload(self._begins(first, 0))
            except Exception as err:  # a demo camera failing must not take the server down
                log.warning("demo camera: %s", err)
            self.uploaded += 1

    def _first(self, now: float) -> dt.datetime:
        """Where the camera's recording goes on from: the end of today's newest segment when it
        is recent (the demo's footage was just made: no gap between it and the live segments,
        which catch up at once), else now."""
        today = self.root / dt.datetime.fromtimestamp(now, self.tz).date().isoformat()
        ends = [p.stat().st_mtime for p in today.glob("*.ts")] if today.is_dir() else []
        newest = max(ends, default=0.0)
        start = round(newest) if 0 <= now - newest < MAX_CATCH_UP else now
        return dt.datetime.fromtimestamp(start, self.tz).replace(microsecond=0)

    def _begins(self, first: dt.datetime, ahead: int) -> dt.datetime:
        return first + dt.timedelta(seconds=(self.uploaded + ahead) * SEGMENT)

    def _upload(self, begins: dt.datetime) -> None:
        with tempfile.TemporaryDirectory(dir=self.root, prefix=".demo-") as tmp:
            # Timestamps run on from the previous upload, as one long camera run's would.
            argv = segment_argv(self.binary, SEGMENT, f"{tmp}/%05d.ts", pattern=self.pattern,
                                ts_offset=self.uploaded * SEGMENT)
            ffmpeg.run(argv, timeout=60)
            part = next(Path(tmp).iterdir())
            day_dir = self.root / begins.date().isoformat()
            day_dir.mkdir(exist_ok=True)
            staged = day_dir / f".{begins:%H-%M-%S}.ts.part"  # hidden until complete, like rsync
            shutil.move(part, staged)
            os.replace(staged, day_dir / begins.strftime("%H-%M-%S.ts"))
