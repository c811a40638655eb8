"""A worker's HTTP to its server: segments fetched by byte ranges (resumed where a download stopped) and checked, chunks sent back with their checksum."""

from __future__ import annotations

import base64
import hashlib
import logging
import time
from pathlib import Path

import httpx

from .. import durable
from .task import Segment

log = logging.getLogger(__name__)

ATTEMPTS = 6  # a request tried this often, waiting 1, 2, 4... s between: a server restarting
TIMEOUT = httpx.Timeout(30.0, connect=5.0)


class Revoked(Exception):
    """The server no longer takes this worker's token (401/403): the worker stops."""


class Gone(Exception):
    """The day is no longer being compacted (404/409): the task is dropped, not retried."""


class TransferError(Exception):
    """A segment or chunk could not be moved after every attempt; the broker retries the task."""


class Server:
    """The server a worker works for, reached with its token."""

    def __init__(self, url: str, token: str):
        self.url = url.rstrip("/")
        self.client = httpx.Client(timeout=TIMEOUT, headers={"Authorization": f"Bearer {token}"})

    def whoami(self) -> dict:
        """The worker's name as the server knows its token; Revoked when it does not."""
        return _answer(self._try(lambda: self.client.get(f"{self.url}/worker/whoami"))).json()

    def fetch(self, camera: str, day: str, seg: Segment, into: Path) -> None:
        """The segment's bytes into `into`, resuming a partial file by a byte range; its size and
        SHA-256 checked (a mismatch is fetched again once, whole)."""
        url = f"{self.url}/cam/{camera}/worker/{day}/{seg.name}"
        for _ in range(2):
            self._download(url, into, seg.size)
            if into.stat().st_size == seg.size and durable.sha256(into) == seg.sha256:
                return
            log.warning("%s/%s: the bytes fetched are not the segment's (size or SHA-256)", day,
                        seg.name)
            into.unlink()
        raise TransferError(f"{day}/{seg.name}: fetched twice, never the bytes the task names")

    def _download(self, url: str, into: Path, size: int) -> None:
        for attempt in range(ATTEMPTS):
            have = into.stat().st_size if into.exists() else 0
            if have >= size:
                return
            try:
                with self.client.stream("GET", url, headers={"Range": f"bytes={have}-"}) as r:
                    _answer(r)
                    mode = "ab" if r.status_code == 206 else "wb"  # 200: the whole file again
                    with open(into, mode) as f:
                        for block in r.iter_bytes(1 << 20):
                            f.write(block)
                return
            except (httpx.TransportError, TransferError) as err:
                log.warning("fetching %s: %s; resuming (attempt %d)", url, err, attempt + 1)
                time.sleep(2 ** attempt)
        raise TransferError(f"cannot fetch {url} after {ATTEMPTS} attempts")

    def send(self, camera: str, day: str, name: str, data: bytes, digest: str | None = None) -> None:
        """PUT one result of a task with its SHA-256 (Repr-Digest), which the server checks."""
        digest = digest or hashlib.sha256(data).hexdigest()
        header = "sha-256=:" + base64.b64encode(bytes.fromhex(digest)).decode() + ":"
        url = f"{self.url}/cam/{camera}/worker/{day}/tasks/{name}"
        _answer(self._try(lambda: self.client.put(url, content=data,
                                                  headers={"Repr-Digest": header})))

    def _try(self, request) -> httpx.Response:
        for attempt in range(ATTEMPTS):
            try:
                response = request()
                if response.status_code not in (502, 503, 504):
                    return response
                why = f"HTTP {response.status_code}"
            except httpx.TransportError as err:
                why = str(err) or type(err).__name__
            log.warning("%s; trying again (attempt %d)", why, attempt + 1)
            time.sleep(2 ** attempt)
        raise TransferError(f"server {self.url} unreachable after {ATTEMPTS} attempts")


def _answer(response: httpx.Response) -> httpx.Response:
    """The response when it is a success; else the exception its status stands for."""
    code = response.status_code
    if code < 300:
        return response
    response.read()
    why = response.text.strip()[:200]
    if code in (401, 403):
        raise Revoked(f"the server refuses this worker's token ({code}: {why})")
    if code in (404, 409):
        raise Gone(why)
    raise TransferError(f"HTTP {code}: {why}")
