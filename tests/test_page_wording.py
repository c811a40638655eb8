"""What the pages say: a compacted day shows its video's size, not "0 B"; the disk sentence gives each figure once."""

from __future__ import annotations

import datetime as dt
import re

from .conftest import UTC
from .test_compactor import compact

DAY = "2026-11-20"


def test_a_compacted_day_shows_its_video_size_and_the_disk_sentence_says_each_figure_once(
        tmp_path, record, server):
    root = tmp_path / "root"
    record(root, dt.datetime(2026, 11, 20, 10, 0, tzinfo=UTC), 6)
    assert compact(root, CCTV_CODEC="h264").returncode == 0
    record(root, dt.datetime(2026, 11, 21, 10, 0, tzinfo=UTC), 4)  # and a day still in segments
    page = server(root).get("/").text
    day = page.split(f'id="day-{DAY}"', 1)[1].split("</section>", 1)[0]
    size = (root / DAY / "video.mp4").stat().st_size
    assert "<b>0 B</b>" not in day and " segments</span>" not in day
    assert re.search(r"compacted: <b>\d", day) and "video.mp4 (" in day
    other = page.split('id="day-2026-11-21"', 1)[1].split("</section>", 1)[0]
    assert "<b>2</b> segments" in other
    disk = page.split('id="disk"', 1)[1].split("</p>", 1)[0]
    assert disk.count("rate") == 1 and "at today's rate" in disk and "At this rate" not in disk
    assert size > 0
