"""Home Assistant over MQTT, against a real Mosquitto broker of the test's own: discovery, retained
state (the still too), and availability by the last will when the server dies."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from zoneinfo import ZoneInfo

import pytest

from cctv_server.alerts import homeassistant
from cctv_server.alerts.homeassistant import HomeAssistant
from cctv_server.alerts.outbox import Outbox
from cctv_server.alerts.service import CameraSource, Service
from cctv_server.errors import ConfigError

from .alert_receivers import Listener, Mosquitto
from .conftest import wait_until


@pytest.fixture
def broker():
    found = Mosquitto()
    yield found
    found.close()


def test_a_broker_url_is_read_with_its_credentials_and_tls():
    found = homeassistant.broker("mqtts://ha%40home:p%3Ass@broker.lan")
    assert (found.host, found.port, found.tls, found.username, found.password) == (
        "broker.lan", 8883, True, "ha@home", "p:ss")
    assert "p:ss" not in str(found)
    with pytest.raises(ConfigError, match="mqtt"):
        homeassistant.broker("http://broker.lan")


def test_each_camera_appears_in_home_assistant_with_its_state_retained(broker, tmp_path):
    prefix, topic = f"ha-{uuid.uuid4().hex[:8]}", f"cctv-{uuid.uuid4().hex[:8]}"
    newest = time.time() - 5
    camera = CameraSource("porch", 600, lambda: newest, dict, lambda: 0,
                          still=lambda: b"\xff\xd8still", disk_free=lambda: 123456789)
    home = HomeAssistant(f"mqtt://127.0.0.1:{broker.port}", prefix, topic, ["porch"])
    service = Service(Outbox(tmp_path), [], [camera], ZoneInfo("UTC"), home=home)
    service.start()
    try:
        wait_until(lambda: home.client.is_connected())
        service.tick(time.time())
        listener = Listener(broker.port, f"{prefix}/#", f"{topic}/#")  # after: retained only
        node = f"{topic.replace('-', '_')}_porch"
        config = wait_until(lambda: listener.get(f"{prefix}/image/{node}/still/config"))
        assert json.loads(config)["image_topic"] == f"{topic}/porch/still"
        for component, entity in (("binary_sensor", "recording"), ("binary_sensor", "activity"),
                                  ("sensor", "last_segment"), ("sensor", "disk_free")):
            payload = json.loads(wait_until(
                lambda: listener.get(f"{prefix}/{component}/{node}/{entity}/config")))
            assert payload["device"]["name"] == "porch"
            assert payload["availability_topic"] == f"{topic}/status"
        assert wait_until(lambda: listener.get(f"{topic}/status")) == b"online"
        assert wait_until(lambda: listener.get(f"{topic}/porch/recording")) == b"ON"
        assert listener.get(f"{topic}/porch/activity") == b"OFF"
        assert wait_until(lambda: listener.get(f"{topic}/porch/disk_free")) == b"123456789"
        assert wait_until(lambda: listener.get(f"{topic}/porch/still")) == b"\xff\xd8still"
        assert wait_until(lambda: listener.get(f"{topic}/porch/last_segment")).startswith(b"20")
        listener.close()
    finally:
        service.stop()


HOLDER = """
import sys, time
from cctv_server.alerts.homeassistant import HomeAssistant
home = HomeAssistant(sys.argv[1], sys.argv[2], sys.argv[3], ["porch"])
home.start()
time.sleep(600)
"""


def test_a_server_that_dies_is_shown_unavailable_by_its_last_will(broker):
    prefix, topic = f"ha-{uuid.uuid4().hex[:8]}", f"cctv-{uuid.uuid4().hex[:8]}"
    listener = Listener(broker.port, f"{topic}/status")
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, f"mqtt://127.0.0.1:{broker.port}",
                             prefix, topic], env=os.environ)
    try:
        wait_until(lambda: listener.get(f"{topic}/status") == b"online", timeout=30)
        proc.send_signal(signal.SIGKILL)
        wait_until(lambda: listener.get(f"{topic}/status") == b"offline", timeout=30)
    finally:
        proc.kill()
        proc.wait()
        listener.close()


def test_a_broker_that_wants_a_password_takes_the_one_in_the_url(tmp_path):
    passwords = tmp_path / "passwords"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwords), "cctv", "s3cret:pw"],
                   check=True, capture_output=True, timeout=30)
    broker = Mosquitto(tmp_path / "mosquitto.conf",
                       f"allow_anonymous false\npassword_file {passwords}\n")
    topic = f"cctv-{uuid.uuid4().hex[:8]}"
    good = HomeAssistant(f"mqtt://cctv:s3cret%3Apw@127.0.0.1:{broker.port}", "ha", topic, [])
    bad = HomeAssistant(f"mqtt://cctv:wrong@127.0.0.1:{broker.port}", "ha", topic + "x", [])
    try:
        good.start()
        bad.start()
        wait_until(lambda: good.client.is_connected())
        time.sleep(1)  # the refused one has had its answer by now
        assert not bad.client.is_connected()
    finally:
        good.stop()
        bad.stop()
        broker.close()
