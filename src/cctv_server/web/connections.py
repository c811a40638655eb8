"""HTTP connections with limits: a deadline for each request's head, a cap on open connections,
and no client that stops reading may hold a response (or the ffmpeg making it) for long.

Why a subclass of uvicorn's httptools protocol: uvicorn has `limit_concurrency`, which answers 503
to everyone once slow clients hold the slots (the denial of service we are preventing), and
`timeout_keep_alive`, which only runs between requests and is cancelled by the first byte of the
next one; nothing bounds how long a request's head may take. The protocol object sees each
connection from accept to close, the parser's callbacks and the transport's flow control, so
each limit is a timer or a count here: no proxy in front of the app, no second event loop.
httptools comes with uvicorn[standard], and uvicorn picks it by default whenever it is installed.
"""

from __future__ import annotations

import asyncio
import logging
import resource

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from . import headers

log = logging.getLogger(__name__)

ABORT = "cctv.abort"  # scope["extensions"][ABORT](): drop the connection, the response unfinished
FDS_PER_CONNECTION = 2  # its socket, and the file being sent on it
RESERVED_FDS = 200  # the catalog (three files per worker thread), inotify, ffmpeg's pipes, logs
RECOVERED = 0.9  # below this share of the limit, reaching it again is logged again
BUSY = (b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n"
        + headers.raw() +  # as on every other answer
        b"retry-after: 5\r\nconnection: close\r\ncontent-length: 42\r\n\r\n"
        b"too many connections are busy: retry soon\n")


class ConnectionLimits:
    """What the connections of one server share: the limits, the open connections in order of
    arrival, and whether the cap is reached (logged once, not once per connection)."""

    def __init__(self, header_timeout: float, send_timeout: float, max_connections: int):
        self.header_timeout = header_timeout
        self.send_timeout = send_timeout
        self.max_connections = max_connections
        self.open: dict[LimitedHttp, None] = {}  # insertion order: the oldest first
        self.at_limit = False
        self.closed = 0  # idle connections closed to make room, since the limit was reached
        self.refused = 0  # connections refused because every open one was busy

    def admit(self, conn: LimitedHttp) -> bool:
        """Make room for a new connection by closing the longest-open one that is not being
        answered (a slow or half-sent request, an idle keep-alive); False when all are busy."""
        if len(self.open) >= self.max_connections:
            self._reached()
            idle = next((c for c in self.open if c.idle), None)
            if idle is None:
                self.refused += 1
                return False
            idle.drop()
            self.closed += 1
        self.open[conn] = None
        return True

    def leave(self, conn: LimitedHttp) -> None:
        self.open.pop(conn, None)
        if self.at_limit and len(self.open) < self.max_connections * RECOVERED:
            self.at_limit = False
            log.info("open connections are below max_connections (%d) again: %d idle ones were "
                     "closed to make room, %d refused", self.max_connections, self.closed,
                     self.refused)

    def _reached(self) -> None:
        if not self.at_limit:
            self.at_limit = True
            self.closed = self.refused = 0
            log.warning("%d connections are open, the limit (max_connections): the longest-open "
                        "idle ones are closed to make room, new ones refused while all are busy",
                        self.max_connections)


class LimitedHttp(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol, under ConnectionLimits (see the module's docstring)."""

    limits: ConnectionLimits  # set on the subclass that `protocol` makes

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None  # for the request's head
        self._unsent = 0  # bytes of the last response not yet taken, when the deadline was set
        self._stall: asyncio.TimerHandle | None = None  # while the client reads nothing

    @property
    def idle(self) -> bool:
        """Not answering a request: waiting for one, or for the rest of its head."""
        return self.cycle is None or self.cycle.response_complete

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if not self.limits.admit(self):
            transport.write(BUSY)
            transport.close()
            return
        self._arm_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self.limits.leave(self)
        self._cancel()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.scope["extensions"] = {ABORT: self.abort}  # type: ignore[typeddict-unknown-key]

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm("_deadline")
        if self.cycle is None or self.cycle.response_complete:  # a request answered already
            self._arm_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.pipeline and self.idle:
            # Also when the connection is closing: it may still be sending to a stalled reader.
            self._arm_deadline()

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._stall is None:
            self._stall = self.loop.call_later(self.limits.send_timeout, self._stalled)

    def resume_writing(self) -> None:
        super().resume_writing()
        self._disarm("_stall")

    def drop(self) -> None:
        """Close at once to make room: the client was sending nothing worth waiting for."""
        self.limits.leave(self)
        self.abort()

    def abort(self) -> None:
        """Close at once, unsent bytes and all: a response cut short is seen as a failed
        transfer (no final chunk), never as a complete one."""
        self._cancel()
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True  # as connection_lost will, so the app stops now
            self.cycle.message_event.set()
        self.flow.resume_writing()
        self.transport.abort()

    def _arm_deadline(self, seconds: float | None = None) -> None:
        self._disarm("_deadline")
        self._unsent = self.transport.get_write_buffer_size()
        self._deadline = self.loop.call_later(seconds or self.limits.header_timeout,
                                              self._too_slow)

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.idle:
            return
        unsent = self.transport.get_write_buffer_size()
        if unsent and unsent < self._unsent:  # the last response's tail is still being read
            self._arm_deadline(self.limits.send_timeout)
            return
        self.abort()

    def _stalled(self) -> None:
        self._stall = None
        what = f'{self.scope["method"]} {self.scope["path"]}' if self.scope else "a response"
        log.warning("client %s read nothing of %s for %g s: disconnected",
                    _client(self.client), what, self.limits.send_timeout)
        self.abort()

    def _disarm(self, name: str) -> None:
        timer = getattr(self, name)
        if timer is not None:
            timer.cancel()
            setattr(self, name, None)

    def _cancel(self) -> None:
        self._disarm("_deadline")
        self._disarm("_stall")


def protocol(limits: ConnectionLimits) -> type[LimitedHttp]:
    """The protocol class to give uvicorn (`http=`): one per server, sharing its limits."""
    return type("LimitedHttp", (LimitedHttp,), {"limits": limits})


def fit_file_limit(wanted: int) -> int:
    """max_connections as the open-file limit allows: the soft limit is raised towards the hard
    one when needed; if that is still too low, fewer connections (with one log line)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = wanted * FDS_PER_CONNECTION + RESERVED_FDS
    if soft != resource.RLIM_INFINITY and soft < need:
        raised = need if hard == resource.RLIM_INFINITY else min(need, hard)
        if raised > soft:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
    if soft == resource.RLIM_INFINITY:
        return wanted
    fits = max(1, (soft - RESERVED_FDS) // FDS_PER_CONNECTION)
    if fits < wanted:
        log.warning("max_connections lowered from %d to %d to fit the open-file limit of %d "
                    "(raise it: LimitNOFILE in the systemd unit, ulimit -n)", wanted, fits, soft)
    return min(wanted, fits)


def _client(address: tuple[str, int] | None) -> str:
    return f"{address[0]}:{address[1]}" if address else "?"
