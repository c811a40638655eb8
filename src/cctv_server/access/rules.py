"""Pure: who may do what. Every handler asks `allows` with what it is about to show or change."""

from __future__ import annotations

from dataclasses import dataclass

from .accounts import Account
from .shares import Share
from .tokens import Token

WATCH, EXPORT, ADMIN, UPLOAD = "watch", "export", "admin", "upload"
WORK = "work"  # a worker's routes: segments of a day being compacted, chunks sent back


@dataclass(frozen=True)
class Principal:
    """Who is asking: nobody (an open server), an account, a share link, or a camera's token."""

    kind: str  # "open", "account", "share", "token", "anonymous"
    account: Account | None = None
    share: Share | None = None
    token: Token | None = None

    @property
    def name(self) -> str:
        if self.account:
            return self.account.name
        if self.share:
            return f"share:{self.share.id}"
        if self.token:
            return f"token:{self.token.id}"
        return self.kind


OPEN = Principal("open")  # no account exists yet: the server is as open as it always was
ANONYMOUS = Principal("anonymous")  # accounts exist, and this request carries no credential


def allows(who: Principal, action: str, camera: str | None = None) -> str | None:
    """None when `who` may do `action` (on `camera`); else why not. Which footage a share link
    reaches is cut by web/sharing.py, which knows the pieces."""
    if action == WORK or (who.token is not None and who.token.is_worker):
        return _work_allows(who, action)
    if who.kind == "open":
        return None if action != UPLOAD else "uploading needs a camera token"
    if who.kind == "token":
        if action != UPLOAD:
            return "a camera token can only upload"
        return None if camera == who.token.camera else f"this token uploads to {who.token.camera} only"
    if who.kind == "share":
        return _share_allows(who.share, action, camera)
    if who.account is None:
        return "sign in first"
    return _account_allows(who.account, action, camera)


def _work_allows(who: Principal, action: str) -> str | None:
    """A worker's token reaches the worker's routes and nothing else; nobody else reaches them."""
    worker = who.token is not None and who.token.is_worker
    if action == WORK:
        return None if worker else "this is a worker's route: it needs a worker's token"
    return "a worker token can only fetch the segments of a compaction and send chunks back"


def _account_allows(account: Account, action: str, camera: str | None) -> str | None:
    if account.is_admin:
        return None
    if action in (ADMIN, UPLOAD):
        return f"{account.name} is a viewer; this needs an admin"
    if camera is not None and not account.sees(camera):
        return f"{account.name} may not see camera {camera}"
    return None


def _share_allows(share: Share, action: str, camera: str | None) -> str | None:
    if action not in (WATCH, EXPORT):
        return "a share link only lets you watch"
    if camera != share.camera:
        return "the share link is for another camera"
    return None
