"""Activity alerts from the real `serve`: a figure crossing a still scene, measured as its segments
arrive, reaches a webhook once with the still of its peak and a link to the player there."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time

import pytest

from .conftest import UTC, wait_until
from .test_activity import make_day
from .test_alerts_server import setup  # noqa: F401 - the fixture

pytestmark = pytest.mark.slow


def test_a_crossing_recorded_while_the_server_runs_raises_one_activity_alert_with_its_still(
        setup, receiver, ffmpeg_bin):  # noqa: F811
    root, start = setup
    root.mkdir()
    serve = start()
    begin = dt.datetime.now(UTC).replace(microsecond=0) + dt.timedelta(seconds=2)
    make_day(ffmpeg_bin, root, "figure", begin)  # one crossing, 5 s to 11 s into it

    def activity() -> list[dict]:
        bodies = [json.loads(r["body"]) for r in receiver.requests]
        return [b for b in bodies if b["title"].startswith("porch: activity at ")]

    found = wait_until(activity, timeout=150, interval=1)
    alert = found[0]
    assert f"{serve.url}/cam/porch/day/{begin.date().isoformat()}?t=" in alert["message"]
    still = base64.b64decode(alert["attachments"][0]["base64"])
    assert still[:3] == b"\xff\xd8\xff"  # a JPEG
    peak = alert["message"].split("?t=")[1][:8]
    crossing = [(begin + dt.timedelta(seconds=s)).strftime("%H:%M:%S") for s in range(4, 13)]
    assert peak in crossing, (peak, crossing)
    time.sleep(10)  # more passes of the alerts loop over the same, finished event
    assert len(activity()) == 1  # the one crossing: one alert
