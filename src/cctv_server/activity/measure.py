"""Pure: the activity of a few small grey frames a second, as the percent of the picture that changed.

Each frame is a grid of cells (about 64 x 36, each the average of a block of pixels, which
averages the sensor's noise away). Two frames a sample apart are compared cell by cell:

- light that changes the whole picture at once (dusk, a cloud, a camera's auto-exposure) is
  taken out first: the old frame is brought to the new one's light (the gain and offset that
  fit best), then the median difference is subtracted;
- a cell counts as changed when its difference is well beyond the noise of this pair of frames
  (a robust estimate: the median absolute difference), beyond the noise level of the stretch
  (a minute or a segment: the typical 98th percentile of its pairs' changes, which the
  encoder's refreshes of noisy blocks at night raise), and beyond a floor;
- a keyframe is not compared with the frame before it (the encoder starts afresh there, and
  in a noisy night picture every cell changes a little at once);
- an isolated changed cell is noise; a cell that changed in most seconds of the segment is a
  clock, a flag or a flickering light, and is not counted for that segment;
- cells under the camera's `activity_mask` are never counted.

A second's activity is the share of the counted cells that changed in any pair of that second.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

GRID_WIDTH = 64  # cells across; the height keeps the picture's aspect
SAMPLE = 0.2  # seconds between the frames compared: 5 a second
NOISE_FACTOR = 5.0  # a change beyond this many noise deviations is a change ...
FLOOR = 6.0  # ... and beyond this many grey levels (of 255)
TAIL = 98  # percentile of a pair's changes that tells the noise level of a stretch ...
TAIL_FACTOR = 2.5  # ... how far beyond it a change must be ...
LEVEL_MAX = 10.0  # ... and the most it can be (a figure in most of the pairs must not hide)
BUSY = 0.6  # a cell changed in more than this share of a segment's seconds is a clock or a flag
BUSY_MIN_SECONDS = 5  # a segment shorter than this is too short to tell a clock from a figure
LEVELS = 10  # stored values per percent (docs/activity.md): one byte holds 0 .. 25.4 %
NONE = 255  # the stored byte of a second without a measure


def grid(width: int, height: int) -> tuple[int, int]:
    """Cells across and down for a picture of this size."""
    across = min(GRID_WIDTH, max(1, width))
    return across, max(1, round(across * height / max(1, width)))


def cell_mask(rectangles: Sequence[tuple[float, float, float, float]], across: int,
              down: int) -> np.ndarray:
    """True for the cells that count: those whose centre lies in none of the rectangles (x, y,
    w, h in percent of the picture)."""
    xs = (np.arange(across) + 0.5) * 100 / across
    ys = (np.arange(down) + 0.5) * 100 / down
    keep = np.ones((down, across), dtype=bool)
    for x, y, w, h in rectangles:
        inside_x = (xs >= x) & (xs < x + w)
        inside_y = (ys >= y) & (ys < y + h)
        keep &= ~(inside_y[:, None] & inside_x[None, :])
    return keep


def difference(before: np.ndarray, after: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """How much each cell changed from one frame to the next, light taken out."""
    a, b = before.astype(np.float32), after.astype(np.float32)
    diff = b - _light(a, b, keep)
    return np.abs(diff - float(np.median(diff[keep])))  # what is left of a change of it all


def noise_level(diffs: Sequence[np.ndarray], keep: np.ndarray) -> float:
    """The change noise alone brings about, over a stretch of pairs of frames: the typical
    (median over the pairs) 98th percentile of a pair's changes. A figure in a few of the pairs
    does not move it; at night, where the encoder refreshes noisy blocks now and then, it rises
    above what the median change of a pair says."""
    if not diffs:
        return 0.0
    return min(LEVEL_MAX, float(np.median([np.percentile(d[keep], TAIL) for d in diffs])))


def changed(diff: np.ndarray, keep: np.ndarray, level: float = 0.0) -> np.ndarray:
    """The cells that changed beyond the noise of this pair, beyond the stretch's noise level,
    and beyond the floor."""
    noise = 1.4826 * float(np.median(diff[keep]))
    return (diff > max(NOISE_FACTOR * noise, TAIL_FACTOR * level, FLOOR)) & keep


def _light(a: np.ndarray, b: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The old frame under the new frame's light: the gain and offset that best turn the one
    into the other (a least-squares line over the counted cells, where a figure is a few)."""
    x, y = a[keep], b[keep]
    spread = float(x.var())
    if spread < 1e-6:
        return a + float(y.mean() - x.mean())
    gain = float(((x - x.mean()) * (y - y.mean())).mean()) / spread
    gain = min(4.0, max(0.25, gain))
    return gain * (a - float(x.mean())) + float(y.mean())


def _not_alone(cells: np.ndarray) -> np.ndarray:
    """Changed cells with at least one changed neighbour (of the eight)."""
    padded = np.pad(cells, 1)
    near = np.zeros(cells.shape, dtype=np.int8)
    down, across = cells.shape
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            if dy != 1 or dx != 1:
                near += padded[dy:dy + down, dx:dx + across]
    return cells & (near > 0)


def seconds(frames: Iterable[tuple], keep: np.ndarray) -> dict[int, float]:
    """The activity (percent of the counted picture) of each whole second (Unix seconds) that
    has a pair of frames; `frames` are (wall-clock time, grey grid[, keyframe]) in time order.

    A keyframe is compared with nothing before it (unless every frame is one): the encoder
    starts afresh there, and in a noisy picture the whole of it changes a little at once."""
    pairs: list[tuple[int, np.ndarray]] = []
    before, before_key = None, False
    for t, frame, *key in frames:
        is_key = bool(key and key[0])
        if before is not None and (before_key or not is_key):
            second = math.floor(t + 1e-6)  # a frame on the second, give or take rounding
            pairs.append((second, difference(before, frame, keep)))
        before, before_key = frame, is_key
    if not pairs:
        return {}
    level = noise_level([d for _, d in pairs], keep)
    per_second: dict[int, np.ndarray] = {}
    for second, diff in pairs:
        cells = changed(diff, keep, level)
        found = per_second.get(second)
        per_second[second] = cells if found is None else found | cells
    masks = {s: _not_alone(m) for s, m in per_second.items()}
    busy = _busy(list(masks.values()))
    counted = max(1, int(keep.sum()))
    return {s: 100.0 * int((m & ~busy).sum()) / counted for s, m in sorted(masks.items())}


def _busy(masks: list[np.ndarray]) -> np.ndarray:
    if len(masks) < BUSY_MIN_SECONDS:
        return np.zeros(masks[0].shape, dtype=bool)
    return np.mean(np.stack(masks), axis=0) > BUSY


def to_levels(found: dict[int, float]) -> tuple[int, bytes]:
    """The seconds as stored: the first second, and one byte a second from it (NONE where a
    second has no measure)."""
    if not found:
        return 0, b""
    first, last = min(found), max(found)
    out = bytearray([NONE]) * (last - first + 1)
    for second, percent in found.items():
        out[second - first] = min(NONE - 1, round(percent * LEVELS))
    return first, bytes(out)


def from_levels(first: int, levels: bytes) -> list[tuple[int, float]]:
    """(second, percent) of each measured second of a stored row."""
    return [(first + i, v / LEVELS) for i, v in enumerate(levels) if v != NONE]
