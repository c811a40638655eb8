"""Signing in and out in a browser, and the admin's actions: the audit log, share links, holds."""

from __future__ import annotations

import datetime as dt
import time
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route

from ..access import audit
from ..access.service import Access
from ..access.sessions import COOKIE
from ..access.shares import PARAM
from ..config import parse_duration
from ..errors import Forbidden, InvalidInput, NotFound
from ..playback import exportplan
from ..retention import holds
from . import guard, signin

SHARE_DEFAULT = "7d"


def _access(request: Request) -> Access:
    return request.app.state.access


async def login_form(request: Request) -> HTMLResponse:
    return _form(request, request.query_params.get("next", "/"))


def _form(request: Request, next_path: str, error: str = "", status: int = 200) -> HTMLResponse:
    templates = request.app.state.templates
    page = templates.get_template("login.html").render(next=_safe_next(next_path), error=error)
    return HTMLResponse(page, status_code=status)


async def login(request: Request) -> Response:
    """The form's POST: a session cookie and back to where the user was going."""
    access = _access(request)
    form = await request.form()
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    next_path = _safe_next(str(form.get("next", "/")))
    try:
        account = await signin.sign_in(access, request.app.state.password_checks, request, name,
                                       password, guard.unauthorized)
    except guard.Refusal as refusal:
        if refusal.response.status_code in (429, 503):
            return refusal.response
        return _form(request, next_path, "Wrong name or password.", 401)
    cookie = access.sessions.start(account.name)
    access.audit.write("sign-in", account=account.name, address=guard.client_address(request))
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(COOKIE, cookie, max_age=int(access.sessions.lifetime), httponly=True,
                        samesite="lax", secure=request.url.scheme == "https", path="/")
    return response


async def logout(request: Request) -> Response:
    """Ends the session on the server too: the cookie is worthless from here on."""
    access = _access(request)
    form = await request.form()
    if not guard.csrf_ok(access, request, str(form.get("csrf", ""))):
        return PlainTextResponse("the sign-out form is stale: reload the page\n", status_code=403)
    session = access.sessions.get(request.cookies.get(COOKIE))
    access.sessions.end(request.cookies.get(COOKIE))
    if session is not None:
        access.audit.write("sign-out", account=session.account, address=guard.client_address(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


def _safe_next(path: str) -> str:
    """Only a path on this server: `//evil.example` or `https://...` would send the user away."""
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else "/"


async def audit_log(request: Request) -> JSONResponse:
    """`/admin/audit[?kind=EVENT][&page=N][&per=N]`: a page of the audit log's events, oldest
    first; page 1 (the default) holds the newest `per` (500, at most 1000), page 2 the ones
    before them, across the rotated files. A `Link: rel="next"` names the next page."""
    query = request.query_params
    page, per = _count(query.get("page"), 1, "page"), _count(query.get("per"), 500, "per")
    per = min(per, audit.PAGE_MAX)
    kind = query.get("kind") or None
    events = await run_in_threadpool(_access(request).audit.read, per, kind, (page - 1) * per)
    headers = {"Cache-Control": "no-store"}
    if len(events) == per:
        more = urlencode({k: v for k, v in (("kind", kind), ("page", page + 1), ("per", per)) if v})
        headers["Link"] = f'<{request.url.path}?{more}>; rel="next"'
    return JSONResponse(events, headers=headers)


def _count(text: str | None, default: int, what: str) -> int:
    if text is None or text == "":
        return default
    if not text.isdigit() or not 1 <= int(text) <= 1_000_000:
        raise InvalidInput(f"{what} must be a whole number from 1, not {text[:20]!r}")
    return int(text)


async def make_share(request: Request) -> JSONResponse:
    """`POST /cam/NAME/admin/share` (from, to, expires): a share link for that range of this camera."""
    access, (camera, settings) = _access(request), _camera(request)
    form = await request.form()
    _csrf(access, request, form)
    tz = settings.tz
    rng = exportplan.parse_range(form.get("from"), form.get("to"), tz, float("inf"),
                                 dt.datetime.now(tz).date())
    try:
        expires = time.time() + parse_duration(str(form.get("expires") or SHARE_DEFAULT))
    except ValueError as err:
        raise InvalidInput(f"expires: {err}") from None
    who = guard.principal(request).name
    share, token = access.shares.add(camera, rng.start, rng.end, expires, who)
    access.audit.write("share link made", by=who, share=share.id, camera=camera,
                       start=share.start, end=share.end, expires=share.expires)
    return JSONResponse({"id": share.id, "url": share_path(camera, share.start, tz, token),
                         "expires": share.expires})


def share_path(camera: str, start: float, tz, token: str) -> str:
    """The player page of the shared range's first day, at its start, carrying the token."""
    moment = dt.datetime.fromtimestamp(start, tz)
    query = urlencode({"t": moment.strftime("%H:%M:%S"), PARAM: token})
    return f"/cam/{camera}/day/{moment.date().isoformat()}?{query}"


async def hold_day(request: Request) -> JSONResponse:
    """`POST /cam/NAME/admin/hold` (day, reason): keep the day as evidence."""
    access, (camera, settings) = _access(request), _camera(request)
    form = await request.form()
    _csrf(access, request, form)
    root = settings.root
    who = guard.principal(request).name
    found = holds.hold(root, str(form.get("day", "")), str(form.get("reason", "")), who)
    access.audit.write("hold", by=who, camera=camera, day=found.day, reason=found.reason)
    return JSONResponse({"day": found.day, "reason": found.reason, "by": found.by})


async def release_day(request: Request) -> JSONResponse:
    """`POST /cam/NAME/admin/release` (day): retention may delete the day again."""
    access, (camera, settings) = _access(request), _camera(request)
    form = await request.form()
    _csrf(access, request, form)
    root = settings.root
    who = guard.principal(request).name
    found = holds.release(root, str(form.get("day", "")))
    access.audit.write("release", by=who, camera=camera, day=found.day)
    return JSONResponse({"day": found.day, "released": True})


def _camera(request: Request):
    """The settings of the camera a POST names; NotFound for a camera the server has not."""
    camera = request.path_params["camera"]
    found = request.app.state.camera_settings.get(camera)
    if found is None:
        raise NotFound(f"no camera named {camera!r}")
    return camera, found


def _csrf(access: Access, request: Request, form) -> None:
    if not guard.csrf_ok(access, request, request.headers.get("x-csrf-token") or form.get("csrf")):
        raise Forbidden("the page is stale (its CSRF token does not match the session): reload it")


ROUTES = [
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/admin/audit", audit_log),
    Route("/cam/{camera}/admin/share", make_share, methods=["POST"]),
    Route("/cam/{camera}/admin/hold", hold_day, methods=["POST"]),
    Route("/cam/{camera}/admin/release", release_day, methods=["POST"]),
]
