"""Serving an export: a bounded number made at once, and a failure after the headers never
passing for a whole clip."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable, Mapping

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from ..errors import CctvError
from .connections import ABORT

log = logging.getLogger(__name__)


class Slots:
    """At most `size` of something at once; a slot is taken or refused, never waited for (a
    queue would hold connections and memory for clients that may be gone). Event loop only."""

    def __init__(self, size: int):
        self.size = size
        self.taken = 0

    def take(self) -> Callable[[], None] | None:
        """A release function, or None when all slots are taken."""
        if self.taken >= self.size:
            return None
        self.taken += 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self.taken -= 1

        return release


class ClipResponse(StreamingResponse):
    """A clip's bytes as ffmpeg makes them, after the first ones (so that a clip that cannot
    be made at all gets a status and a reason instead of headers).

    If making it fails once the headers are out, the connection is dropped without the final
    chunk: the client sees a failed transfer, never a short clip under headers that name the
    whole range. The log says why. `on_close` runs however the response ends.
    """

    def __init__(self, first: bytes, rest: AsyncGenerator[bytes, None], what: str,
                 headers: Mapping[str, str], on_close: Callable[[], None]):
        super().__init__(_chain(first, rest), media_type="video/mp4", headers=headers)
        self.rest = rest
        self.what = what
        self.on_close = on_close
        self.abort: Callable[[], None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.abort = scope.get("extensions", {}).get(ABORT)
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):  # a client gone: ffmpeg is killed all the same
                await self.body_iterator.aclose()  # type: ignore[attr-defined]
                await self.rest.aclose()
            self.on_close()

    async def stream_response(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code,
                    "headers": self.raw_headers})
        sent = 0
        try:
            async for chunk in self.body_iterator:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                sent += len(chunk)
        except CctvError as err:
            log.warning("export %s failed after %d bytes; the transfer was cut off: %s",
                        self.what, sent, err)
            if self.abort is None:
                raise  # the server closes the connection without the last chunk all the same
            self.abort()
            return
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _chain(first: bytes, rest: AsyncGenerator[bytes, None]) -> AsyncGenerator[bytes, None]:
    if first:
        yield first
    async for chunk in rest:
        yield chunk


async def start(body: AsyncGenerator[bytes, None], what: str, headers: Mapping[str, str],
                on_close: Callable[[], None]) -> ClipResponse:
    """The response, once ffmpeg has made the clip's first bytes (or failed: CctvError)."""
    try:
        first = await anext(body, b"")
    except BaseException:
        with anyio.CancelScope(shield=True):
            await body.aclose()
        raise
    return ClipResponse(first, body, what, headers, on_close)
