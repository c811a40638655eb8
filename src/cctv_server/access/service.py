"""All of access control for one server: its store, accounts, tokens, sessions, share links, limiter, audit log."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from . import audit, limiter
from .accounts import Accounts
from .audit import AuditLog
from .limiter import Limiter
from .sessions import Sessions
from .shares import Shares
from .store import Store
from .tokens import Tokens

ANY_ACCOUNT_FOR = 1.0  # seconds: how long "are there accounts?" is remembered (every request asks)


class Access:
    """What the web layer and the commands share; the state lives in the server's state folder,
    so `cctv-server user add` on the same folder takes effect in a running server at once."""

    def __init__(self, state_dir: Path, tz: ZoneInfo, session_idle: float = 12 * 3600,
                 session_max: float = 30 * 86400, sign_in_limit: int = limiter.LIMIT,
                 audit_max: int = audit.MAX_BYTES, audit_keep: int = audit.KEEP):
        self.store = Store(state_dir)
        self.accounts = Accounts(self.store)
        self.tokens = Tokens(self.store)
        self.sessions = Sessions(self.store, session_idle, session_max)
        self.shares = Shares(self.store)
        self.limiter = Limiter(sign_in_limit)
        self.audit = AuditLog(state_dir, tz, audit_max, audit_keep)
        self.tz = tz
        self._any: tuple[bool, float] = (False, 0.0)
        self._lock = threading.Lock()

    def any_account(self) -> bool:
        """Whether an account exists: from then on every route that shows footage needs one."""
        with self._lock:
            found, checked = self._any
            if time.monotonic() - checked < ANY_ACCOUNT_FOR:
                return found
        found = self.accounts.any()
        with self._lock:
            self._any = (found, time.monotonic())
        return found
