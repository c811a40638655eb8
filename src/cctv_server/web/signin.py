"""Signing in with a name and password (the form, HTTP Basic): limited before the password is checked, and only a few Argon2id checks at once.

Argon2id takes 64 MiB and most of a core for a fraction of a second: 60 at once took the server
from 83 MB to 1.9 GB. Checks run `sign_in_jobs` at a time; a sign-in waits `sign_in_wait` for a
turn and then gets 503 with Retry-After. A name and password checked right lately (HTTP Basic
sends them with every request) need no turn and no count (accounts.remembered).
"""

from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from ..access.accounts import NAME, Account
from ..access.limiter import cut_name
from ..access.service import Access
from ..access.sessions import COOKIE


class Refusal(Exception):
    """An answer instead of the account: 401, 429 or 503."""

    def __init__(self, response):
        self.response = response


class PasswordChecks:
    """At most `at_once` password checks running; a caller waits up to `wait` seconds for one."""

    def __init__(self, at_once: int, wait: float):
        self.at_once = at_once
        self.wait = wait
        self._slots = asyncio.Semaphore(at_once)

    @asynccontextmanager
    async def turn(self):
        try:
            await asyncio.wait_for(self._slots.acquire(), self.wait)
        except asyncio.TimeoutError:
            raise Refusal(_busy(self.wait)) from None
        try:
            yield
        finally:
            self._slots.release()


async def sign_in(access: Access, checks: PasswordChecks, request: Request, name: str,
                  password: str, unauthorized) -> Account:
    """The account if the password is right; else a Refusal: `unauthorized(why)` (401), 429
    while limited, 503 while every check is busy. An unknown name and a wrong password take the
    same time and get the same answer."""
    name = cut_name(name)
    address = client_address(request)
    if (account := await run_in_threadpool(access.accounts.remembered, name, password)):
        return account
    now = time.time()
    limiter = access.limiter
    keys = limiter.keys(address, name, _known(access, request, name, address, now))
    verdict = limiter.reserve(keys, now)
    if verdict.wait > 0:
        retry = max(1, round(verdict.wait))
        if verdict.first:  # once per limited key and window (the alerts read these)
            access.audit.write("sign-in limited", account=name, address=address, retry_after=retry)
        raise Refusal(PlainTextResponse(
            f"too many failed sign-ins: try again in {retry} s\n", status_code=429,
            headers={"Retry-After": str(retry)}))
    try:
        account = await _check(access, checks, name, password)
    except Refusal:
        limiter.release(keys, now)  # never checked
        raise
    if account is None:
        access.audit.write("sign-in failed", account=name, address=address)
        raise Refusal(unauthorized("wrong name or password"))
    limiter.release(keys, now)
    limiter.succeeded(name, address, now)
    return account


async def _check(access: Access, checks: PasswordChecks, name: str, password: str):
    if not NAME.fullmatch(name):  # no account can have it: nothing to check
        return None
    async with checks.turn():
        return await run_in_threadpool(access.accounts.authenticate, name, password)


def _known(access: Access, request: Request, name: str, address: str, now: float) -> bool:
    """Whether the account signed in from this address lately, or this browser holds a session
    of it: then an attacker elsewhere, failing on the account, does not lock it out here."""
    if access.limiter.known(name, address, now):
        return True
    session = access.sessions.get(request.cookies.get(COOKIE)) if request.cookies.get(COOKIE) else None
    return session is not None and session.account.lower() == name.lower()


def client_address(request: Request) -> str:
    return request.client.host if request.client else "?"


def _busy(wait: float):
    retry = max(1, round(wait))
    return PlainTextResponse(f"too many sign-ins at once: try again in {retry} s\n",
                             status_code=503, headers={"Retry-After": str(retry)})
