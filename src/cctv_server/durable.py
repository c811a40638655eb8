"""Writes that survive a power cut: fsync of files and folders, atomic replace, hashing, and crash checkpoints."""

from __future__ import annotations

import hashlib
import os
import signal
from pathlib import Path

CHUNK = 1 << 20


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make the folder's entries (creations, renames, deletions) durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that a crash leaves the old bytes or the new, never a mix."""
    temp = path.with_name(f".{path.name}.tmp")
    try:
        with open(temp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def remove(path: Path) -> bool:
    """Unlink a file if it is there; True when it was."""
    try:
        path.unlink()
        return True
    except FileNotFoundError:
        return False


def sha512(path: Path) -> str:
    return _hash(path, hashlib.sha512())


def sha256(path: Path) -> str:
    return _hash(path, hashlib.sha256())


def _hash(path: Path, digest) -> str:
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def checksum_line(digest: str, name: str) -> str:
    """One line in sha512sum's own format (two spaces: text mode), so `sha512sum -c` reads it."""
    return f"{digest}  {name}\n"


def parse_checksum(text: str) -> tuple[str, str] | None:
    """(digest, name) from a sha512sum line, or None when it is not one."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    digest, sep, name = line.partition(" ")
    name = name[1:] if name[:1] in (" ", "*") else name
    if not sep or len(digest) != 128 or not all(c in "0123456789abcdef" for c in digest):
        return None
    return digest, name


def checkpoint(name: str) -> None:
    """A named moment in a job that changes recordings; CCTVTEST_CRASH_AT=name makes the process SIGKILL itself here.

    This is how the crash tests stop a real compactor at exact moments; unset, it costs nothing.
    CCTVTEST_PAUSE_AT=name stops it there (SIGSTOP) until the test has done what races it.
    """
    if os.environ.get("CCTVTEST_PAUSE_AT") == name:  # a test acts in this instant, then SIGCONTs
        os.kill(os.getpid(), signal.SIGSTOP)
    if os.environ.get("CCTVTEST_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
