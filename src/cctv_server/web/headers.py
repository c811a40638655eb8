"""The security headers every answer carries: set by the outermost middleware, so that a 421 from the Host check, a 503 and a refusal carry them as a page does."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Scripts from this server only; hls.js makes its workers and media sources from blob: URLs.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; media-src 'self' blob:; worker-src 'self' blob:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"same-origin"), (b"x-frame-options", b"DENY")]


def raw() -> bytes:
    """The headers as HTTP/1.1 lines, for an answer written to the socket without the app."""
    return b"".join(name + b": " + value + b"\r\n" for name, value in HEADERS)


class SecurityHeaders:
    """ASGI middleware: each header added unless the response set it itself."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        await self.app(scope, receive, with_security_headers(send))


def with_security_headers(send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            for name, value in HEADERS:
                if name.decode() not in headers:
                    headers.raw.append((name, value))
        await send(message)
    return wrapped
