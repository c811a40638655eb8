"""The day's timeline zooms from 24 h to minutes and pans, in real Chromium on the real server; other scripts follow it."""

from __future__ import annotations

import pytest

from .test_player import DAY, POLL, RUN1, RUN2, browser, playing_past, site  # noqa: F401 (fixtures)


@pytest.fixture
def page(browser):  # noqa: F811
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.add_init_script("""window.views = [];
        document.addEventListener('timeline:view', e => window.views.push(e.detail));""")
    yield page
    page.close()
    assert not errors, errors


def window_of(page) -> tuple[float, float]:
    found = page.evaluate("window.cctvTimeline")
    return found["start"], found["end"]


def labels(page) -> list[str]:
    return page.eval_on_selector_all("#hours span", "els => els.map(e => e.textContent)")


def test_the_whole_day_shows_and_a_short_run_is_still_visible(site, page):  # noqa: F811
    page.goto(f"{site.url}/day/{DAY}")
    start, end = window_of(page)
    assert end - start == 86400 and page.evaluate("window.views.length") >= 1
    assert labels(page)[:3] == ["00", "03", "06"]
    widths = page.eval_on_selector_all("#spans > div", "els => els.map(e => e.getBoundingClientRect().width)")
    assert len(widths) == 2 and min(widths) >= 3  # 40 s of a day is under a pixel wide


def test_presets_and_buttons_zoom_around_the_time_playing_with_labels_to_match(site, page):  # noqa: F811
    page.goto(f"{site.url}/day/{DAY}")
    playing_past(page, 1)
    page.click("button[data-span='600']")
    start, end = window_of(page)
    assert end - start == 600 and start <= RUN1.timestamp() + 1 <= end
    assert page.evaluate("window.views.at(-1)") == {"start": start, "end": end}
    assert all(len(label) == 5 and ":" in label for label in labels(page))  # 10:00, 10:02 ...
    page.click("#zoom-in")
    page.click("#zoom-in")
    assert window_of(page)[1] - window_of(page)[0] == 150
    page.click("#zoom-in")
    assert window_of(page)[1] - window_of(page)[0] == 120  # the closest it goes
    assert page.is_disabled("#zoom-in")
    page.click("button[data-span='86400']")
    assert window_of(page) == (RUN1.replace(hour=0).timestamp(), RUN1.replace(hour=0).timestamp() + 86400)


def test_the_wheel_zooms_at_the_pointer_and_a_drag_pans_without_seeking(site, page):  # noqa: F811
    page.goto(f"{site.url}/day/{DAY}")
    playing_past(page, 1)
    box = page.locator("#timeline").bounding_box()
    day_start = RUN1.replace(hour=0).timestamp()
    x = box["x"] + (RUN2.timestamp() - day_start) / 86400 * box["width"]
    page.mouse.move(x, box["y"] + box["height"] / 2)
    for _ in range(12):
        page.mouse.wheel(0, -200)
    page.wait_for_function("() => window.cctvTimeline.end - window.cctvTimeline.start < 3600",
                           polling=POLL)
    start, end = window_of(page)
    assert start < RUN2.timestamp() < end  # the time under the pointer stays in view
    position = page.evaluate("document.getElementById('video').currentTime")
    page.mouse.down()
    page.mouse.move(x - box["width"] / 4, box["y"] + box["height"] / 2, steps=8)
    page.mouse.up()
    moved_start, moved_end = window_of(page)
    assert moved_end - moved_start == pytest.approx(end - start)
    assert moved_start - start == pytest.approx((end - start) / 4, rel=0.15)  # dragged left: later
    assert page.evaluate("document.getElementById('video').currentTime") < position + 3  # no seek


def test_a_click_in_a_zoomed_timeline_seeks_to_that_moment_and_others_can_seek(site, page):  # noqa: F811
    page.goto(f"{site.url}/day/{DAY}")
    playing_past(page, 1)
    page.click("button[data-span='600']")
    page.evaluate(f"window.cctvPlayer.seekClock({RUN2.timestamp() + 60})")
    page.wait_for_function(f"() => Math.abs(+document.getElementById('clock').dataset.clock - {RUN2.timestamp() + 60}) < 3",
                           polling=POLL)
    start, end = window_of(page)
    assert start <= RUN2.timestamp() + 60 <= end  # the window followed the seek
    box = page.locator("#timeline").bounding_box()
    target = RUN2.timestamp() + 200
    page.mouse.click(box["x"] + (target - start) / (end - start) * box["width"], box["y"] + 5)
    page.wait_for_function(f"() => Math.abs(+document.getElementById('clock').dataset.clock - {target}) < 5",
                           polling=POLL)
    layers = page.locator("#timeline-layers").bounding_box()
    assert layers["x"] == box["x"] and layers["width"] == box["width"]
