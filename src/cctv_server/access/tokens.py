"""Camera tokens: the credential a camera uploads with. Shown once when made; only a hash is kept."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import time
from dataclasses import dataclass

from ..errors import NotFound
from .store import Store

PREFIX = "cctv"
# "Last used" to the minute is plenty, and each note is an fsync on the request's own path: a
# camera uploading every few seconds must not stall the server's event loop each time.
NOTE_EVERY = 60.0
# The camera of a worker's token (tasks/): no camera is named so (cameras.py allows no `*`).
WORKER = "*worker"


@dataclass(frozen=True)
class Token:
    id: str
    camera: str
    name: str
    created: float
    last_used: float | None

    @property
    def is_worker(self) -> bool:
        """A worker's token: it fetches segments and sends chunks, nothing else (access/rules)."""
        return self.camera == WORKER


class Tokens:
    def __init__(self, store: Store):
        self.store = store

    def add(self, camera: str, name: str = "", now: float | None = None) -> tuple[Token, str]:
        """A new token for the camera and its secret text, `cctv_<id>_<secret>`, never stored."""
        token_id, secret = secrets.token_hex(4), secrets.token_urlsafe(32)
        now = time.time() if now is None else now
        with self.store.tx() as db:
            db.execute("INSERT INTO token VALUES (?, ?, ?, ?, ?, NULL)",
                       (token_id, camera, name, _digest(secret), now))
        return Token(token_id, camera, name, now, None), f"{PREFIX}_{token_id}_{secret}"

    def all(self) -> list[Token]:
        rows = self.store.db().execute(
            "SELECT id, camera, name, created, last_used FROM token ORDER BY created")
        return [Token(*r) for r in rows]

    def revoke(self, token_id: str) -> Token:
        with self.store.tx() as db:
            row = db.execute("SELECT id, camera, name, created, last_used, hash FROM token"
                             " WHERE id = ?", (token_id,)).fetchone()
            if row is None:
                raise NotFound(f"no token {token_id!r}")
            db.execute("DELETE FROM token WHERE id = ?", (token_id,))
            # kept, so that a camera still presenting it is told apart from a stranger (alerts)
            db.execute("INSERT OR REPLACE INTO revoked_token VALUES (?, ?, ?)",
                       (token_id, row[1], row[5]))
        return Token(*row[:5])

    def check(self, text: str, now: float | None = None) -> Token | None:
        """The token this text is, if it is one (compared in constant time); notes its use."""
        prefix, _, rest = (text or "").partition("_")
        token_id, _, secret = rest.partition("_")
        if prefix != PREFIX or not token_id or not secret:
            return None
        row = self.store.db().execute(
            "SELECT id, camera, name, created, last_used, hash FROM token WHERE id = ?", (token_id,)
        ).fetchone()
        if row is None or not hmac.compare_digest(row[5], _digest(secret)):
            return None
        now = time.time() if now is None else now
        if row[4] is None or not 0 <= now - row[4] < NOTE_EVERY:
            self.store.note("UPDATE token SET last_used = ? WHERE id = ?", (now, token_id))
        return Token(*row[:4], now)


    def revoked(self, text: str) -> Token | None:
        """The revoked token this text is (its secret checked), if it is one: None otherwise."""
        prefix, _, rest = (text or "").partition("_")
        token_id, _, secret = rest.partition("_")
        try:
            row = self.store.db().execute("SELECT camera, hash FROM revoked_token WHERE id = ?",
                                          (token_id,)).fetchone()
        except sqlite3.Error:  # a read-only database older than the table
            return None
        if prefix != PREFIX or row is None or not hmac.compare_digest(row[1], _digest(secret)):
            return None
        return Token(token_id, row[0], "", 0.0, None)


def _digest(secret: str) -> str:
    # The secret is 256 random bits, so a plain SHA-256 is as good as a slow hash for it.
    return hashlib.sha256(secret.encode()).hexdigest()
