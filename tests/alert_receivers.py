"""Real receivers on loopback for the alert tests: an HTTP server (webhook, ntfy), an SMTP server
(aiosmtpd) and a Mosquitto broker of the test's own."""

from __future__ import annotations

import email
import shutil
import subprocess
import threading
import time
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from aiosmtpd.controller import Controller

from .conftest import free_port


class Receiver:
    """An HTTP server that records each POST/PUT; answers 503 while `down`, never while `hang`."""

    def __init__(self):
        self.requests: list[dict] = []
        self.down = False
        self.hang = threading.Event()  # set: requests are held until released
        self.release = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                owner._handle(self)

            do_PUT = do_POST

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        self.port = self.http.server_address[1]
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("content-length") or 0))
        if self.hang.is_set():
            self.release.wait(30)
        if self.down:
            handler.send_response(503)
            handler.end_headers()
            return
        self.requests.append({"method": handler.command, "path": handler.path,
                              "headers": dict(handler.headers), "body": body})
        handler.send_response(200)
        handler.send_header("content-type", "application/json")
        handler.end_headers()
        handler.wfile.write(b'{"id": "ok"}')

    def url(self, scheme: str = "json", path: str = "hook") -> str:
        return f"{scheme}://127.0.0.1:{self.port}/{path}"

    def close(self) -> None:
        self.release.set()
        self.http.shutdown()
        self.http.server_close()


class Mailbox:
    """A real SMTP server (aiosmtpd) on a free loopback port; `messages` are parsed e-mails."""

    def __init__(self):
        self.messages: list[Message] = []
        self.port = free_port()
        owner = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                owner.messages.append(email.message_from_bytes(envelope.content))
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def url(self) -> str:
        return (f"mailto://127.0.0.1:{self.port}?from=cctv@example.org&to=me@example.org"
                "&mode=insecure")

    def close(self) -> None:
        self.controller.stop()


class Mosquitto:
    """`mosquitto -p PORT` of the test's own (the binary must be there: no skipping)."""

    def __init__(self, conf: Path | None = None, lines: str = ""):
        """With `conf`, a config file there: a listener on the port, and `lines` added."""
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.port = free_port()
        argv = [binary, "-p", str(self.port)]
        if conf is not None:
            # as root it would drop to the user mosquitto, who may not read the test's folder
            conf.write_text(f"listener {self.port} 127.0.0.1\nuser root\n{lines}")
            argv = [binary, "-c", str(conf)]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        import socket
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("mosquitto did not start")

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class Listener:
    """A subscriber that keeps the last payload of each topic (retained ones too)."""

    def __init__(self, port: int, *patterns: str):
        self.seen: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self.client.on_message = self._message
        self.client.on_connect = lambda c, *a: [c.subscribe(p, qos=1) for p in patterns]
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _message(self, client, userdata, message):
        with self._lock:
            self.seen[message.topic] = message.payload

    def get(self, topic: str) -> bytes | None:
        with self._lock:
            return self.seen.get(topic)

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def receiver():
    """A Receiver for the test, closed after it."""
    found = Receiver()
    yield found
    found.close()


@pytest.fixture
def still(ffmpeg_bin, tmp_path) -> bytes:
    """A real JPEG made by ffmpeg."""
    out = tmp_path / "still.jpg"
    subprocess.run([ffmpeg_bin, "-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x90",
                    "-frames:v", "1", str(out)], check=True, timeout=60)
    return out.read_bytes()
