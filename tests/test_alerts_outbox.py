"""The durable outbox and its courier: coalescing, retries while a target is down, one broken
target never delaying another, a restart sending what waits once, a day's limit."""

import json
import logging
import time
from zoneinfo import ZoneInfo

import pytest

from cctv_server.alerts import targets
from cctv_server.alerts.alert import Alert
from cctv_server.alerts.deliver import Counts, Courier
from cctv_server.alerts.outbox import Outbox

from .alert_receivers import Receiver
from .conftest import wait_until

UTC = ZoneInfo("UTC")


def _alert(key: str = "offline:porch:1", kind: str = "offline", at: float | None = None) -> Alert:
    return Alert(kind, f"{key} title", "body", key, time.time() if at is None else at, "porch")


def _titles(receiver: Receiver) -> list[str]:
    return [json.loads(r["body"])["title"] for r in receiver.requests]


def test_an_identical_alert_is_coalesced_even_when_another_process_raises_it(tmp_path):
    assert Outbox(tmp_path).put(_alert())
    assert not Outbox(tmp_path).put(_alert())  # a second writer: the compactor's process
    assert Outbox(tmp_path).put(_alert("offline:porch:2"))
    assert len(list((tmp_path / "alerts" / "new").glob("*.json"))) == 2


def test_a_key_is_forgotten_after_a_day(tmp_path):
    box, now = Outbox(tmp_path), time.time()
    assert box.put(_alert(), now)
    box.forget_old_keys(now + 86400)
    assert box.put(_alert(), now + 86400)


def test_each_target_gets_only_the_alerts_it_wants(tmp_path):
    box = Outbox(tmp_path)
    offline = targets.parse(1, {"url": "json://127.0.0.1:1/a", "events": ["offline"]})
    other_camera = targets.parse(2, {"url": "json://127.0.0.1:1/b", "cameras": ["drive"]})
    box.put(_alert())
    box.put(_alert("activity:porch:1", kind="activity"))
    assert box.fan_out([offline, other_camera], UTC) == 2
    assert [a.kind for _, a in box.waiting(offline, time.time())] == ["offline"]
    assert list(box.waiting(other_camera, time.time())) == []
    assert list((tmp_path / "alerts" / "new").glob("*.json")) == []


def test_a_target_that_is_down_receives_the_alert_once_it_is_back(tmp_path, receiver):
    box, counts = Outbox(tmp_path), Counts()
    target = targets.parse(1, {"url": receiver.url()})
    receiver.down = True
    box.put(_alert())
    box.fan_out([target], UTC)
    courier = Courier(box, [target], counts, poll=0.2)
    courier.start()
    try:
        wait_until(lambda: counts.failed["json"] >= 1)
        receiver.down = False
        wait_until(lambda: receiver.requests, timeout=30)
        wait_until(lambda: not list(box.waiting(target, time.time())))
    finally:
        courier.stop()
    assert _titles(receiver) == ["offline:porch:1 title"] and counts.sent["json"] == 1


def test_one_broken_target_never_delays_the_others(tmp_path):
    stuck, fine = Receiver(), Receiver()
    stuck.hang.set()  # takes the request and answers nothing until released
    box, counts = Outbox(tmp_path), Counts()
    both = [targets.parse(1, {"url": stuck.url()}), targets.parse(2, {"url": fine.url()})]
    for n in range(3):
        box.put(_alert(f"offline:porch:{n}"))
    box.fan_out(both, UTC)
    courier = Courier(box, both, counts, poll=0.2)
    courier.start()
    try:
        wait_until(lambda: len(fine.requests) == 3)
        assert stuck.requests == [] and counts.failed["json"] == 0  # still waiting on the first
    finally:
        stuck.release.set()
        courier.stop()
        stuck.close()
        fine.close()


def test_alerts_waiting_at_a_restart_are_sent_once(tmp_path, receiver):
    target = targets.parse(1, {"url": receiver.url()})
    first = Outbox(tmp_path)
    first.put(_alert())
    first.put(_alert("offline:porch:2"))
    first.fan_out([target], UTC)  # the process dies here, nothing sent
    for _ in range(2):  # two restarts
        box, counts = Outbox(tmp_path), Counts()
        box.put(_alert())  # the rules raise the same alert again after the restart: coalesced
        box.fan_out([target], UTC)
        courier = Courier(box, [target], counts, poll=0.2)
        courier.start()
        wait_until(lambda: not list(box.waiting(target, time.time())))
        courier.stop()
    assert sorted(_titles(receiver)) == ["offline:porch:1 title", "offline:porch:2 title"]


def test_an_alert_undelivered_for_a_day_is_dropped_with_a_log_line(tmp_path, caplog):
    box = Outbox(tmp_path)
    target = targets.parse(1, {"url": "json://127.0.0.1:1/x"})
    box.put(_alert(at=time.time() - 86401))
    box.fan_out([target], UTC)
    with caplog.at_level(logging.ERROR):
        assert list(box.waiting(target, time.time())) == []
    assert "dropped, undelivered to alerts[1] (json) for a day" in caplog.text
    assert list(box.queue(target).glob("*.json")) == []


def test_the_queue_of_a_target_no_longer_configured_is_dropped_with_a_log_line(tmp_path, caplog):
    box = Outbox(tmp_path)
    gone = targets.parse(1, {"url": "json://127.0.0.1:1/old"})
    kept = targets.parse(1, {"url": "json://127.0.0.1:1/new"})
    box.put(_alert())
    box.fan_out([gone, kept], UTC)
    with caplog.at_level(logging.WARNING):
        box.drop_unknown([kept])
    assert not box.queue(gone).exists() and len(list(box.queue(kept).glob("*.json"))) == 1
    assert "1 alert(s) dropped: their target is no longer in the config" in caplog.text


def test_an_alert_that_could_not_be_written_is_not_remembered_as_seen(tmp_path):
    box = Outbox(tmp_path)
    (tmp_path / "alerts").mkdir()
    (tmp_path / "alerts" / "new").write_text("a file where the folder should be")
    with pytest.raises(OSError):
        box.put(_alert())
    (tmp_path / "alerts" / "new").unlink()
    assert box.put(_alert())
