"""The one small interface every place a day's files may live offers, and its errors.

A backend stores objects by key (`PREFIX/CAMERA/YYYY-MM-DD/NAME`, so that the bucket reads like
the root): put a file with a checksum the backend verifies, stat it back (size and checksum),
read a byte range, give a URL a player may read it from, delete it. `open_store` picks the
backend from the archive's URL (`s3://BUCKET/PREFIX`, `file:///PATH`) and keeps one per URL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..errors import CctvError, NotFound


class StoreError(CctvError):
    """The store cannot do what was asked now (unreachable, refused, throttling, no bucket):
    the reason names the store and what to do; nothing local was changed."""


class ObjectMissing(NotFound):
    """An object the catalog says is in the store is not there (deleted behind our back)."""


@dataclass(frozen=True)
class Object:
    """What the store holds under a key: its size and its checksum (the store's own)."""

    size: int
    checksum: str


class Store(Protocol):
    url: str  # s3://BUCKET/PREFIX or file:///PATH: what a day's home records

    def key(self, *parts: str) -> str: ...
    def put(self, key: str, path: Path) -> Object: ...
    def stat(self, key: str) -> Object | None: ...
    def read(self, key: str, offset: int, length: int) -> bytes: ...
    def stream(self, key: str, offset: int, length: int, block: int = ...) -> Iterator[bytes]: ...
    def url_for(self, key: str, seconds: int) -> str: ...
    def delete(self, key: str) -> None: ...
    def check(self) -> None: ...


_stores: dict[tuple[str, str | None], Store] = {}
_endpoints: dict[str, str | None] = {}  # store URL -> endpoint, from the settings
_lock = threading.Lock()


def configure(url: str | None, endpoint: str | None) -> None:
    """The endpoint the settings give for a store: it outranks the one a day's home recorded
    at its move (the store may have moved to another address since)."""
    if url:
        with _lock:
            _endpoints[url] = endpoint


def open_store(url: str, endpoint: str | None = None) -> Store:
    """The backend for an archive URL, one per (url, endpoint) in this process; the endpoint
    configured for the URL, when there is one, wins."""
    with _lock:
        endpoint = _endpoints.get(url, endpoint)
        found = _stores.get((url, endpoint))
        if found is None:
            found = _make(url, endpoint)
            _stores[(url, endpoint)] = found
        return found


def _make(url: str, endpoint: str | None) -> Store:
    if url.startswith("s3://"):
        from .s3 import S3Store
        return S3Store(url, endpoint)
    if url.startswith("file://"):
        from .local import LocalStore
        return LocalStore(url)
    raise StoreError(f"archive {url!r}: give s3://BUCKET/PREFIX or file:///PATH")


def forget_stores() -> None:
    """Drop the cached clients (credentials changed, a test's store went away)."""
    with _lock:
        _stores.clear()
