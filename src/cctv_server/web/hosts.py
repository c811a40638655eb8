"""The Host allowlist: with no accounts, the footage is guarded by answering only to this
server's own names, so that a web page cannot read it through DNS rebinding.

A rebinding page at `http://evil.example:8080/` makes its name resolve to this server and then
reads it as same-origin: the browser still sends `Host: evil.example`. Refusing unknown names
stops it. An address typed as such (`http://192.168.1.20:8080/`) is not a rebinding; it is
allowed when the connection really arrived at that address.
"""

from __future__ import annotations

import ipaddress
import socket

from starlette.types import ASGIApp, Receive, Scope, Send

OPEN_PATHS = {"/healthz"}  # readiness only, no footage: monitors may use any name or address
LOOPBACK = {"localhost", "127.0.0.1", "::1"}
WILDCARDS = {"", "0.0.0.0", "::"}


def own_names(listen_host: str, allowed: tuple[str, ...]) -> frozenset[str]:
    """The names a browser may use for this server: loopback, the listen address, this
    machine's host names, and `allowed_hosts`."""
    names = set(LOOPBACK) | {h.lower().strip("[]") for h in allowed}
    if listen_host not in WILDCARDS:
        names.add(listen_host.lower().strip("[]"))
    # Not getfqdn(): a reverse lookup can hang start-up for seconds when DNS is broken; a
    # longer name goes in allowed_hosts.
    hostname = socket.gethostname().lower()
    short = hostname.split(".")[0]
    names |= {hostname, short, short + ".local"}
    return frozenset(n.rstrip(".") for n in names if n)


def host_name(header: str) -> str:
    """The name or address of a Host header, without its port or IPv6 brackets, lowercase."""
    value = header.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value
    name, _, _ = value.partition(":")
    return name.rstrip(".")


def allowed(header: str | None, names: frozenset[str], local_address: str | None) -> bool:
    """Pure: may a request with this Host header be answered?"""
    if header is None or "*" in names:
        return True  # no browser leaves Host out: no page can have made this request
    name = host_name(header)
    if name in names:
        return True
    return _is_address(name) and local_address is not None and _same_address(name, local_address)


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


def _same_address(a: str, b: str) -> bool:
    first, second = ipaddress.ip_address(a), ipaddress.ip_address(b)
    mapped = getattr(second, "ipv4_mapped", None)  # a dual-stack socket sees ::ffff:1.2.3.4
    return first == second or (mapped is not None and first == mapped)


class HostCheck:
    """ASGI middleware: 421 with a one-line reason for a Host that is not one of ours."""

    def __init__(self, app: ASGIApp, names: frozenset[str]):
        self.app = app
        self.names = names

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            return await self.app(scope, receive, send)
        header = _header(scope, b"host")
        server = scope.get("server")
        if allowed(header, self.names, server[0] if server else None):
            return await self.app(scope, receive, send)
        reason = (f"this server does not answer to the name {host_name(header or '')!r}: "
                  "add it to allowed_hosts if it is really this server's\n").encode()
        await send({"type": "http.response.start", "status": 421, "headers": [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(reason)).encode())]})
        await send({"type": "http.response.body", "body": reason})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def is_loopback(host: str) -> bool:
    """Whether an address (or `localhost`) is this machine's alone."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
