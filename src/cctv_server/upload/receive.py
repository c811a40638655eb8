"""Receiving an uploaded segment: streamed to a dotfile, checked, fsynced, linked into place, never replacing.

What is on disk at each step (docs/upload.md): a dotfile the catalog never lists while the body
arrives; then, after the checks and an fsync, a hard link under the final name (which fails if
the name is taken: nothing is ever replaced) and the folder fsynced; then the dotfile goes.
A crash at any point leaves either no segment or a whole one, and at worst a dotfile that the
next start removes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import errno
import hashlib
import os
import re
import secrets
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar

from .. import durable, layout
from ..errors import Conflict, CorruptSegment, InvalidInput, NoSpace, TooLarge, Unprocessable
from ..footage import videoindex
from ..media import mpegts, tscensus
from . import limits

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\.ts")
NAME_MAX = 128
TEMP = re.compile(r"\.[A-Za-z0-9][A-Za-z0-9._-]*\.ts\.upload-[0-9a-f]{8}")
BLOCK = 256 * 1024  # bytes gathered before a write
POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="upload")  # fsyncs wait here, not in the loop
T = TypeVar("T")


@dataclass(frozen=True)
class Stored:
    name: str
    size: int
    sha256: str
    created: bool  # False: the same bytes were there already (a retry after a lost answer)
    mtime_ns: int  # of the stored file: the catalog lists it at once while it is still this one
    compacted: str = ""  # the video these very bytes went into, when they are no file any more


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


def declared(length: str | None) -> int | None:
    """Pure: the bytes a `Content-Length` declares; None when there is none (a chunked body)."""
    return int(length) if length is not None and length.isdigit() else None


Written = Callable[[int], None]  # told the size once the body is on disk; raises to refuse it


async def receive(day_dir: Path, name: str, body: AsyncIterator[bytes], limit: int,
                  max_mbps: float | None = None, written: Written | None = None) -> Stored:
    """Store the body as `day_dir/name`, or raise; nothing is left behind when it raises.
    With `max_mbps`, a segment mostly of filler or of an absurd bitrate is refused
    (limits.bitrate); `written` may refuse it last, before it gets its name (the gate's room
    and quota). The disk work runs in a small pool of its own: an fsync must not stall the
    event loop, nor take the threads that catalogue and render playlists."""
    temp = day_dir / f".{name}.upload-{secrets.token_hex(4)}"
    try:
        out = await _io(_open_temp, temp)
        try:
            size, digest = await _write(out, body, limit)
        finally:
            await _io(out.close)
        return await _io(_finish, temp, day_dir / name, size, digest, max_mbps, written)
    except OSError as err:
        if err.errno in (errno.ENOSPC, errno.EDQUOT):
            raise NoSpace("the disk is full; nothing was kept") from None
        raise
    finally:
        await _io(temp.unlink, True)  # missing_ok: gone already once the upload is stored


async def _io(fn: Callable[..., T], *args) -> T:
    return await asyncio.get_running_loop().run_in_executor(POOL, fn, *args)


def _open_temp(temp: Path) -> BinaryIO:
    """The dotfile, in a day folder made durable if it is new (its entry in the root too)."""
    if not temp.parent.is_dir():
        temp.parent.mkdir(exist_ok=True)
        durable.fsync_dir(temp.parent.parent)
    return open(temp, "xb")


async def _write(out: BinaryIO, body: AsyncIterator[bytes], limit: int) -> tuple[int, str]:
    """Hashed as it comes, written a block at a time (one thread hop per block, not per read)."""
    digest, size, block = hashlib.sha256(), 0, bytearray()
    async for chunk in body:
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"more than upload_max ({limit} bytes)")
        digest.update(chunk)
        block += chunk
        if len(block) >= BLOCK:
            await _io(_append, out, bytes(block))
            block.clear()
    if block:
        await _io(_append, out, bytes(block))
    return size, digest.hexdigest()


def _append(out: BinaryIO, data: bytes) -> None:
    out.write(data)
    out.flush()
    durable.checkpoint("upload-body")  # a crash test's kill point: a dotfile, part written


def _finish(temp: Path, final: Path, size: int, digest: str, max_mbps: float | None = None,
            written: Written | None = None) -> Stored:
    """Checked and fsynced: give it its name (unless taken) and make that durable."""
    probe = _check_segment(temp)
    if max_mbps is not None:
        _check_bitrate(temp, size, probe.duration, max_mbps)
    into = _compacted_into(final, digest)
    if into:
        return Stored(final.name, size, digest, False, 0, compacted=into)
    if written is not None and not final.exists():  # a name taken adds no bytes: 200 or 409
        written(size)
    durable.fsync_file(temp)
    durable.checkpoint("upload-checked")
    created = _link(temp, final, digest)
    durable.checkpoint("upload-linked")  # named and durable, the dotfile still there
    return Stored(final.name, size, digest, created, final.stat().st_mtime_ns)


def _check_segment(path: Path) -> mpegts.Probe:
    """The catalog's own probe: MPEG-TS packets with a readable video timestamp."""
    try:
        return mpegts.probe(path)
    except (CorruptSegment, IndexError, ValueError) as err:
        raise Unprocessable(f"not an MPEG-TS video segment: {err}") from None


def _check_bitrate(path: Path, size: int, duration: float, max_mbps: float) -> None:
    """Every packet counted: footage, or filler between a valid head and tail."""
    try:
        census = tscensus.count(path)
    except (CorruptSegment, IndexError, ValueError) as err:
        raise Unprocessable(f"not an MPEG-TS video segment: {err}") from None
    reason = limits.bitrate(size, census.footage_bytes, duration, max_mbps)
    if reason:
        raise limits.BitrateRefusal(reason, size)


def _compacted_into(final: Path, digest: str) -> str:
    """The video a re-sent segment went into when its day was compacted (its file is gone); ""
    when it did not. Stored again, its footage would show twice. Other bytes under that name are
    a Conflict, as they are while the segment is still a file."""
    if final.exists():
        return ""
    found = videoindex.compacted(final.parent, final.name)
    if found is None:
        return ""
    if found.sha256 != digest:
        raise Conflict(f"{final.name} was compacted into {found.video} "
                       + ("with other contents" if found.sha256 else "(its bytes were not recorded)")
                       + "; nothing was kept")
    return found.video


def _link(temp: Path, final: Path, digest: str) -> bool:
    """Give the checked file its name unless the name is taken; True when it was stored now."""
    try:
        os.link(temp, final)  # unlike rename, fails rather than replaces
    except FileExistsError:
        if durable.sha256(final) == digest:
            return False
        raise Conflict(f"{final.name} exists with other contents; it was kept as it was") from None
    durable.fsync_dir(final.parent)
    return True


def sweep(root: Path) -> list[Path]:
    """Remove the temp files of uploads a crash interrupted; run at start-up, before serving."""
    removed = []
    for day in layout.list_days(root):
        try:
            entries = list(os.scandir(root / day))
        except OSError:  # an unreadable day: the catalog names it; the other days go on
            continue
        for entry in entries:
            if TEMP.fullmatch(entry.name):
                Path(entry.path).unlink(missing_ok=True)
                removed.append(Path(entry.path))
    return removed
