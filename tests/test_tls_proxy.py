"""HTTPS in front: Debian's nginx with the shipped config (deploy/nginx/cctv-server.conf) and a
self-signed certificate; and cctv-server's own tls_cert/tls_key. Sign in and play through each."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from cctv_server import demo
from cctv_server.media import ffmpeg

from .conftest import FPS, UTC, Server, count_frames, free_port, wait_until

CONF = Path(__file__).resolve().parents[1] / "deploy" / "nginx" / "cctv-server.conf"
DAY = "2026-01-01"
NOON = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
PASSWORD = "alice's long password"


@pytest.fixture
def certificate(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


@pytest.fixture
def recorded(tmp_path, record):
    root = tmp_path / "root"
    record(root, NOON, 6)
    done = subprocess.run([sys.executable, "-m", "cctv_server.cli", "user", "add", "alice",
                           "--root", str(root), "--role", "admin", "--password-stdin"],
                          input=PASSWORD + "\n", capture_output=True, text=True, timeout=60,
                          env=os.environ | {"CCTV_TIMEZONE": "UTC"})
    assert done.returncode == 0, done.stderr
    return root


def nginx_config(tmp_path: Path, listen: int, upstream: int, cert: Path, key: Path) -> Path:
    """The shipped site config, with this test's ports, certificate and paths, in a whole
    nginx.conf of its own (no root needed beyond the binary)."""
    site = CONF.read_text()
    site = site.replace("server 127.0.0.1:8080;", f"server 127.0.0.1:{upstream};")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{free_port()};")
    site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{listen} ssl;")
    site = re.sub(r"ssl_certificate\s+\S+;", f"ssl_certificate {cert};", site)
    site = re.sub(r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {key};", site)
    site = site.replace("server_name cctv.example.org;", "server_name 127.0.0.1;")
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"""pid {tmp_path}/nginx.pid;
error_log {tmp_path}/nginx-error.log;
events {{}}
http {{
    access_log {tmp_path}/nginx-access.log;
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi;
    uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
{site}
}}
""")
    return conf


def sign_in_and_play(base: str, ffmpeg_bin: str, cert: Path) -> str:
    """Sign in with the form (returning the session cookie's header) and play a day with
    ffmpeg's HLS client using Basic credentials in the URL."""
    client = httpx.Client(base_url=base, verify=False)
    response = client.post("/login", data={"name": "alice", "password": PASSWORD, "next": "/"})
    assert response.status_code == 303, response.text
    assert client.get(f"/playlist.php?date={DAY}").status_code == 200
    authority = base.split("://", 1)[1]
    url = f"https://alice:{PASSWORD.replace(' ', '%20').replace(chr(39), '%27')}@{authority}"
    # ffmpeg checks the certificate, as a player should: OpenSSL is told to trust the test's own
    # (SSL_CERT_FILE reaches the segments' connections too, where -ca_file does not).
    os.environ["SSL_CERT_FILE"] = str(cert)
    try:
        assert count_frames(ffmpeg_bin, f"{url}/playlist.php?date={DAY}") == 6 * FPS
    finally:
        del os.environ["SSL_CERT_FILE"]
    return response.headers["set-cookie"]


def test_signing_in_and_playing_through_nginx_with_tls(tmp_path, recorded, certificate, ffmpeg_bin):
    srv = Server(recorded, tmp_path, {"CCTV_TRUSTED_PROXIES": "127.0.0.1"}).start()
    port = free_port()
    conf = nginx_config(tmp_path, port, srv.port, *certificate)
    nginx = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(tmp_path), "-g", "daemon off;"],
                             stderr=subprocess.PIPE)
    try:
        base = f"https://127.0.0.1:{port}"
        wait_until(lambda: _answers(base), timeout=15)
        cookie = sign_in_and_play(base, ffmpeg_bin, certificate[0])
        assert "Secure" in cookie  # cctv-server believes the https that its trusted proxy passes on
        plain = httpx.get(f"{base}/", verify=False)
        assert plain.status_code == 401  # the proxy adds no credential of its own
        upload_through(base, recorded, tmp_path)
    finally:
        nginx.terminate()
        nginx.wait(10)
        srv.stop()


def upload_through(base: str, root: Path, tmp_path: Path) -> None:
    """A camera's segment of several hundred KB (far beyond the 16 KB the rest of the site may
    send) goes through the proxy as it comes: 201, then 200 for the same bytes again."""
    made = subprocess.run([sys.executable, "-m", "cctv_server.cli", "token", "add", "camera",
                           "--root", str(root)], capture_output=True, text=True, timeout=60,
                          env=os.environ | {"CCTV_TIMEZONE": "UTC"})
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().splitlines()[-1]
    now = dt.datetime.now(UTC).replace(microsecond=0)
    segment = demo.record(ffmpeg.locate(), tmp_path / "camera", now, 2, segment=2.0,
                          size="640x360", fps=FPS)[0]
    data = segment.read_bytes()
    assert len(data) > 64 * 1024
    url = f"{base}/upload/{now.date().isoformat()}/{segment.name}"
    headers = {"Authorization": f"Bearer {token}"}
    first = httpx.put(url, content=data, headers=headers, verify=False, timeout=60)
    assert first.status_code == 201, first.text
    again = httpx.put(url, content=data, headers=headers, verify=False, timeout=60)
    assert again.status_code == 200 and again.json()["sha256"] == first.json()["sha256"]
    assert (root / now.date().isoformat() / segment.name).read_bytes() == data


def test_serving_https_itself_with_tls_cert_and_tls_key(tmp_path, recorded, certificate, ffmpeg_bin):
    cert, key = certificate
    srv = Server(recorded, tmp_path, {"CCTV_TLS_CERT": str(cert), "CCTV_TLS_KEY": str(key)})
    srv.url = srv.url.replace("http://", "https://")
    with open(srv.log, "ab") as log:
        srv.proc = subprocess.Popen(
            [sys.executable, "-m", "cctv_server.cli", "serve", "--root", str(recorded),
             "--port", str(srv.port)], env=srv.env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: _answers(srv.url), timeout=30)
        assert "Secure" in sign_in_and_play(srv.url, ffmpeg_bin, cert)
        assert "on https://" in srv.log.read_text()
    finally:
        srv.stop()


def test_a_missing_tls_key_is_refused_at_start_up_naming_it(tmp_path, recorded, certificate):
    cert, _ = certificate
    done = subprocess.run([sys.executable, "-m", "cctv_server.cli", "serve", "--root", str(recorded)],
                          capture_output=True, text=True, timeout=30,
                          env=os.environ | {"CCTV_TIMEZONE": "UTC", "CCTV_TLS_CERT": str(cert)})
    assert done.returncode != 0 and "tls_key" in done.stderr


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", verify=False, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
