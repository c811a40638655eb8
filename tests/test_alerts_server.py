"""Alerts raised by the real `serve`: a camera that stops uploading and starts again, a revoked
token still presented, alerts waiting through a restart sent once, and /metrics counting them."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from .alert_receivers import Listener, Mosquitto, Receiver
from .conftest import UTC, free_port, wait_until

pytestmark = pytest.mark.slow
OFFLINE_AFTER = 3.0


class Serve:
    """`cctv-server --config FILE serve --camera porch=ROOT` in a subprocess."""

    def __init__(self, root: Path, config: Path, log: Path):
        self.root, self.config, self.log = root, config, log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Serve:
        env = os.environ | {"CCTV_TIMEZONE": "UTC", "CCTV_STABLE_SECONDS": "0.5",
                            "CCTV_RESCAN_INTERVAL": "2s", "CCTV_COMPACTOR": "false"}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "cctv_server.cli", "--config", str(self.config), "serve",
                 "--camera", f"porch={self.root}", "--port", str(self.port)],
                env=env, stdout=log, stderr=subprocess.STDOUT)
        wait_until(self._ready, timeout=30)
        return self

    def _ready(self) -> bool:
        assert self.proc and self.proc.poll() is None, self.log.read_text()
        try:
            return httpx.get(self.url + "/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)


@pytest.fixture
def setup(tmp_path, receiver):
    root = tmp_path / "porch"
    config = tmp_path / "cctv.toml"
    config.write_text(f'offline_after = "{OFFLINE_AFTER}s"\n\n[[alerts]]\nurl = "{receiver.url()}"\n')
    started: list[Serve] = []

    def start() -> Serve:
        started.append(Serve(root, config, tmp_path / "serve.log").start())
        return started[-1]

    yield root, start
    for s in started:
        s.stop()


def _titles(receiver: Receiver) -> list[str]:
    return [json.loads(r["body"])["title"] for r in receiver.requests]


def _now() -> dt.datetime:
    return dt.datetime.now(UTC).replace(microsecond=0)


def test_a_camera_that_stops_uploading_raises_offline_then_online_when_it_is_back(
        setup, record, receiver):
    root, start = setup
    record(root, _now() - dt.timedelta(seconds=4), 4)
    serve = start()
    wait_until(lambda: "porch has stopped recording" in _titles(receiver),
               timeout=OFFLINE_AFTER + 60)
    record(root, _now(), 2)
    wait_until(lambda: "porch is recording again" in _titles(receiver), timeout=60)
    assert _titles(receiver) == ["porch has stopped recording", "porch is recording again"]
    metrics = httpx.get(serve.url + "/metrics", timeout=10).text
    assert 'cctv_alerts_sent_total{kind="json"} 2.0' in metrics


def test_alerts_waiting_when_the_server_restarts_are_sent_once(setup, record, receiver):
    root, start = setup
    record(root, _now() - dt.timedelta(seconds=4), 4)
    receiver.down = True  # the target is down: the offline alert waits in the outbox
    serve = start()
    wait_until(lambda: 'cctv_alerts_failed_total{kind="json"}' in
               httpx.get(serve.url + "/metrics", timeout=10).text, timeout=OFFLINE_AFTER + 60)
    serve.stop()
    assert receiver.requests == []
    receiver.down = False
    start()
    wait_until(lambda: receiver.requests, timeout=60)
    time.sleep(OFFLINE_AFTER)  # several passes of the rules after it: nothing more comes
    assert _titles(receiver) == ["porch has stopped recording"]


def test_a_revoked_token_still_presented_raises_a_security_alert(setup, record, receiver):
    root, start = setup
    record(root, _now() - dt.timedelta(seconds=4), 4)
    cli = [sys.executable, "-m", "cctv_server.cli", "token"]
    added = subprocess.run([*cli, "add", "--camera", f"porch={root}", "porch"],
                           capture_output=True, text=True, check=True, timeout=60)
    token_id, secret = added.stdout.split()[1], added.stdout.splitlines()[-1]
    subprocess.run([*cli, "revoke", "--camera", f"porch={root}", token_id],
                   capture_output=True, check=True, timeout=60)
    serve = start()
    day = _now().date().isoformat()
    refused = httpx.put(f"{serve.url}/upload/{day}/12-00-00.ts", content=b"x" * 188,
                        headers={"Authorization": f"Bearer {secret}"}, timeout=10)
    assert refused.status_code == 401
    wait_until(lambda: "porch: a revoked token is still used" in _titles(receiver), timeout=30)
    assert secret not in (root / ".cctv" / "audit.log").read_text()


def test_serve_shows_its_cameras_in_home_assistant_and_says_offline_when_it_stops(
        tmp_path, record):
    broker = Mosquitto()
    topic = f"cctv-{uuid.uuid4().hex[:8]}"
    root, config = tmp_path / "porch", tmp_path / "cctv.toml"
    config.write_text(f'mqtt = "mqtt://127.0.0.1:{broker.port}"\nmqtt_topic = "{topic}"\n'
                      f'mqtt_discovery_prefix = "ha-{topic}"\n')
    record(root, _now() - dt.timedelta(seconds=4), 4)
    listener = Listener(broker.port, f"{topic}/#", f"ha-{topic}/#")
    serve = Serve(root, config, tmp_path / "serve.log").start()
    try:
        assert wait_until(lambda: listener.get(f"{topic}/status"), timeout=30) == b"online"
        wait_until(lambda: listener.get(f"{topic}/porch/recording") == b"ON")
        assert wait_until(lambda: listener.get(f"{topic}/porch/still")).startswith(b"\xff\xd8")
        assert int(wait_until(lambda: listener.get(f"{topic}/porch/disk_free"))) > 0
        day = _now().date().isoformat().encode()
        assert wait_until(lambda: listener.get(f"{topic}/porch/last_segment")).startswith(day)
        assert listener.get(f"ha-{topic}/image/{topic.replace('-', '_')}_porch/still/config")
        serve.stop()
        wait_until(lambda: listener.get(f"{topic}/status") == b"offline")
    finally:
        serve.stop()
        listener.close()
        broker.close()
