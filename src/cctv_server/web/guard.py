"""The gate every request passes: who asks, what the request is, whether it may (the security headers: headers.py; signing in: signin.py).

Who: a session cookie, HTTP Basic (players that cannot fill in a form), a camera's token
(`Authorization: Bearer`), or a share link (`?share=` or its cookie). What: `classify`, a pure
function of the method and path, says which action of `access.rules` a request is and for which
camera. Whether: `rules.allows`. Until the first account exists the server is open (on loopback,
unless `auth = "none"`), as it always was; from then on everything but the sign-in page, static
files and /healthz needs a credential.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..access import rules
from ..access.rules import ADMIN, EXPORT, UPLOAD, WATCH, WORK, Principal
from ..access.service import Access
from ..access.sessions import COOKIE
from ..access.shares import PARAM
from ..errors import Forbidden
from . import signin
from .signin import Refusal, client_address

PUBLIC, METRICS = "public", "metrics"
SHARE_COOKIE = "cctv_share"
SHARE_AUDIT_EVERY = 3600.0  # seconds: a share link's use by one client is audited once in this
SAFE = {"GET", "HEAD", "OPTIONS"}
REALM = 'Basic realm="cctv-server", charset="UTF-8"'
BASIC_MAX = 4096  # characters of a Basic credential (base64 of a name and a password)


@dataclass(frozen=True)
class Target:
    """What a request is, for the rules: an action, and the camera it is about (None: the server)."""

    action: str
    camera: str | None


def classify(method: str, path: str, cameras: Sequence[str]) -> Target:
    """Pure: the action and camera of a request; anything not named here is watching footage."""
    camera, rest = _camera_of(path, cameras)
    if path in ("/healthz", "/login", "/logout", "/favicon.ico") or rest.startswith("/static/"):
        return Target(PUBLIC, camera)
    if path == "/metrics":
        return Target(METRICS, None)
    if rest.startswith("/worker/"):  # before PUT: a worker's chunk is no upload
        return Target(WORK, camera)
    if path.startswith("/admin/") or rest.startswith("/admin/"):
        return Target(ADMIN, camera)
    if method == "PUT" or rest.startswith("/upload/"):
        return Target(UPLOAD, camera)
    if rest == "/export.mp4":
        return Target(EXPORT, camera)
    return Target(WATCH, camera)


def _camera_of(path: str, cameras: Sequence[str]) -> tuple[str | None, str]:
    """(camera, the path within it): `/cam/NAME/...`, or the one camera of a one-camera site."""
    if path.startswith("/cam/"):
        name, _, rest = path[5:].partition("/")
        return name, "/" + rest
    return (cameras[0] if len(cameras) == 1 else None), path


class Guard:
    """ASGI middleware: sets `scope["principal"]`, or answers 401/403/429 itself."""

    def __init__(self, app: ASGIApp, access: Access, cameras: Sequence[str], open_server: bool,
                 loopback: bool, checks: signin.PasswordChecks):
        self.app = app
        self.access = access
        self.checks = checks
        self.cameras = list(cameras)
        self.open_server = open_server  # auth = "none"
        # With no account the server is open only where it always was: on loopback. Beyond it,
        # an account removed while the server runs must not open it to the network.
        self.open_without_accounts = loopback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        target = classify(request.method, request.url.path, self.cameras)
        try:
            who = await self._principal(request, target)
            scope["principal"] = who
            self._check(request, target, who)
        except Refusal as refusal:
            await refusal.response(scope, receive, send)
            return
        if who.kind == "share" and _newly_shared(request):
            send = _setting_share_cookie(send, request)
        await self.app(scope, receive, send)

    async def _principal(self, request: Request, target: Target) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, credential = header.partition(" ")
        if scheme.lower() == "bearer":
            if target.action == METRICS:  # metrics_token, which /metrics checks itself
                return rules.ANONYMOUS
            return self._token(credential.strip(), request)
        if self.open_server or (self.open_without_accounts and not self.access.any_account()):
            return rules.OPEN
        if scheme.lower() == "basic":
            return await self._basic(request, credential.strip())
        session = self.access.sessions.get(request.cookies.get(COOKIE))
        if session is not None and (account := self.access.accounts.get(session.account)):
            request.scope["csrf"] = session.csrf  # for the pages' forms and the player's fetches
            return Principal("account", account=account)
        share = request.query_params.get(PARAM) or request.cookies.get(SHARE_COOKIE)
        if share and target.action != PUBLIC:
            return self._share(share, request)
        return rules.ANONYMOUS

    def _token(self, text: str, request: Request) -> Principal:
        token = self.access.tokens.check(text)
        if token is None and (gone := self.access.tokens.revoked(text)) is not None:
            self.access.audit.write("revoked token used", token=gone.id, camera=gone.camera,
                                    address=client_address(request))
        if token is None:
            raise Refusal(unauthorized("that token is not (or no longer) a camera's token"))
        return Principal("token", token=token)

    async def _basic(self, request: Request, credential: str) -> Principal:
        if len(credential) > BASIC_MAX:  # a name longer than any account's, decoded for nothing
            raise Refusal(unauthorized("wrong name or password"))
        try:
            name, _, password = base64.b64decode(credential).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise Refusal(unauthorized("malformed Basic credentials")) from None
        account = await signin.sign_in(self.access, self.checks, request, name, password,
                                       unauthorized)
        return Principal("account", account=account)

    def _share(self, token: str, request: Request) -> Principal:
        try:
            share = self.access.shares.check(token, self.access.tz)
        except Forbidden as err:
            raise Refusal(PlainTextResponse(str(err) + "\n", status_code=403)) from None
        address = client_address(request)
        if self.access.audit.once(("share link used", share.id, address), time.time(),
                                  SHARE_AUDIT_EVERY):
            # Once a while per link and client, not for each of the hundreds of segments after.
            self.access.audit.write("share link used", share=share.id, camera=share.camera,
                                    address=address, path=request.url.path,
                                    agent=request.headers.get("user-agent", ""))
        return Principal("share", share=share)

    def _check(self, request: Request, target: Target, who: Principal) -> None:
        if request.method not in SAFE and not same_origin(request):
            raise Refusal(PlainTextResponse("a change from another site is refused\n", 403))
        if target.action in (PUBLIC, METRICS):
            return
        why = rules.allows(who, target.action, target.camera)
        if why is None:
            return
        if who.kind == "anonymous":
            raise Refusal(_sign_in_first(request))
        if who.kind == "open":  # an open server still wants a camera's token for an upload
            raise Refusal(PlainTextResponse(why + "\n", status_code=401,
                                            headers={"WWW-Authenticate": "Bearer"}))
        raise Refusal(PlainTextResponse(why + "\n", status_code=403))


def _newly_shared(request: Request) -> bool:
    """A share token in the query that the browser's cookie does not already carry."""
    token = request.query_params.get(PARAM)
    return bool(token) and request.cookies.get(SHARE_COOKIE) != token


def same_origin(request: Request) -> bool:
    """A browser names the page a change comes from (Origin); it must be this server. A request
    without Origin (curl, a camera) is not a browser's cross-site request."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return origin == f"{request.url.scheme}://{request.headers.get('host', '')}"


def csrf_ok(access: Access, request: Request, sent: str | None) -> bool:
    """A change made with a session cookie must send back that session's CSRF token; one made
    with HTTP Basic, a token, or on an open server needs none (no cookie rides along)."""
    who = request.scope.get("principal")
    cookie = request.cookies.get(COOKIE)
    if who is None or who.kind != "account" or not cookie or "authorization" in request.headers:
        return True
    return access.sessions.csrf_ok(cookie, sent)


def unauthorized(why: str) -> Response:
    return PlainTextResponse(why + "\n", status_code=401, headers={"WWW-Authenticate": REALM})


def _sign_in_first(request: Request) -> Response:
    """A browser asking for a page goes to the sign-in form; a player or a script gets a 401 with
    a Basic challenge, which VLC, ffmpeg and mpv answer."""
    if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=302)
    return unauthorized("sign in first: this server has accounts")


def _setting_share_cookie(send: Send, request: Request) -> Send:
    """A share link's token rides on as a cookie for the camera's paths, so that the player's
    playlist and segment requests (which do not repeat the query) carry it."""
    path = "/" + "/".join(request.url.path.split("/")[1:3]) + "/" if request.url.path.startswith("/cam/") else "/"
    secure = "; Secure" if request.url.scheme == "https" else ""
    cookie = (f"{SHARE_COOKIE}={request.query_params[PARAM]}; Path={path}; HttpOnly; "
              f"SameSite=Lax{secure}")

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            MutableHeaders(scope=message).append("set-cookie", cookie)
        await send(message)
    return wrapped


@dataclass(frozen=True)
class Me:
    """Who a page says is signed in, and what its forms send back."""

    name: str
    admin: bool
    csrf: str
    session: bool  # signed in with the form (a sign-out button makes sense)


def me(request: Request) -> Me | None:
    """For the pages: the signed-in account, an admin on an open server, or None (a share link)."""
    who = principal(request)
    if who.kind == "open":
        return Me("", True, "", False)
    if who.kind != "account":
        return None
    csrf = request.scope.get("csrf", "")
    return Me(who.account.name, who.account.is_admin, csrf, bool(csrf))


def principal(request: Request) -> Principal:
    """Who the guard found this request to be (an app without the guard: the open server)."""
    return request.scope.get("principal", rules.OPEN)

