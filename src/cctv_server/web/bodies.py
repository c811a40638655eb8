"""Every request body under the deadline and pace uploads have, and a form's body capped small before a byte of it is read.

The connection's limits (connections.py) bound a request's head and a response; an upload paces
its own body (upload/pace.py). Without this, `POST /login` with a large Content-Length and a byte
every few seconds held its connection, busy and so never closed to make room, for as long as the
client liked: a thousand of them filled max_connections. A body too large is 413 at once; one
too slow is 408; both close the connection. A client that leaves mid-body costs one log line.
"""

from __future__ import annotations

import asyncio
import logging
import time

from starlette.requests import ClientDisconnect
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import TooLarge, TooSlow
from ..upload import pace

log = logging.getLogger(__name__)

PACED_BY_HANDLER = {"PUT"}  # an upload: its handler paces it, and upload_max caps it


class BodyLimits:
    """ASGI middleware: caps and paces the body of every request but an upload's."""

    def __init__(self, app: ASGIApp, idle: float, form_max: int,
                 min_rate: float = pace.MIN_RATE):
        self.app = app
        self.idle = idle
        self.form_max = form_max
        self.min_rate = min_rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in PACED_BY_HANDLER:
            return await self.app(scope, receive, send)
        length = _content_length(scope)
        if length is not None and length > self.form_max:
            return await _refuse(scope, receive, send, TooLarge(
                f"a body of {length} bytes is refused: this server takes at most"
                f" {self.form_max} here"))
        body = _Body(receive, self.idle, self.form_max, self.min_rate)
        body.finished = not length and not _chunked(scope)  # nothing to read: keep-alive stays
        started = []

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.append(True)
                headers = message.get("headers", [])
                if not body.finished and not any(k.lower() == b"connection" for k, _ in headers):
                    # the rest of the body is not worth reading: the connection closes
                    message["headers"] = [*headers, (b"connection", b"close")]
            await send(message)

        try:
            await self.app(scope, body.receive, sending)
        except ClientDisconnect:
            log.info("%s %s: the client left before sending the whole body", scope["method"],
                     scope["path"])
        except (TooSlow, TooLarge) as err:  # raised where no handler turned it into an answer
            if not started:
                await _refuse(scope, receive, sending, err)


class _Body:
    """The `receive` of one request, its body paced as an upload's and counted against the cap."""

    def __init__(self, receive: Receive, idle: float, most: int, min_rate: float):
        self._receive = receive
        self.idle, self.most, self.min_rate = idle, most, min_rate
        self.started: float | None = None
        self.received = 0
        self.finished = False

    async def receive(self) -> Message:
        if self.finished:  # the body is read: what remains is waiting for a disconnect
            return await self._receive()
        now = time.monotonic()
        if self.started is None:
            self.started = now
        wait = pace.deadline(self.started, self.received, now, self.idle, self.min_rate) - now
        try:
            message = await asyncio.wait_for(self._receive(), max(wait, 0.01))
        except asyncio.TimeoutError:
            raise TooSlow(f"the body came too slowly ({self.received} bytes in"
                          f" {now - self.started:.0f} s)") from None
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.most:
                raise TooLarge(f"a body of more than {self.most} bytes is refused here")
            self.finished = not message.get("more_body", False)
        return message


def _chunked(scope: Scope) -> bool:
    return any(k == b"transfer-encoding" and b"chunked" in v.lower() for k, v in scope["headers"])


def _content_length(scope: Scope) -> int | None:
    for key, value in scope["headers"]:
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(scope: Scope, receive: Receive, send: Send, err: Exception) -> None:
    status = 413 if isinstance(err, TooLarge) else 408
    response = PlainTextResponse(f"{err}\n", status_code=status, headers={"Connection": "close"})
    await response(scope, receive, send)
