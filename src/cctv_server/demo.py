"""A demo root made by ffmpeg: two days across midnight, a gap, a camera restart, and a live camera."""

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


def segment_argv(binary: str, seconds: float, out_pattern: str, size: str = "320x180",
                 fps: int = FPS, audio: bool = False, ts_offset: float = 0,
                 segment: float = SEGMENT) -> list[str]:
    """ffmpeg arguments for `seconds` of test pattern cut into MPEG-TS segments, like a camera."""
    argv = [binary, "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}"]
    if audio:
        argv += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000"]
    argv += ["-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-profile:v", "main",
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


def make_demo(root: Path, binary: str, tz: ZoneInfo, now: dt.datetime | None = None) -> None:
    """Three days ago a camera ran across midnight, stopped, and restarted; today's last minutes."""
    now = now or dt.datetime.now(tz)
    root.mkdir(parents=True, exist_ok=True)
    midnight = dt.datetime.combine(now.date() - dt.timedelta(days=2), dt.time(), tzinfo=tz)
    record(binary, root, midnight - dt.timedelta(minutes=4), 8 * 60)  # 23:56 to 00:04
    record(binary, root, midnight + dt.timedelta(minutes=6), 3 * 60)  # restarted at 00:06
    recent = now.replace(microsecond=0) - dt.timedelta(minutes=2)
    record(binary, root, recent, 2 * 60)


def has_recordings(root: Path) -> bool:
    return root.is_dir() and any(p.is_dir() and not p.name.startswith(".") for p in root.iterdir())


class LiveCamera(threading.Thread):
    """Drops a fresh 10-s segment into today's folder every 10 s, as an uploading camera does."""

    def __init__(self, root: Path, binary: str, tz: ZoneInfo):
        super().__init__(daemon=True, name="demo-camera")
        self.root, self.binary, self.tz = root, binary, tz
        self.stop = threading.Event()
        self.uploaded = 0

    def run(self) -> None:
        first = dt.datetime.now(self.tz).replace(microsecond=0)
        # Segment k covers first + k*10 s; uploading when it ends keeps names and timestamps in step.
        while not self.stop.wait(max(0.0, self._begins(first, 1).timestamp() - time.time())):
            try:
                self._upload(self._begins(first, 0))
            except Exception as err:  # a demo camera failing must not take the server down
                log.warning("demo camera: %s", err)
            self.uploaded += 1

    def _begins(self, first: dt.datetime, ahead: int) -> dt.datetime:
        return first + dt.timedelta(seconds=(self.uploaded + ahead) * SEGMENT)

    def _upload(self, begins: dt.datetime) -> None:
        with tempfile.TemporaryDirectory(dir=self.root, prefix=".demo-") as tmp:
            # Timestamps run on from the previous upload, as one long camera run's would.
            argv = segment_argv(self.binary, SEGMENT, f"{tmp}/%05d.ts", ts_offset=self.uploaded * SEGMENT)
            ffmpeg.run(argv, timeout=60)
            part = next(Path(tmp).iterdir())
            day_dir = self.root / begins.date().isoformat()
            day_dir.mkdir(exist_ok=True)
            staged = day_dir / f".{begins:%H-%M-%S}.ts.part"  # hidden until complete, like rsync
            shutil.move(part, staged)
            os.replace(staged, day_dir / begins.strftime("%H-%M-%S.ts"))
