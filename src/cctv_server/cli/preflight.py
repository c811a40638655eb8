"""serve's start-up checks of what only this machine can tell (is the address ours, is the port
free, can the state folder be written), each refused with the setting named before anything
starts."""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

from ..access.service import Access
from ..cameras import server_state_dir
from ..config import Settings
from ..errors import ConfigError
from ..web.hosts import is_loopback

BACKLOG = 2048  # as uvicorn's default: a burst of connections waits rather than being reset
DISK_FULL = {errno.ENOSPC, errno.EDQUOT}  # not a bad setting: the server starts read-only


def state_dir(settings: Settings) -> Path:
    """The catalog's folder, made if missing; ConfigError when it cannot be written."""
    folder = settings.catalog_path.parent
    name = "setting 'state_dir'" + ("" if settings.state_dir else " (default ROOT/.cctv)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        if err.errno in DISK_FULL:
            return folder
        raise ConfigError(f"{name}: cannot make {folder}: {err.strerror}") from None
    for path in (folder, settings.catalog_path):
        if path.exists() and not os.access(path, os.W_OK | (os.X_OK if path.is_dir() else 0)):
            raise ConfigError(f"{name}: {path} is not writable by this user"
                              f"{' (a read-only filesystem)' if _read_only(path) else ''}")
    return folder


def _read_only(path: Path) -> bool:
    return bool(os.statvfs(path).f_flag & os.ST_RDONLY)


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on host:port; ConfigError naming `host` or `port` if it cannot be."""
    sock = None
    try:
        family, kind, proto, _, address = _address(host, port)
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
        return sock
    except OSError as err:
        if sock is not None:
            sock.close()
        raise ConfigError(_bind_error(host, port, err)) from None


def _address(host: str, port: int) -> tuple:
    """Where to listen: an IPv4 address first when a name has both (as uvicorn would)."""
    try:
        found = socket.getaddrinfo(host, port, socket.AF_UNSPEC, socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as err:
        reason = err.strerror if isinstance(err, socket.gaierror) else str(err)
        raise ConfigError(f"setting 'host': {host!r} is not an address or a name this "
                          f"machine resolves ({reason})") from None
    return sorted(found, key=lambda info: info[0] != socket.AF_INET)[0]


def _bind_error(host: str, port: int, err: OSError) -> str:
    if err.errno == errno.EADDRINUSE:
        return f"setting 'port': {port} is already in use on {host}"
    if err.errno == errno.EADDRNOTAVAIL:
        return f"setting 'host': {host} is not an address of this machine"
    if err.errno == errno.EACCES:
        return f"setting 'port': listening on {port} needs privileges this user lacks"
    return f"settings 'host' and 'port': cannot listen on {host}:{port}: {err.strerror}"


def accounts_before_network(settings: Settings, cameras) -> None:
    """Beyond loopback, footage needs accounts: refuse to listen there before the first exists,
    unless `auth = "none"` says the server is meant to be open."""
    if settings.auth == "none" or is_loopback(settings.host):
        return
    if not Access(server_state_dir(settings, cameras), settings.tz).any_account():
        raise ConfigError(
            f"setting 'host': {settings.host} is reachable from other machines and there is no"
            " account yet: add one first (cctv-server user add NAME --role admin), or set"
            " auth = \"none\" to serve everyone")


def tls(settings: Settings) -> dict:
    """uvicorn's certificate options; both files named, readable, or neither."""
    if settings.tls_cert is None and settings.tls_key is None:
        return {}
    for key in ("tls_cert", "tls_key"):
        path = getattr(settings, key)
        if path is None or not path.is_file():
            raise ConfigError(f"setting {key!r}: {path or 'missing'} is not a readable file"
                              " (HTTPS needs tls_cert and tls_key)")
    return {"ssl_certfile": str(settings.tls_cert), "ssl_keyfile": str(settings.tls_key)}
