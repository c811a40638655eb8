"""Activity on the real server: the day's heat and events, search, the player's strip and keys,
and what share links and viewers see of events."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import httpx
import pytest

from .conftest import UTC, Server, wait_until
from .test_access_web import add_user, basic
from .test_activity import cli as activity_cli
from .test_activity import make_day
from .test_player import browser, page  # noqa: F401 - the fixtures

DAY1, DAY2 = "2026-11-20", "2026-11-21"
CROSS1 = dt.datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)  # crossing 12:00:05-12:00:11
CROSS2 = dt.datetime(2026, 11, 21, 9, 0, 0, tzinfo=UTC)  # crossing 09:00:05-09:00:11
pytestmark = pytest.mark.slow


def two_days(ffmpeg_bin: str, root: Path) -> Path:
    """A crossing on each of two days, measured with the command."""
    make_day(ffmpeg_bin, root, "figure", CROSS1)
    make_day(ffmpeg_bin, root, "figure", CROSS2)
    done = activity_cli("activity", "--rebuild", "--root", str(root))
    assert done.returncode == 0, done.stderr
    return root


@pytest.fixture(scope="module")
def site(tmp_path_factory, ffmpeg_bin):
    tmp = tmp_path_factory.mktemp("activity")
    srv = Server(two_days(ffmpeg_bin, tmp / "root"), tmp).start()
    yield srv
    srv.stop()


def test_the_day_api_gives_the_heat_and_the_events_with_their_stills(site):
    day = site.get(f"/api/activity/{DAY1}?step=60").json()
    [event] = day["events"]
    assert event["start"].startswith(f"{DAY1}T12:00:0") and event["camera"] == "camera"
    assert len(day["heat"]) == 1440 and day["heat"][12 * 60] >= day["threshold"]
    assert day["heat"][11 * 60] is None  # no footage, no measure
    still = site.get("/" + event["still"])  # relative to the camera, as the player asks
    assert still.status_code == 200 and still.content.startswith(b"\xff\xd8")
    assert site.get(f"/api/activity/{DAY1}?step=0").status_code == 400


def test_next_and_previous_event_cross_midnight(site):
    first = site.get(f"/api/activity/{DAY1}").json()["events"][0]
    after = site.get(f"/api/activity/near?t={first['start_unix']}&dir=next").json()["event"]
    assert after["day"] == DAY2 and after["start"].startswith(f"{DAY2}T09:00:0")
    back = site.get(f"/api/activity/near?t={after['start_unix']}&dir=prev").json()["event"]
    assert back == first
    assert site.get(f"/api/activity/near?t={after['start_unix']}&dir=next").json() == {"event": None}


def test_search_lists_events_newest_first_as_json_and_as_a_page_of_stills(site):
    found = site.get(f"/api/events?from={DAY1}&to={DAY2}T23:00:00").json()
    assert [e["day"] for e in found] == [DAY2, DAY1]
    assert site.get(f"/api/events?from={DAY1}&to={DAY2}T09:00:00%2B00:00").json() == found[1:]
    assert site.get(f"/api/events?from={DAY1}&to={DAY2}T23:00&min_score=100").json() == []
    html = site.get(f"/events?from={DAY1}&to={DAY2}T23:00").text
    assert html.count('class="event"') == 2 and found[0]["still"] in html
    bad = site.get("/api/events?from=yesterday")
    assert bad.status_code == 400 and "ISO 8601" in bad.text


def test_the_player_shows_the_strip_and_the_list_and_jumps_to_the_next_days_event(site, page):  # noqa: F811
    page.goto(f"{site.url}/day/{DAY1}")
    page.wait_for_selector("#events li")
    assert page.evaluate("document.getElementById('heat').width") > 100
    assert "1 event" in page.text_content("#activity-status")
    page.click("#clock")
    press_until(page, ".", f"/day/{DAY2}")  # this day's event first, if it is still ahead
    page.wait_for_selector("#events li")
    press_until(page, ",", f"/day/{DAY1}")  # the start of this day's event first, if inside it


def press_until(page, key: str, path: str, tries: int = 3) -> None:  # noqa: F811
    """Press a key until the page goes to `path` (each press goes to one event)."""
    for _ in range(tries):
        page.keyboard.press(key)
        try:
            page.wait_for_url(re.compile(path), timeout=5000)
            return
        except Exception:  # noqa: BLE001 - playwright's TimeoutError: press again
            continue
    raise AssertionError(f"{key!r} never went to {path}")


def test_share_links_and_viewers_see_only_the_events_they_may(tmp_path, ffmpeg_bin, server):
    cams = {"porch": tmp_path / "porch", "garden": tmp_path / "garden"}
    two_days(ffmpeg_bin, cams["porch"])
    make_day(ffmpeg_bin, cams["garden"], "figure", CROSS1)
    assert activity_cli("activity", "--rebuild", "--root", str(cams["garden"])).returncode == 0
    add_user(cams, "alice", "admin")
    add_user(cams, "bob", "viewer", "--cameras", "porch")
    srv = server(cams)
    span = f"from={DAY1}&to={DAY2}T23:00"
    seen = {e["camera"] for e in srv.get(f"/api/events?{span}", auth=basic("alice")).json()}
    assert seen == {"porch", "garden"}
    bobs = srv.get(f"/api/events?{span}", auth=basic("bob")).json()
    assert {e["camera"] for e in bobs} == {"porch"} and len(bobs) == 2
    assert srv.get(f"/api/events?{span}&camera=garden", auth=basic("bob")).status_code == 404
    # A share link of the second day's morning: that crossing, not the first day's. (Made on
    # the web: `cctv-server share --camera porch` on a server of several cameras finds the
    # state folder of porch alone, not the server's.)
    made = httpx.post(f"{srv.url}/cam/porch/admin/share", auth=basic("alice"),
                      data={"from": f"{DAY2}T08:59:00", "to": f"{DAY2}T09:01:00"})
    assert made.status_code == 200, made.text
    token = re.search(r"share=([^&\s]+)", made.json()["url"]).group(1)
    shared = httpx.Client(base_url=srv.url, timeout=30)
    answer = shared.get(f"/cam/porch/api/activity/{DAY2}?share={token}")
    assert answer.status_code == 200, answer.text
    day2 = answer.json()
    assert len(day2["events"]) == 1
    day1 = shared.get(f"/cam/porch/api/activity/{DAY1}?share={token}")
    assert day1.status_code in (200, 403) and (day1.status_code == 403 or not day1.json()["events"])
    first = srv.get(f"/cam/porch/api/activity/{DAY1}", auth=basic("alice")).json()["events"][0]
    assert shared.get(f"/cam/porch/{first['still']}?share={token}").status_code in (403, 404)
    assert shared.get(f"/api/events?{span}&share={token}").status_code == 403  # every camera's


def test_the_server_measures_segments_as_they_arrive(tmp_path, ffmpeg_bin, server):
    from .test_activity import start_of_test_day
    start = start_of_test_day()
    (tmp_path / "cam").mkdir()
    srv = server(tmp_path / "cam")
    make_day(ffmpeg_bin, tmp_path / "cam", "figure", start)
    day = start.date().isoformat()
    found = wait_until(lambda: srv.get(f"/api/activity/{day}").json()["events"], timeout=90,
                       interval=1)
    assert len(found) == 1 and found[0]["start_unix"] <= start.timestamp() + 5
