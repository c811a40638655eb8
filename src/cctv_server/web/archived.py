"""A recording that lives in the store, answered after access control: a 302 to a URL signed now, or proxied.

`archive_serve = "presign"` (the default) redirects to a presigned URL good for a few minutes,
signed at this request (never written into a playlist, where it would expire while playing);
players follow it and read ranges from the store itself (its CORS must allow our origin and the
Range header: docs/storage.md). `"proxy"` streams the asked range through the server, for
viewers that cannot reach the store.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

from starlette.responses import RedirectResponse, Response, StreamingResponse

from ..config import Settings
from ..storage import files
from ..storage.base import ObjectMissing

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
SEEN_FOR = 60.0  # seconds an object found in the store is not asked for again
SEEN_MAX = 1024
_seen: dict[tuple[str, str], float] = {}
_lock = threading.Lock()


def respond(settings: Settings, path: Path, where: files.Remote, range_header: str | None,
            media_type: str | None) -> Response:
    store, key = where.store, where.key
    if settings.archive_serve == "presign":
        _there(store, key, time.monotonic())  # a missing object: our 404 with the reason
        return RedirectResponse(store.url_for(key, files.SIGNED_FOR), status_code=302,
                                headers={"Cache-Control": "no-store"})
    size = where.entry.size if key == where.entry.key else _size(store, key)
    span = byte_range(range_header, size)
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "no-cache"}
    if span is None:
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    start, length = span
    headers["Content-Length"] = str(length)
    status = 200
    if range_header and (start, length) != (0, size) or _RANGE.fullmatch(range_header or ""):
        status = 206
        headers["Content-Range"] = f"bytes {start}-{start + length - 1}/{size}"
    body = store.stream(key, start, length) if length else iter([b""])
    return StreamingResponse(body, status_code=status, headers=headers, media_type=media_type)


def _there(store, key: str, now: float) -> None:
    """ObjectMissing unless the object was seen within SEEN_FOR seconds (one HEAD a minute per
    object, not one per range request a player makes)."""
    with _lock:
        if now - _seen.get((store.url, key), -SEEN_FOR) < SEEN_FOR:
            return
    if store.stat(key) is None:
        raise ObjectMissing(f"{key} is missing from the store {store.url}")
    with _lock:
        _seen[(store.url, key)] = now
        while len(_seen) > SEEN_MAX:
            _seen.pop(next(iter(_seen)))


def _size(store, key: str) -> int:
    found = store.stat(key)
    return 0 if found is None else found.size


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """Pure: (start, length) that a Range header asks of `size` bytes; the whole file for none
    or one we do not serve (several ranges); None when it cannot be satisfied (416)."""
    match = _RANGE.fullmatch((header or "").strip())
    if match is None or match.groups() == ("", ""):
        return 0, size
    first, last = match.groups()
    if first == "":
        length = min(int(last), size)
        return (size - length, length) if length else None
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return None
    return start, end - start + 1
