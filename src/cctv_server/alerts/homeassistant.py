"""Home Assistant over MQTT: each camera a device by discovery, its state retained, a last will.

The server's availability is held by the client's last will: `offline` if it dies."""

from __future__ import annotations

import json
import logging
import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt

from ..errors import ConfigError

log = logging.getLogger(__name__)

ONLINE, OFFLINE = "online", "offline"


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None  # never logged

    def __str__(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def broker(url: str) -> Broker:
    """`mqtt://user:pass@host:1883` or `mqtts://...` (TLS, port 8883 by default)."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ConfigError("setting 'mqtt': give mqtt://[user:pass@]host[:port] or mqtts://...")
    tls = parts.scheme == "mqtts"
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError:
        raise ConfigError("setting 'mqtt': the port is not a number 1..65535") from None
    return Broker(parts.hostname, port, tls, unquote(parts.username) if parts.username else None,
                  unquote(parts.password) if parts.password else None)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_") or "cctv"


@dataclass(frozen=True)
class CameraState:
    recording: bool
    activity: bool
    last_segment: str | None  # ISO 8601
    disk_free: int | None  # bytes
    still: bytes | None  # JPEG; None: unchanged since the last one sent


def discovery(prefix: str, topic: str, camera: str) -> dict[str, dict]:
    """Pure: config topic -> payload of each of the camera's entities."""
    node = f"{slug(topic)}_{slug(camera)}"
    base = f"{topic}/{camera}"
    device = {"identifiers": [node], "name": camera, "manufacturer": "cctv-server",
              "model": "camera"}
    common = {"availability_topic": f"{topic}/status", "payload_available": ONLINE,
              "payload_not_available": OFFLINE, "device": device}
    entities = {
        ("binary_sensor", "recording"): {"name": "Recording", "state_topic": f"{base}/recording",
                                         "device_class": "running"},
        ("binary_sensor", "activity"): {"name": "Activity", "state_topic": f"{base}/activity",
                                        "device_class": "motion"},
        ("sensor", "last_segment"): {"name": "Last segment", "state_topic": f"{base}/last_segment",
                                     "device_class": "timestamp"},
        ("sensor", "disk_free"): {"name": "Disk free", "state_topic": f"{base}/disk_free",
                                  "device_class": "data_size", "unit_of_measurement": "B",
                                  "state_class": "measurement"},
        ("image", "still"): {"name": "Still", "image_topic": f"{base}/still",
                             "content_type": "image/jpeg"},
    }
    return {f"{prefix}/{component}/{node}/{object_id}/config":
            {**payload, "unique_id": f"{node}_{object_id}",
             **common}
            for (component, object_id), payload in entities.items()}


def state_messages(topic: str, camera: str, state: CameraState) -> dict[str, str | bytes]:
    """Pure: state topic -> payload (retained), the still only when there is a new one."""
    base = f"{topic}/{camera}"
    found: dict[str, str | bytes] = {
        f"{base}/recording": "ON" if state.recording else "OFF",
        f"{base}/activity": "ON" if state.activity else "OFF",
    }
    if state.last_segment is not None:
        found[f"{base}/last_segment"] = state.last_segment
    if state.disk_free is not None:
        found[f"{base}/disk_free"] = str(state.disk_free)
    if state.still is not None:
        found[f"{base}/still"] = state.still
    return found


class HomeAssistant:
    """The MQTT client: reconnects by itself; on each connect, availability and discovery again."""

    def __init__(self, url: str, prefix: str, topic: str, cameras: Sequence[str]):
        self.broker = broker(url)
        self.prefix, self.topic, self.cameras = prefix, topic, list(cameras)
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                  client_id=f"cctv-server-{slug(topic)}")
        if self.broker.username:
            self.client.username_pw_set(self.broker.username, self.broker.password)
        if self.broker.tls:
            self.client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        self.client.will_set(f"{topic}/status", OFFLINE, qos=1, retain=True)
        self.client.on_connect = self._connected
        self.client.reconnect_delay_set(1, 60)

    def start(self) -> None:
        self.client.connect_async(self.broker.host, self.broker.port, keepalive=30)
        self.client.loop_start()

    def _connected(self, client, userdata, flags, reason, properties=None) -> None:
        if reason.is_failure:
            log.warning("MQTT broker %s refused the connection: %s", self.broker, reason)
            return
        log.info("connected to the MQTT broker %s", self.broker)
        for camera in self.cameras:
            for topic, payload in discovery(self.prefix, self.topic, camera).items():
                client.publish(topic, json.dumps(payload), qos=1, retain=True)
        client.publish(f"{self.topic}/status", ONLINE, qos=1, retain=True)

    def publish(self, camera: str, state: CameraState) -> None:
        """Sent only while connected: the state is sent again at every pass and after each
        connect, so nothing needs queueing (without limit, in the client) while the broker is down."""
        if not self.client.is_connected():
            return
        for topic, payload in state_messages(self.topic, camera, state).items():
            self.client.publish(topic, payload, qos=1, retain=True)

    def stop(self) -> None:
        """A clean exit says offline itself (a crash leaves it to the last will)."""
        if self.client.is_connected():
            self.client.publish(f"{self.topic}/status", OFFLINE, qos=1, retain=True).wait_for_publish(5)
        self.client.disconnect()
        self.client.loop_stop()
