"""A folder as a store (`file:///PATH`): another disk or a mounted share, same keys as the bucket."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

from .. import durable
from .base import Object, ObjectMissing, StoreError


class LocalStore:
    """Objects as files under a folder; the checksum is the SHA-256 of the bytes."""

    def __init__(self, url: str):
        self.url = url.rstrip("/")
        self.base = Path(unquote(urlparse(url).path))

    def key(self, *parts: str) -> str:
        return "/".join(parts)

    def _path(self, key: str) -> Path:
        if ".." in key.split("/"):
            raise StoreError(f"key {key!r} is not allowed")
        return self.base / key

    def put(self, key: str, path: Path) -> Object:
        self.check()
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.partial")
        shutil.copyfile(path, temp)
        durable.fsync_file(temp)
        os.replace(temp, target)
        durable.fsync_dir(target.parent)
        return Object(target.stat().st_size, _sha256(path))

    def stat(self, key: str) -> Object | None:
        self.check()
        target = self._path(key)
        if not target.is_file():
            return None
        return Object(target.stat().st_size, _sha256(target))

    def read(self, key: str, offset: int, length: int) -> bytes:
        try:
            with open(self._path(key), "rb") as f:
                return os.pread(f.fileno(), length, offset)
        except FileNotFoundError:
            raise ObjectMissing(f"{key} is missing from the store {self.url}") from None

    def stream(self, key: str, offset: int, length: int, block: int = 1 << 20):
        if not self._path(key).is_file():
            raise ObjectMissing(f"{key} is missing from the store {self.url}")
        return self._blocks(key, offset, length, block)

    def _blocks(self, key: str, offset: int, length: int, block: int):
        done = 0
        while done < length:
            data = self.read(key, offset + done, min(block, length - done))
            if not data:
                return
            done += len(data)
            yield data

    def url_for(self, key: str, seconds: int) -> str:
        return str(self._path(key))

    def delete(self, key: str) -> None:
        durable.remove(self._path(key))

    def check(self) -> None:
        if not self.base.is_dir():
            raise StoreError(f"store {self.url}: folder {self.base} is not there (not mounted?)")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(durable.CHUNK):
            digest.update(block)
    return digest.hexdigest()
