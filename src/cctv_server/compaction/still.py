"""The still-scene mode: which frames count as still, from a measurement of the day's noise.

A frame is dropped when it differs from the last frame kept by less than the noise: ffmpeg's
mpdecimate compares them in 8x8 blocks (dropped when no block differs by more than `hi` and
fewer than `frac` of them by more than `lo`). Its defaults hold for footage with little noise; in
the dark the camera's sensor noise alone crosses them, so the thresholds grow with the noise
measured on a sample of the day.
"""

from __future__ import annotations

import logging
import re
import statistics
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..errors import FFmpegError
from ..media import ffmpeg

log = logging.getLogger(__name__)

HI, LO, FRAC = 768, 320, 0.33  # mpdecimate's own defaults: 12 and 5 levels a pixel, a third
# The noise (median mean-absolute-difference of luma between neighbouring frames, YDIF) up to
# which the defaults keep noise out. Measured on the bench's days: clean 0.05, night 0.18. At
# night the defaults kept 389 noise-only frames a minute besides a crossing's 400; 1.25 times
# them still 217, 1.5 times 59 (and 389 of the crossing's), 1.75 times 50 (378).
QUIET_NOISE = 0.11
MAX_SCALE = 4.0  # beyond this a walking figure at night no longer crosses the thresholds
SAMPLES = 3  # segments measured, spread over the day
SAMPLE_SECONDS = 1.0  # 24 differences a segment at 25 fps: the median of 70 or so
TIMEOUT = 60.0
_YDIF = re.compile(r"lavfi\.signalstats\.YDIF=([0-9.]+)")


def scale_for(noise: float | None) -> float:
    """Pure: how much to raise mpdecimate's thresholds for footage with this much noise."""
    if noise is None:
        return 1.0
    return max(1.0, min(MAX_SCALE, noise / QUIET_NOISE))


def filter_for(noise: float | None, most: int = 0) -> str:
    """Pure: the mpdecimate filter for a day with this noise (None: unmeasured, the defaults),
    dropping at most `most` frames in a row (0: no limit), so that a kept frame stands for at most
    that many: a seek then never lands further from a frame, nor a fragment last much longer."""
    scale = scale_for(noise)
    limit = f":max={most}" if most > 0 else ""
    return f"mpdecimate=hi={round(HI * scale)}:lo={round(LO * scale)}:frac={FRAC}{limit}"


def sample(paths: Sequence[Path], count: int = SAMPLES) -> list[Path]:
    """Pure: up to `count` segments spread evenly over the day, in order."""
    if len(paths) <= count:
        return list(paths)
    return [paths[int((k + 0.5) * len(paths) / count)] for k in range(count)]


def noise_argv(binary: str, segment: Path, seconds: float = SAMPLE_SECONDS) -> list[str]:
    """Pure: ffmpeg printing, for each of a segment's first frames, its YDIF from the one before.

    On every 4th pixel of every 4th row (picked, not averaged, so the noise stays as it is):
    a sixteenth of the work, and the same median to 2% on the bench's days.
    """
    return [binary, "-hide_banner", "-nostdin", "-loglevel", "error", "-t", f"{seconds:g}",
            "-i", str(segment), "-map", "0:v:0",
            "-vf", "scale=iw/4:ih/4:flags=neighbor,signalstats,"
                   "metadata=print:key=lavfi.signalstats.YDIF:file=-",
            "-f", "null", "-"]


def parse_ydif(text: str) -> list[float]:
    """Pure: the YDIF of every frame but the first (which has no frame before it to differ from)."""
    return [float(v) for v in _YDIF.findall(text)][1:]


def measure_noise(binary: str, segments: Sequence[Path]) -> float | None:
    """The median YDIF over a sample of the day's frames; None, logged, when none could be read.

    The median: most of a CCTV day is still, so most neighbouring frames differ by noise alone,
    and a passing car or a camera keyframe moves the median little.
    """
    chosen = sample(segments)
    with ThreadPoolExecutor(max(1, len(chosen))) as pool:  # a few short ffmpegs side by side
        found = [v for values in pool.map(lambda s: _ydif(binary, s), chosen) for v in values]
    return statistics.median(found) if found else None


def _ydif(binary: str, segment: Path) -> list[float]:
    try:
        return parse_ydif(ffmpeg.run(noise_argv(binary, segment), TIMEOUT).stdout.decode())
    except (FFmpegError, subprocess.TimeoutExpired, OSError) as err:
        log.warning("%s: no noise measurement: %s", segment.name, str(err).splitlines()[0])
        return []
