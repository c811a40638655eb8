"""Share links: a signed token that lets anyone holding it watch one camera's time range until it expires."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

from .. import format
from ..errors import Forbidden, InvalidInput, NotFound
from .store import Store

PARAM = "share"  # the query parameter (and cookie) that carries a share token


@dataclass(frozen=True)
class Share:
    id: str
    camera: str
    start: float
    end: float
    expires: float
    created: float
    created_by: str
    revoked: float | None = None
    last_used: float | None = None

    def covers(self, start: float, end: float) -> bool:
        """Whether the wall-clock range [start, end) lies inside the shared range."""
        return self.start <= start and end <= self.end


class Shares:
    def __init__(self, store: Store):
        self.store = store
        self._signer = URLSafeSerializer(store.secret("share"), salt="share")

    def add(self, camera: str, start: float, end: float, expires: float, created_by: str,
            now: float | None = None) -> tuple[Share, str]:
        """A new share and its token (what goes into the link)."""
        now = time.time() if now is None else now
        if end <= start:
            raise InvalidInput("a share's range must end after it starts")
        if expires <= now:
            raise InvalidInput("a share must expire in the future")
        share = Share(secrets.token_hex(6), camera, start, end, expires, now, created_by)
        secret = secrets.token_urlsafe(16)  # kept only as a hash: a copy of the database
        # (a backup) holds the signing key, and must not be enough to make the link again
        with self.store.tx() as db:
            db.execute("INSERT INTO share (id, camera, start, end, expires, created, created_by,"
                       " hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (share.id, camera, start, end, expires, now, created_by, _digest(secret)))
        return share, self._signer.dumps(f"{share.id}.{secret}")

    def all(self) -> list[Share]:
        rows = self.store.db().execute(
            "SELECT id, camera, start, end, expires, created, created_by, revoked, last_used FROM share ORDER BY created")
        return [Share(*r) for r in rows]

    def revoke(self, share_id: str, now: float | None = None) -> None:
        with self.store.tx() as db:
            found = db.execute("UPDATE share SET revoked = ? WHERE id = ? AND revoked IS NULL",
                               (time.time() if now is None else now, share_id))
            if not found.rowcount:
                raise NotFound(f"no share {share_id!r} to revoke")

    def check(self, token: str, tz, now: float | None = None) -> Share:
        """The share a token stands for; Forbidden with the reason when it is forged, revoked,
        unknown or expired."""
        try:
            share_id, _, secret = str(self._signer.loads(token)).partition(".")
        except BadSignature:
            raise Forbidden("the share link is not valid (it was altered or is not one of ours)") from None
        row = self.store.db().execute(
            "SELECT id, camera, start, end, expires, created, created_by, revoked, last_used, hash FROM share WHERE id = ?", (share_id,)).fetchone()
        if row is None or not hmac.compare_digest(row[-1], _digest(secret)):
            raise Forbidden("the share link no longer exists")
        share = Share(*row[:-1])
        now = time.time() if now is None else now
        if share.revoked is not None:
            raise Forbidden("the share link was revoked")
        if now >= share.expires:
            raise Forbidden(f"the share link expired at {format.iso(share.expires, tz)}")
        if share.last_used is None or now - share.last_used > 60:  # not at every segment
            self.store.note("UPDATE share SET last_used = ? WHERE id = ?", (now, share.id))
        return share


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
