"""The sliding window's sequence numbers, from plain values."""

from cctv_server.playback.hls import Entry
from cctv_server.playback.playlists import WindowNumbering


def window(*names: str) -> list[Entry]:
    """Entries named like `a`, or `!b` for one that follows a discontinuity."""
    return [Entry(n.lstrip("!"), 2.0, 0.0, n.startswith("!")) for n in names]


def test_numbers_stay_with_their_entries_as_the_window_slides():
    numbering = WindowNumbering()
    assert numbering.assign(window("a", "b", "!c")) == (0, 0)
    # a slid out; c follows a discontinuity, still number 1 as it was
    assert numbering.assign(window("b", "!c", "d")) == (1, 0)
    # b slid out too: c's tag is no longer written, so the discontinuity sequence counts it
    assert numbering.assign(window("!c", "d", "!e")) == (2, 1)


def test_a_window_with_nothing_seen_before_carries_on_after_the_last():
    numbering = WindowNumbering()
    numbering.assign(window("a", "!b"))
    assert numbering.assign(window("x", "y")) == (2, 2)


def test_a_late_entry_leaves_the_others_their_numbers_and_nothing_goes_backwards():
    numbering = WindowNumbering()
    numbering.assign(window("a", "b", "c"))
    assert numbering.assign(window("late", "b", "c")) == (0, 0)  # b is still 1
    assert numbering.assign(window("b", "c", "d")) == (1, 0)
    assert numbering.assign(window("late", "b", "c", "d")) == (1, 0)  # not back to 0


def test_rendering_the_same_window_again_gives_the_same_numbers():
    numbering = WindowNumbering()
    numbering.assign(window("a", "b"))
    assert numbering.assign(window("b", "!c")) == numbering.assign(window("b", "!c")) == (1, 0)
