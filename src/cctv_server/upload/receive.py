"""Receiving an uploaded segment: streamed to a dotfile, checked, fsynced, linked into place, never replacing.

What is on disk at each step (docs/upload.md): a dotfile the catalog never lists while the body
arrives; then, after the checks and an fsync, a hard link under the final name (which fails if
the name is taken: nothing is ever replaced) and the folder fsynced; then the dotfile goes.
A crash at any point leaves either no segment or a whole one, and at worst a dotfile that the
next start removes.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import os
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from .. import durable, layout
from ..errors import Conflict, CorruptSegment, InvalidInput, NoSpace, TooLarge, Unprocessable
from ..media import mpegts

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\.ts")
NAME_MAX = 128
TEMP = re.compile(r"\.[A-Za-z0-9][A-Za-z0-9._-]*\.ts\.upload-[0-9a-f]{8}")


@dataclass(frozen=True)
class Stored:
    name: str
    size: int
    sha256: str
    created: bool  # False: the same bytes were there already (a retry after a lost answer)


def check_name(name: str) -> None:
    """Pure: InvalidInput unless the name is a plain segment name of at most 128 characters."""
    if len(name) > NAME_MAX or not NAME.fullmatch(name):
        raise InvalidInput(f"file name {name[:140]!r}: letters, digits, . _ - and .ts,"
                           f" at most {NAME_MAX} characters")


def check_day(day: str, today: dt.date, backlog_days: int) -> None:
    """Pure: Unprocessable unless the day is a real date from `backlog_days` ago to tomorrow."""
    date = layout.day_date(day)
    if date is None:
        raise Unprocessable(f"date {day!r} is not a real calendar date")
    if date < today - dt.timedelta(days=backlog_days):
        raise Unprocessable(f"{day} is more than {backlog_days} days ago (upload_backlog)")
    if date > today + dt.timedelta(days=1):
        raise Unprocessable(f"{day} is more than a day ahead of the server's clock ({today})")


def check_length(length: str | None, limit: int) -> None:
    """TooLarge before a byte is read when the client declares more than the limit."""
    if length is not None and length.isdigit() and int(length) > limit:
        raise TooLarge(f"{int(length)} bytes is more than upload_max ({limit})")


async def receive(day_dir: Path, name: str, body: AsyncIterator[bytes], limit: int) -> Stored:
    """Store the body as `day_dir/name`, or raise; nothing is left behind when it raises."""
    day_dir.mkdir(exist_ok=True)
    temp = day_dir / f".{name}.upload-{secrets.token_hex(4)}"
    try:
        size, digest = await _write(temp, body, limit)
        _check_segment(temp)
        durable.fsync_file(temp)
        created = _link(temp, day_dir / name, digest)
        return Stored(name, size, digest, created)
    except OSError as err:
        if err.errno == errno.ENOSPC:
            raise NoSpace("the disk is full; nothing was kept") from None
        raise
    finally:
        temp.unlink(missing_ok=True)


async def _write(temp: Path, body: AsyncIterator[bytes], limit: int) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with open(temp, "xb") as out:
        async for chunk in body:
            size += len(chunk)
            if size > limit:
                raise TooLarge(f"more than upload_max ({limit} bytes)")
            digest.update(chunk)
            out.write(chunk)
    return size, digest.hexdigest()


def _check_segment(path: Path) -> None:
    """The catalog's own probe: MPEG-TS packets with a readable video timestamp."""
    try:
        mpegts.probe(path)
    except (CorruptSegment, IndexError, ValueError) as err:
        raise Unprocessable(f"not an MPEG-TS video segment: {err}") from None


def _link(temp: Path, final: Path, digest: str) -> bool:
    """Give the checked file its name unless the name is taken; True when it was stored now."""
    try:
        os.link(temp, final)  # unlike rename, fails rather than replaces
    except FileExistsError:
        if _sha256(final) == digest:
            return False
        raise Conflict(f"{final.name} exists with other contents; it was kept as it was") from None
    durable.fsync_dir(final.parent)
    return True


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def sweep(root: Path) -> list[Path]:
    """Remove the temp files of uploads a crash interrupted; run at start-up, before serving."""
    removed = []
    for day in layout.list_days(root):
        for entry in os.scandir(root / day):
            if TEMP.fullmatch(entry.name):
                Path(entry.path).unlink(missing_ok=True)
                removed.append(Path(entry.path))
    return removed
