"""The access database (`access.sqlite3` in the server's state folder): accounts, tokens, sessions, share links.

Every request reads it, so a change made by `cctv-server user ...` while the server runs takes
effect at once. Only hashes of secrets are stored.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import threading
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
    last_used REAL
);
CREATE TABLE IF NOT EXISTS secret (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
"""
FILE_NAME = "access.sqlite3"


class Store:
    """One database file, a connection per thread."""

    def __init__(self, state_dir: Path):
        self.path = Path(state_dir) / FILE_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self.db().executescript(SCHEMA)
        os.chmod(self.path, 0o600)  # hashes only, but nobody else's business

    def db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            self._local.db = db
        return db

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
        with self.tx() as db:
            row = db.execute("SELECT value FROM secret WHERE name = ?", (name,)).fetchone()
            if row:
                return bytes(row[0])
            value = secrets.token_bytes(32)
            db.execute("INSERT INTO secret VALUES (?, ?)", (name, value))
            return value
