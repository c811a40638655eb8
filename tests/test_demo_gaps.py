"""The demo's live cameras go on from the footage just made: no gap the demo did not mean."""

from __future__ import annotations

import datetime as dt

from cctv_server import demo

from .conftest import UTC, wait_until


def test_a_live_demo_camera_goes_on_from_the_end_of_the_newest_footage(tmp_path, ffmpeg_bin):
    now = dt.datetime.now(UTC).replace(microsecond=0)
    start = now - dt.timedelta(seconds=45)
    if start.date() != now.date():  # just after midnight: a day of its own, nothing to go on from
        start = now
    made = demo.record(ffmpeg_bin, tmp_path, start, 20, size="160x90")
    camera = demo.LiveCamera(tmp_path, ffmpeg_bin, UTC)
    camera.start()
    try:
        wait_until(lambda: camera.uploaded >= 2, timeout=60)
    finally:
        camera.stop.set()
        camera.join(30)
    names = sorted(p.name for p in (tmp_path / now.date().isoformat()).glob("*.ts"))
    clock = [dt.datetime.strptime(n, "%H-%M-%S.ts") for n in names]
    steps = {(b - a).total_seconds() for a, b in zip(clock, clock[1:])}
    assert len(names) >= len(made) + 2 and steps == {demo.SEGMENT}, names  # every 10 s, no gap
