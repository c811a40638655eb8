"""Pure: the activity of a few small grey frames a second, as the percent of the picture that changed.

Each frame is a grid of cells (about 64 x 36, each the average of a block of pixels, which
averages the sensor's noise away). Two frames a sample apart are compared cell by cell:

- light that changes the whole picture at once (dusk, a cloud, a camera's auto-exposure) is
  taken out first: the old frame is brought to the new one's light (the gain and offset that
  fit best), then the median difference is subtracted;
- a cell counts as changed when its difference is well beyond the noise of this pair of frames
  (a robust estimate: the median absolute difference), and beyond a floor;
- an isolated changed cell is noise; a cell that changed in most seconds of the segment is a
  clock, a flag or a flickering light, and is not counted for that segment;
- cells under the camera's `activity_mask` are never counted.

A second's activity is the share of the counted cells that changed in any pair of that second.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

GRID_WIDTH = 64  # cells across; the height keeps the picture's aspect
SAMPLE = 0.2  # seconds between the frames compared: 5 a second
NOISE_FACTOR = 5.0  # a change beyond this many noise deviations is a change ...
FLOOR = 6.0  # ... and beyond this many grey levels (of 255)
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


def changed(before: np.ndarray, after: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The cells that changed from one frame to the next, beyond light and noise."""
    a, b = before.astype(np.float32), after.astype(np.float32)
    diff = b - _light(a, b, keep)
    diff -= float(np.median(diff[keep]))  # what is left of a change of the whole picture
    noise = 1.4826 * float(np.median(np.abs(diff[keep])))
    return (np.abs(diff) > max(NOISE_FACTOR * noise, FLOOR)) & keep


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


def seconds(frames: Iterable[tuple[float, np.ndarray]], keep: np.ndarray) -> dict[int, float]:
    """The activity (percent of the counted picture) of each whole second (Unix seconds) that
    has a pair of frames; `frames` are (wall-clock time, grey grid) in time order."""
    per_second: dict[int, np.ndarray] = {}
    before = None
    for t, frame in frames:
        if before is not None:
            cells = changed(before, frame, keep)
            second = int(t // 1)
            found = per_second.get(second)
            per_second[second] = cells if found is None else found | cells
        before = frame
    if not per_second:
        return {}
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
