"""A day's noise, measured on a few seconds of it, and what the encoder does about it.

The measure: the median mean-absolute-difference of luma between neighbouring frames (ffmpeg's
signalstats YDIF) over a second of three segments spread over the day. Most of a CCTV day is
still, so most neighbouring frames differ by the sensor's noise alone.

What it decides (pure, `nr_for`, `crf_for`): on a noisy day x265 (or x264) runs its own
inter-frame noise reduction, which leaves out of each residual the flicker a still background
only has because of the sensor: the bits go to what was in front of the camera instead.
Measured whole-command on the bench's days, scene SSIM against the clean picture before the
camera's noise (docs/performance.md): on the textured garage at moderate noise (YDIF 0.07) crf
27 alone kept 0.9313 at 0.41 of the source's size, with nr-inter=300 0.9323 at 0.37, and in less
CPU; on the clean day (YDIF 0.04) it changed nothing worth having (0.9698 against 0.9699), so a
clean day is encoded as it was. On a very noisy day x265 at its own profile also takes a higher
CRF: there the lower one spent its bits on the sensor's noise, time and space that kept no more
of the scene.
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

SAMPLES = 3  # segments measured, spread over the day
SAMPLE_SECONDS = 1.0  # 24 differences a segment at 25 fps: the median of 70 or so
TIMEOUT = 60.0
_YDIF = re.compile(r"lavfi\.signalstats\.YDIF=([0-9.]+)")
# YDIF from which a day counts as noisy. Measured on the bench's days: clean 0.043, the garage at
# moderate noise 0.069, at dusk (noise 10) 0.089, the night 0.175, the garage at night 0.162.
NOISY = 0.06
NR_INTER = 300  # x265's nr-inter (x264's nr) on a noisy day: 600 and 800 kept less of the scene
# YDIF from which a day is very noisy: what the camera kept of the scene there is mostly its noise,
# and x265 at 2 more CRF keeps as much of the scene in less time and space. Measured per encode
# with nr-inter (docs/performance.md): the night (0.173) 0.9444 at crf 27, 0.9501 at 29; the
# garage at noise 16 (0.159) 0.8995 and 0.9047; at noise 12 (0.127) 0.9171 and 0.9166 (the
# segments 0.9214); at noise 8 (0.069), below it, crf 28 already lost 0.011 to the segments.
VERY_NOISY = 0.12
CRF_STEP = 2


def nr_for(noise: float | None) -> int | None:
    """Pure: the encoder's noise reduction for a day with this noise; None for a clean day, or
    one whose noise could not be measured (the encoder then does as it always did)."""
    if noise is None or noise < NOISY:
        return None
    return NR_INTER


def crf_for(noise: float | None, crf: int) -> int:
    """Pure: the CRF for a day with this noise: `CRF_STEP` more on a very noisy day."""
    return crf + CRF_STEP if noise is not None and noise >= VERY_NOISY else crf


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


def measure(binary: str, segments: Sequence[Path]) -> float | None:
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
