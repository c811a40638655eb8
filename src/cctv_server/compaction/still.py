"""The still-scene mode: which frames count as still, from a measurement of the day's noise.

A frame is dropped when it differs from the last frame kept by less than the noise: ffmpeg's
mpdecimate compares them in 8x8 blocks (dropped when no block differs by more than `hi` and
fewer than `frac` of them by more than `lo`). Its defaults hold for footage with little noise; in
the dark the camera's sensor noise alone crosses them, so the thresholds grow with the noise
measured on a sample of the day.
"""

from __future__ import annotations

HI, LO, FRAC = 768, 320, 0.33  # mpdecimate's own defaults: 12 and 5 levels a pixel, a third
# The noise (median mean-absolute-difference of luma between neighbouring frames, YDIF) up to
# which the defaults keep noise out (noise.py measures it). Measured on the bench's days: clean 0.05, night 0.18. At
# night the defaults kept 389 noise-only frames a minute besides a crossing's 400; 1.25 times
# them still 217, 1.5 times 59 (and 389 of the crossing's), 1.75 times 50 (378).
QUIET_NOISE = 0.11
MAX_SCALE = 4.0  # beyond this a walking figure at night no longer crosses the thresholds


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
