"""Uploads to the real server: who may, every refusal, the answer, playback frame-exact, push, concurrency.

One server of two cameras for the module (porch, garden), with accounts (alice an admin, bob a
viewer) and a token for each camera, `stable_seconds` an hour (so only an upload's own path can
list a segment at once), `header_timeout` 1 s (the body's pause limit) and `upload_max` 1 MB.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import random
import re
import shutil
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from cctv_server import demo
from cctv_server.media import ffmpeg

from . import hlscheck
from .conftest import FPS, UTC, Server, frame_crcs, wait_until
from .test_access_web import PASSWORD, add_user, cli

TODAY = dt.datetime.now(UTC).date()
YESTERDAY = (TODAY - dt.timedelta(days=1)).isoformat()
TWO_AGO = (TODAY - dt.timedelta(days=2)).isoformat()
COMPACTED = (TODAY - dt.timedelta(days=3)).isoformat()
LIMIT = 1 << 20  # upload_max of the module's server
ENV = {"CCTV_STABLE_SECONDS": "1h", "CCTV_HEADER_TIMEOUT": "1s", "CCTV_UPLOAD_MAX": "1MB"}


def at(day: str, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour, minute), tzinfo=UTC)


def recorded(folder: Path, start: dt.datetime, seconds: float) -> list[Path]:
    """A camera's own segments (2 s, 160x90, 10 fps), somewhere the server does not look."""
    return demo.record(ffmpeg.locate(), folder, start, seconds, segment=2.0, size="160x90", fps=FPS)


class Site:
    def __init__(self, base: Path, roots: dict[str, Path], srv: Server, tokens: dict[str, str]):
        self.base, self.roots, self.srv, self.tokens = base, roots, srv, tokens

    def put(self, camera: str, day: str, name: str, data, auth=None, token: str | None = None,
            **kw) -> httpx.Response:
        headers = kw.pop("headers", {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.put(f"{self.srv.url}/cam/{camera}/upload/{day}/{name}", content=data,
                         headers=headers, auth=auth, timeout=30, **kw)

    def listed(self, camera: str, day: str) -> list[str]:
        response = self.srv.get(f"/cam/{camera}/playlist.php?date={day}", auth=basic("alice"))
        if response.status_code == 404:
            return []
        return [u.split("/")[-1] for u in hlscheck.check(response.text).uris]

    def left_in(self, camera: str, day: str) -> list[str]:
        folder = self.roots[camera] / day
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def basic(name: str) -> tuple[str, str]:
    return name, PASSWORD[name]


def basic_header(name: str) -> str:
    return "Basic " + base64.b64encode(f"{name}:{PASSWORD[name]}".encode()).decode()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    base = tmp_path_factory.mktemp("uploads")
    roots = {"porch": base / "porch", "garden": base / "garden"}
    sent = recorded(roots["porch"], at(COMPACTED, 10), 4)  # a day compacted before any upload
    (base / "sent-before").mkdir()
    for path in sent:  # the camera's copies, which it may send again
        shutil.copy2(path, base / "sent-before")
    roots["garden"].mkdir()
    done = subprocess.run([sys.executable, "-m", "cctv_server.cli", "compact", "--root",
                           str(roots["porch"]), "--settle", "0"], capture_output=True, text=True,
                          timeout=120, env=os.environ | {"CCTV_TIMEZONE": "UTC", "CCTV_CODEC": "copy"})
    assert done.returncode == 0 and (roots["porch"] / COMPACTED / "video.mp4").is_file(), done.stderr
    add_user(roots, "alice", "admin")
    add_user(roots, "bob", "viewer")
    tokens = {name: cli("token", "add", name, cameras=roots).stdout.strip().splitlines()[-1]
              for name in roots}
    srv = Server(roots, base, ENV).start()
    yield Site(base, roots, srv, tokens)
    srv.stop()


def test_a_day_uploaded_with_plain_requests_is_listed_at_once_and_plays_frame_exact(site):
    made = recorded(site.base / "porch-camera", at(YESTERDAY, 12), 6)
    for path in made:
        data = path.read_bytes()
        stored = site.put("porch", YESTERDAY, path.name, data, token=site.tokens["porch"])
        assert stored.status_code == 201, stored.text
        digest = hashlib.sha256(data).digest()
        assert stored.json() == {"day": YESTERDAY, "name": path.name, "size": len(data),
                                 "sha256": digest.hex(), "created": True}
        assert stored.headers["repr-digest"] == f"sha-256=:{base64.b64encode(digest).decode()}:"
        assert stored.headers["location"] == f"/cam/porch/{YESTERDAY}/{path.name}"
    # stable_seconds is an hour: nothing but the upload's own path lists them this soon
    wait_until(lambda: site.listed("porch", YESTERDAY) == [p.name for p in made], timeout=5)
    assert site.left_in("porch", YESTERDAY) == [p.name for p in made]
    url = f"{site.srv.url}/cam/porch/playlist.php?date={YESTERDAY}"
    played = frame_crcs(ffmpeg.locate(), url, "-headers", f"Authorization: {basic_header('bob')}\r\n")
    assert played == [crc for p in made for crc in frame_crcs(ffmpeg.locate(), p)]
    assert len(played) == 6 * FPS


def test_the_same_bytes_again_are_200_and_other_bytes_409_and_the_file_stays(site):
    first, other = recorded(site.base / "repeat", at(YESTERDAY, 13), 4)
    token = site.tokens["porch"]
    assert site.put("porch", YESTERDAY, "13-00-00.ts", first.read_bytes(), token=token).status_code == 201
    stored = site.roots["porch"] / YESTERDAY / "13-00-00.ts"
    before = stored.stat()
    again = site.put("porch", YESTERDAY, "13-00-00.ts", first.read_bytes(), token=token)
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["sha256"] == hashlib.sha256(first.read_bytes()).hexdigest()
    clash = site.put("porch", YESTERDAY, "13-00-00.ts", other.read_bytes(), token=token)
    assert clash.status_code == 409 and "kept as it was" in clash.text
    assert stored.read_bytes() == first.read_bytes()
    assert (stored.stat().st_mtime_ns, stored.stat().st_ino) == (before.st_mtime_ns, before.st_ino)
    assert not [n for n in site.left_in("porch", YESTERDAY) if n.startswith(".")]


def test_only_the_cameras_own_token_or_an_admin_may_upload(site):
    (segment,) = recorded(site.base / "who", at(YESTERDAY, 14), 2)
    data = segment.read_bytes()
    anonymous = site.put("porch", YESTERDAY, "14-00-00.ts", data)
    assert anonymous.status_code == 401 and "www-authenticate" in anonymous.headers
    assert site.put("porch", YESTERDAY, "14-00-00.ts", data,
                    token="cctv_00000000_forged").status_code == 401
    other = site.put("porch", YESTERDAY, "14-00-00.ts", data, token=site.tokens["garden"])
    assert other.status_code == 403 and "garden only" in other.text
    viewer = site.put("porch", YESTERDAY, "14-00-00.ts", data, auth=basic("bob"))
    assert viewer.status_code == 403 and "viewer" in viewer.text
    assert "14-00-00.ts" not in site.left_in("porch", YESTERDAY)
    assert site.put("porch", YESTERDAY, "14-00-00.ts", data, auth=basic("alice")).status_code == 201


def test_an_admin_signed_in_through_the_form_must_send_the_csrf_token(site):
    (segment,) = recorded(site.base / "csrf", at(YESTERDAY, 15), 2)
    client = httpx.Client(base_url=site.srv.url, timeout=30)
    client.post("/login", data={"name": "alice", "password": PASSWORD["alice"]})
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/cam/porch/").text).group(1)
    path = f"/cam/porch/upload/{YESTERDAY}/15-00-00.ts"
    refused = client.put(path, content=segment.read_bytes())
    assert refused.status_code == 403 and "X-CSRF-Token" in refused.text
    assert client.put(path, content=segment.read_bytes(),
                      headers={"X-CSRF-Token": csrf}).status_code == 201


@pytest.mark.parametrize("name", ["..ts", ".hidden.ts", "-a.ts", "a%20b.ts", "a.mp4",
                                  "x" * 126 + ".ts", "video.mp4", "%C3%A7.ts"])
def test_a_bad_name_is_400_and_nothing_is_kept(site, name):
    (segment,) = recorded(site.base / "names", at(YESTERDAY, 18), 2)
    response = site.put("porch", YESTERDAY, name, segment.read_bytes(), token=site.tokens["porch"])
    assert response.status_code == 400, response.text
    assert response.text.count("\n") == 1 and "at most 128" in response.text
    assert site.left_in("porch", YESTERDAY) == sorted(
        n for n in site.left_in("porch", YESTERDAY) if not n.startswith(".") and n[0].isdigit())


@pytest.mark.parametrize("day", ["2026-02-30", "2026-13-01", "yesterday",
                                 (TODAY - dt.timedelta(days=8)).isoformat(),
                                 (TODAY + dt.timedelta(days=2)).isoformat()])
def test_a_date_that_is_not_real_or_out_of_range_is_422(site, day):
    (segment,) = recorded(site.base / f"date-{day}", at(YESTERDAY, 16), 2)
    response = site.put("porch", day, "16-00-00.ts", segment.read_bytes(), token=site.tokens["porch"])
    assert response.status_code == 422, response.text
    assert not (site.roots["porch"] / day).exists()


def test_a_declared_size_over_the_cap_is_413_before_a_byte_is_read(site):
    head = (f"PUT /cam/porch/upload/{YESTERDAY}/big.ts HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {site.tokens['porch']}\r\nContent-Length: {LIMIT + 1}\r\n\r\n")
    with socket.create_connection(("127.0.0.1", site.srv.port), timeout=10) as conn:
        conn.sendall(head.encode())  # and no body at all: the answer must not wait for one
        answer = _read_all(conn)
    assert answer.startswith(b"HTTP/1.1 413 ") and b"connection: close" in answer.lower()
    assert b"upload_max" in answer


def test_a_body_over_the_cap_or_of_random_bytes_is_refused_and_not_kept(site):
    token = site.tokens["porch"]

    def chunked():  # no Content-Length: the cap is found while reading
        for _ in range(LIMIT // 65536 + 1):
            yield os.urandom(65536)

    assert site.put("porch", YESTERDAY, "huge.ts", chunked(), token=token).status_code == 413
    noise = site.put("porch", YESTERDAY, "noise.ts", random.Random(1).randbytes(300_000), token=token)
    assert noise.status_code == 422 and "not an MPEG-TS video segment" in noise.text
    packets = b"".join(b"\x47" + random.Random(i).randbytes(187) for i in range(1000))
    synced = site.put("porch", YESTERDAY, "synced.ts", packets, token=token)  # sync bytes, no video
    assert synced.status_code == 422
    names = site.left_in("porch", YESTERDAY)
    assert not {"huge.ts", "noise.ts", "synced.ts"} & set(names)
    assert not [n for n in names if n.startswith(".")]
    assert not {"huge.ts", "noise.ts", "synced.ts"} & set(site.listed("porch", YESTERDAY))


def _read_all(conn: socket.socket) -> bytes:
    data = b""
    while chunk := conn.recv(65536):
        data += chunk
    return data


def test_a_body_that_stalls_is_408_and_a_client_that_leaves_keeps_nothing(site):
    (segment,) = recorded(site.base / "slow", at(YESTERDAY, 17), 2)
    data = segment.read_bytes()

    def start(name: str) -> socket.socket:
        conn = socket.create_connection(("127.0.0.1", site.srv.port), timeout=10)
        conn.sendall((f"PUT /cam/porch/upload/{YESTERDAY}/{name} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      f"Authorization: Bearer {site.tokens['porch']}\r\n"
                      f"Content-Length: {len(data)}\r\n\r\n").encode() + data[:len(data) // 2])
        return conn

    with start("stalled.ts") as stalled:  # half the body, then nothing (header_timeout: 1 s)
        answer = _read_all(stalled)
    assert answer.startswith(b"HTTP/1.1 408 ") and b"too slowly" in answer
    start("gone.ts").close()  # half the body, then the client goes away
    temp = re.compile(r"\.(stalled|gone)\.ts\.upload-")
    wait_until(lambda: not any(temp.match(n) for n in site.left_in("porch", YESTERDAY)), timeout=5)
    assert not {"stalled.ts", "gone.ts"} & set(site.left_in("porch", YESTERDAY))
    metrics = site.srv.get("/metrics", auth=basic("alice")).text
    assert 'cctv_uploads_total{camera="porch",status="408"} 1.0' in metrics


def test_twenty_concurrent_uploads_to_one_day_are_all_listed_in_order(site):
    made = recorded(site.base / "burst", at(TWO_AGO, 9), 40)
    assert len(made) == 20
    shuffled = random.Random(2).sample(made, len(made))
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda p: site.put("porch", TWO_AGO, p.name, p.read_bytes(),
                                                   token=site.tokens["porch"]), shuffled))
    assert [a.status_code for a in answers] == [201] * 20
    wait_until(lambda: len(site.listed("porch", TWO_AGO)) == 20, timeout=5)
    assert site.listed("porch", TWO_AGO) == [p.name for p in made]
    for path in made:
        assert (site.roots["porch"] / TWO_AGO / path.name).read_bytes() == path.read_bytes()
    metrics = site.srv.get("/metrics", auth=basic("alice")).text
    count = re.search(r'cctv_uploads_total\{camera="porch",status="201"\} (\d+)', metrics)
    assert count and int(count.group(1)) >= 20


def test_a_compacted_day_takes_a_late_segment_and_plays_on_into_it(site):
    (late,) = recorded(site.base / "late", at(COMPACTED, 10, 30), 2)
    response = site.put("porch", COMPACTED, late.name, late.read_bytes(), token=site.tokens["porch"])
    assert response.status_code == 201
    url = f"{site.srv.url}/cam/porch/playlist.php?date={COMPACTED}"
    wait_until(lambda: late.name in site.srv.get(url[len(site.srv.url):], auth=basic("alice")).text,
               timeout=5)
    played = frame_crcs(ffmpeg.locate(), url, "-headers", f"Authorization: {basic_header('alice')}\r\n",
                        output_args=("-fps_mode", "passthrough"))
    assert len(played) == 6 * FPS  # the video's 4 s, then the late segment's 2
    assert played[-2 * FPS:] == frame_crcs(ffmpeg.locate(), late)


def test_a_segment_sent_again_after_its_day_was_compacted_is_not_stored_twice(site):
    token, day = site.tokens["porch"], COMPACTED
    sent = sorted((site.base / "sent-before").iterdir())
    before = site.left_in("porch", day)
    playlist = site.srv.get(f"/cam/porch/playlist.php?date={day}", auth=basic("alice")).text
    for path in sent:
        again = site.put("porch", day, path.name, path.read_bytes(), token=token)
        assert again.status_code == 200, again.text
        assert again.json()["created"] is False and again.json()["compacted"] == "video.mp4"
        assert again.json()["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert "location" not in again.headers
    other = site.put("porch", day, sent[0].name, sent[1].read_bytes(), token=token)
    assert other.status_code == 409 and "compacted into video.mp4 with other contents" in other.text
    assert site.left_in("porch", day) == before
    assert site.srv.get(f"/cam/porch/playlist.php?date={day}", auth=basic("alice")).text == playlist


def test_push_uploads_a_cameras_folder_oldest_first_and_the_day_plays_frame_exact(site):
    local = site.base / "garden-camera"
    made = recorded(local, at(YESTERDAY, 12), 6)
    expected = [crc for p in made for crc in frame_crcs(ffmpeg.locate(), p)]
    names = [p.name for p in made]
    token_file = site.base / "garden.token"
    token_file.write_text(site.tokens["garden"] + "\n")
    pusher = subprocess.Popen(
        [sys.executable, "-m", "cctv_server.cli", "push", "--dir", str(local),
         "--url", f"{site.srv.url}/cam/garden", "--token-file", str(token_file), "--delete-after"],
        env=os.environ | {"CCTV_TIMEZONE": "UTC"}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: not list(local.glob("*/*.ts")), timeout=20)
    finally:
        pusher.terminate()
        log = pusher.communicate(timeout=10)[0].decode()
    assert site.listed("garden", YESTERDAY) == names
    uploaded = [line.rsplit(" ", 1)[-1] for line in log.splitlines() if "uploaded" in line]
    assert uploaded == names, log  # oldest first
    url = f"{site.srv.url}/cam/garden/playlist.php?date={YESTERDAY}"
    assert frame_crcs(ffmpeg.locate(), url, "-headers",
                      f"Authorization: {basic_header('alice')}\r\n") == expected
    shutil.rmtree(local)
