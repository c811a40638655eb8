"""A compaction's phase times: laps of an injected clock, and their text for the catalog and status."""

from __future__ import annotations

import pytest

from cctv_server.compaction import phases


class FakeClock:
    """(wall, CPU) seconds, moved by hand."""

    def __init__(self):
        self.wall, self.cpu = 100.0, 5.0

    def __call__(self) -> tuple[float, float]:
        return self.wall, self.cpu

    def tick(self, wall: float, cpu: float) -> None:
        self.wall += wall
        self.cpu += cpu


def test_each_begin_ends_the_running_phase_and_a_phase_run_twice_adds_up():
    clock = FakeClock()
    p = phases.Phases(clock)
    p.begin("encode")
    clock.tick(10.0, 19.0)
    p.begin("join")
    clock.tick(0.5, 0.1)
    p.begin("encode")
    clock.tick(1.0, 2.0)
    p.end()
    clock.tick(99.0, 99.0)  # between phases: nobody's
    p.end()
    assert p.times == {"encode": (11.0, 21.0), "join": (0.5, pytest.approx(0.1))}
    assert p.seconds("encode") == 11.0 and p.seconds("verify") == 0.0


def test_the_catalog_text_reads_back_and_a_damaged_one_reads_as_none():
    times = {"probe": (0.1234, 0.1), "encode": (7.9, 15.25)}
    assert phases.loads(phases.dumps(times)) == {"probe": (0.123, 0.1), "encode": (7.9, 15.25)}
    assert phases.loads(None) == {} and phases.loads("not json") == {}
    assert phases.loads('{"encode": 3}') == {}


def test_the_text_lists_phases_in_the_order_a_job_runs_them():
    times = {"quality": (0.7, 1.1), "encode": (7.9, 15.2), "probe": (0.1, 0.1)}
    assert phases.text(times) == ("probe 0.1 s (0.1 CPU s), encode 7.9 s (15.2 CPU s), "
                                  "quality 0.7 s (1.1 CPU s)")


def test_the_process_clock_counts_this_process():
    wall, cpu = phases.process_clock()
    sum(range(200_000))
    later_wall, later_cpu = phases.process_clock()
    assert later_wall >= wall and later_cpu >= cpu
