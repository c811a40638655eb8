"""The access database (`access.sqlite3` in the server's state folder): accounts, tokens, sessions, share links.

Every request reads it, so a change made by `cctv-server user ...` while the server runs takes
effect at once. Only hashes of secrets are stored.
"""

from __future__ import annotations

import logging
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS account (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
    cameras TEXT NOT NULL DEFAULT '',
    hash TEXT NOT NULL,
    created REAL NOT NULL,
    changed REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS token (
    id TEXT PRIMARY KEY,
    camera TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    hash TEXT NOT NULL,
    created REAL NOT NULL,
    last_used REAL
);
CREATE TABLE IF NOT EXISTS session (
    hash TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    created REAL NOT NULL,
    seen REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS share (
    id TEXT PRIMARY KEY,
    camera TEXT NOT NULL,
    start REAL NOT NULL,
    end REAL NOT NULL,
    expires REAL NOT NULL,
    created REAL NOT NULL,
    created_by TEXT NOT NULL,
    revoked REAL,
    last_used REAL,
    hash TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS revoked_token (
    id TEXT PRIMARY KEY,
    camera TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS secret (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
"""
FILE_NAME = "access.sqlite3"
log = logging.getLogger(__name__)


class Store:
    """One database file, a connection per thread. On a full disk it is read only (or, if it
    could not even be made, empty and looked for again), so that the server still starts."""

    RETRY = 2.0  # seconds between attempts to open the file again while it could not be

    def __init__(self, state_dir: Path):
        self.path = Path(state_dir) / FILE_NAME
        self._local = threading.local()
        self._lock = threading.Lock()
        self._generation = 0  # bumped when the file is (re)opened: threads reconnect
        self.read_only = False
        self._missing_since: float | None = None
        self._try_open()

    def _try_open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
            os.chmod(self.path, 0o600)  # hashes only, but nobody else's business
            self.read_only, self._missing_since = False, None
        except (sqlite3.OperationalError, OSError) as err:
            if self.path.exists() and not _has_schema(self.path):
                for suffix in ("", "-wal", "-shm"):  # a failed attempt's leftovers hold nothing
                    Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            if not self.path.exists():
                log.warning("access database %s cannot be made (%s): no accounts until it can",
                            self.path, err)
                self._missing_since = time.monotonic()
                return
            log.warning("access database %s cannot be written (%s): read only", self.path, err)
            self.read_only, self._missing_since = True, None
        with self._lock:
            self._generation += 1

    def db(self) -> sqlite3.Connection:
        if self._missing_since is not None and time.monotonic() - self._missing_since > self.RETRY:
            self._try_open()  # an account added once the disk has room must close the server
        local = self._local
        if getattr(local, "generation", None) != self._generation:
            local.db, local.generation = self._connect(), self._generation
        return local.db

    def _connect(self) -> sqlite3.Connection:
        if self._missing_since is not None:
            db = sqlite3.connect(":memory:", isolation_level=None)
            db.executescript(SCHEMA)
            return db
        if self.read_only:
            return sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30,
                                   isolation_level=None, check_same_thread=False)
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")  # synchronous stays FULL: a revocation must last
        return db

    def note(self, sql: str, args: tuple) -> None:
        """A write that is only a note (last used, last seen): lost quietly when it cannot be made."""
        try:
            self.db().execute(sql, args)
        except sqlite3.Error as err:
            log.debug("access note not written: %s", err)

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        db = self.db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def secret(self, name: str) -> bytes:
        """A random key made once and kept (signing cookies and share links): the same for every
        process that serves this state, and new only if the database is new."""
        row = self.db().execute("SELECT value FROM secret WHERE name = ?", (name,)).fetchone()
        if row:
            return bytes(row[0])
        value = secrets.token_bytes(32)
        try:
            with self.tx() as db:
                db.execute("INSERT OR IGNORE INTO secret VALUES (?, ?)", (name, value))
                return bytes(db.execute("SELECT value FROM secret WHERE name = ?",
                                        (name,)).fetchone()[0])
        except sqlite3.Error:  # read only: this process's own key, until the file can be written
            return value


def _has_schema(path: Path) -> bool:
    """Whether the file is an access database with its tables (not one a full disk cut short)."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return {"account", "secret"} <= names
    except sqlite3.Error:
        return False
