"""Browser sessions: a random id in a signed cookie, its hash on the server, idle and absolute expiry."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

from .store import Store

COOKIE = "cctv_session"
SEEN_EVERY = 60.0  # seconds: how often a session's last use is written down


@dataclass(frozen=True)
class Session:
    account: str
    created: float
    seen: float
    csrf: str  # what a form or a fetch must send back with a change


class Sessions:
    def __init__(self, store: Store, idle: float, lifetime: float):
        self.store = store
        self.idle = idle
        self.lifetime = lifetime
        self._signer = URLSafeSerializer(store.secret("session"), salt="session")
        self._csrf = URLSafeSerializer(store.secret("session"), salt="csrf")

    def start(self, account: str, now: float | None = None) -> str:
        """A new session for the account; returns the cookie value."""
        raw = secrets.token_urlsafe(32)
        now = time.time() if now is None else now
        with self.store.tx() as db:
            db.execute("DELETE FROM session WHERE seen < ? OR created < ?",
                       (now - self.idle, now - self.lifetime))  # the expired go as new ones come
            db.execute("INSERT INTO session VALUES (?, ?, ?, ?)", (_digest(raw), account, now, now))
        return self._signer.dumps(raw)

    def get(self, cookie: str | None, now: float | None = None) -> Session | None:
        """The live session the cookie names, its last use moved on; None if forged, ended or expired."""
        raw = self._raw(cookie)
        if raw is None:
            return None
        now = time.time() if now is None else now
        row = self.store.db().execute(
            "SELECT account, created, seen FROM session WHERE hash = ?", (_digest(raw),)).fetchone()
        if row is None:
            return None
        account, created, seen = row
        if now - seen > self.idle or now - created > self.lifetime:
            self.end(cookie)
            return None
        if now - seen > SEEN_EVERY:  # not at every segment: a minute is precise enough for idling
            self.store.note("UPDATE session SET seen = ? WHERE hash = ?", (now, _digest(raw)))
        return Session(account, created, now, self._csrf.dumps(_digest(raw)))

    def csrf_ok(self, cookie: str | None, sent: str | None) -> bool:
        """Whether `sent` is this session's CSRF token (bound to the session, so it cannot be reused)."""
        raw = self._raw(cookie)
        try:
            return raw is not None and self._csrf.loads(sent or "") == _digest(raw)
        except BadSignature:
            return False

    def end(self, cookie: str | None) -> None:
        raw = self._raw(cookie)
        if raw is not None:
            self.store.note("DELETE FROM session WHERE hash = ?", (_digest(raw),))

    def _raw(self, cookie: str | None) -> str | None:
        try:
            return self._signer.loads(cookie) if cookie else None
        except BadSignature:
            return None


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()
