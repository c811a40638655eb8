"""Accounts: a name, a role (admin or viewer), the cameras a viewer may see, an Argon2id password hash."""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import threading
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..errors import InvalidInput, NotFound
from .store import Store

ROLES = ("admin", "viewer")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
MIN_PASSWORD = 8
VERIFIED_FOR = 300.0  # seconds a checked password is remembered (HTTP Basic sends it every request)
_HASHER = PasswordHasher()  # Argon2id with argon2-cffi's defaults (RFC 9106's second choice)


@functools.cache
def _dummy() -> str:
    """Checked against when the account does not exist, so that an unknown name costs the same
    time as a wrong password. Made on first use: hashing costs every command's start 0.1 s."""
    return _HASHER.hash("not a password of anyone's")


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    cameras: tuple[str, ...]  # empty: every camera
    created: float

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def sees(self, camera: str) -> bool:
        return self.is_admin or not self.cameras or camera in self.cameras


class Accounts:
    """The accounts in a store; passwords are checked in constant time and never kept."""

    def __init__(self, store: Store):
        self.store = store
        self._key = store.secret("verified-cache")
        self._verified: dict[bytes, tuple[str, float]] = {}  # HMAC(name, password) -> (hash, until)
        self._lock = threading.Lock()
        _dummy()  # made now, so that the first unknown name costs what every later one does

    def add(self, name: str, role: str, password: str, cameras: tuple[str, ...] = (),
            now: float | None = None) -> Account:
        check_name(name)
        check_role(role)
        check_password(password)
        now = time.time() if now is None else now
        with self.store.tx() as db:
            if db.execute("SELECT 1 FROM account WHERE name = ?", (name,)).fetchone():
                raise InvalidInput(f"an account named {name!r} exists already")
            db.execute("INSERT INTO account VALUES (?, ?, ?, ?, ?, ?)",
                       (name, role, ",".join(cameras), _HASHER.hash(password), now, now))
        return Account(name, role, tuple(cameras), now)

    def set_password(self, name: str, password: str, now: float | None = None) -> None:
        check_password(password)
        with self.store.tx() as db:
            found = db.execute("UPDATE account SET hash = ?, changed = ? WHERE name = ?",
                               (_HASHER.hash(password), time.time() if now is None else now, name))
            if not found.rowcount:
                raise NotFound(f"no account named {name!r}")
            db.execute("DELETE FROM session WHERE account = ?", (name,))  # a stolen cookie too

    def remove(self, name: str) -> None:
        with self.store.tx() as db:
            if not db.execute("DELETE FROM account WHERE name = ?", (name,)).rowcount:
                raise NotFound(f"no account named {name!r}")
            db.execute("DELETE FROM session WHERE account = ?", (name,))

    def get(self, name: str) -> Account | None:
        row = self.store.db().execute(
            "SELECT name, role, cameras, created FROM account WHERE name = ?", (name,)).fetchone()
        return _account(row) if row else None

    def all(self) -> list[Account]:
        rows = self.store.db().execute("SELECT name, role, cameras, created FROM account ORDER BY name")
        return [_account(r) for r in rows]

    def any(self) -> bool:
        return self.store.db().execute("SELECT 1 FROM account LIMIT 1").fetchone() is not None

    def authenticate(self, name: str, password: str) -> Account | None:
        """The account if the password is its own; None otherwise, after the same work either way."""
        row = self.store.db().execute(
            "SELECT name, role, cameras, created, hash FROM account WHERE name = ?", (name,)
        ).fetchone()
        stored = row[4] if row else _dummy()
        ok = self._verify(stored, name, password) and row is not None
        return _account(row[:4]) if ok else None

    def remembered(self, name: str, password: str) -> Account | None:
        """The account if this very name and password were checked right against its current
        hash lately: no Argon2 to run, nothing for the sign-in limiter to count (whoever sends
        it knows the password). None otherwise, whatever the reason."""
        if len(self._verified) == 0 or not NAME.fullmatch(name or ""):
            return None
        row = self.store.db().execute(
            "SELECT name, role, cameras, created, hash FROM account WHERE name = ?", (name,)
        ).fetchone()
        if row is None or not self._cached(row[4], name, password):
            return None
        return _account(row[:4])

    def _cached(self, stored: str, name: str, password: str) -> bool:
        key = hmac.new(self._key, f"{name}\0{password}".encode(), hashlib.sha256).digest()
        with self._lock:
            cached = self._verified.get(key)
        return bool(cached and hmac.compare_digest(cached[0], stored)
                    and cached[1] > time.monotonic())

    def _verify(self, stored: str, name: str, password: str) -> bool:
        key = hmac.new(self._key, f"{name}\0{password}".encode(), hashlib.sha256).digest()
        now = time.monotonic()
        if self._cached(stored, name, password):
            return True  # the same name and password checked against this very hash, just now
        try:
            _HASHER.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
        with self._lock:
            if len(self._verified) > 10_000:
                self._verified.clear()
            self._verified[key] = (stored, now + VERIFIED_FOR)
        return True


def check_name(name: str) -> None:
    if not NAME.fullmatch(name or ""):
        raise InvalidInput(f"account name {name!r}: letters, digits and . _ @ - only, 1 to 64")


def check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidInput(f"role {role!r}: must be one of {', '.join(ROLES)}")


def check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise InvalidInput(f"the password must have at least {MIN_PASSWORD} characters")


def _account(row) -> Account:
    name, role, cameras, created = row
    return Account(name, role, tuple(c for c in cameras.split(",") if c), created)
