"""The per-second measure, on small grey frames made here: change, light, noise, clock, mask."""

import numpy as np

from cctv_server.activity import measure

ACROSS, DOWN = 64, 36
KEEP = measure.cell_mask([], ACROSS, DOWN)


def scene(seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(40, 200, size=(DOWN, ACROSS)).astype(np.float32)


def frames(make, seconds: int = 10, fps: int = 5, start: float = 1000.0):
    return [(start + i / fps, np.clip(make(i / fps), 0, 255).astype(np.uint8))
            for i in range(seconds * fps)]


def noisy(base: np.ndarray, t: float, strength: float = 2.0) -> np.ndarray:
    rng = np.random.default_rng(int(t * 1000))
    return base + rng.normal(0, strength, base.shape)


def test_a_still_scene_with_sensor_noise_has_no_activity():
    base = scene()
    found = measure.seconds(frames(lambda t: noisy(base, t)), KEEP)
    assert len(found) == 10 and max(found.values()) == 0


def test_a_figure_crossing_the_picture_is_activity_every_second_it_moves():
    base = scene()

    def picture(t):
        frame = noisy(base, t)
        x = int(t * 6)  # six cells a second, from left to right
        frame[10:24, x:x + 4] = 20
        return frame
    found = measure.seconds(frames(picture), KEEP)
    assert min(found.values()) > 1.0  # percent of the picture


def test_slow_light_and_a_sudden_exposure_change_are_not_activity():
    base = scene()

    def picture(t):
        gain = 1 - 0.03 * t + (0.15 if t >= 6 else 0)  # dusk, then the camera's exposure
        return noisy(base, t) * gain + 2 * t
    found = measure.seconds(frames(picture), KEEP)
    assert max(found.values()) < 0.2


def test_a_clock_changing_every_second_is_not_counted():
    base = scene()

    def picture(t):
        frame = noisy(base, t)
        frame[1:3, 1:6] = 255 if int(t) % 2 else 0  # the seconds digit of a burned-in clock
        return frame
    found = measure.seconds(frames(picture), KEEP)
    assert max(found.values()) == 0


def test_a_masked_area_is_never_counted():
    base = scene()

    def picture(t):
        frame = noisy(base, t)
        frame[:, :16] = (t * 97) % 255  # a tree waving on the left quarter
        return frame
    keep = measure.cell_mask([(0, 0, 25, 100)], ACROSS, DOWN)
    assert max(measure.seconds(frames(picture), keep).values()) == 0
    assert not keep[:, :16].any() and keep[:, 16:].all()


def test_levels_keep_a_tenth_of_a_percent_and_mark_seconds_without_a_measure():
    first, levels = measure.to_levels({100: 0.04, 101: 2.26, 103: 90.0})
    assert first == 100 and levels == bytes([0, 23, measure.NONE, 254])
    assert measure.from_levels(first, levels) == [(100, 0.0), (101, 2.3), (103, 25.4)]


def test_the_grid_keeps_the_pictures_aspect():
    assert measure.grid(1280, 720) == (64, 36)
    assert measure.grid(640, 480) == (64, 48)
    assert measure.grid(32, 18) == (32, 18)
