"""How many password checks a client may have a minute: counted before the check, per address and account, per address, and per account from addresses it never signed in from; bounded in memory.

Why before: counting failures after the check let a crowd of requests sent at once all be checked
(100 at once for one account: 99 checked, the limit being 5). A check reserves its place in each
window first, atomically; a success gives it back. Why per pair: five failures from anywhere
locked the real user out everywhere. The account alone has a limit 20 times higher, and none for
an address the account signed in from lately, so an attacker elsewhere cannot lock that user out.
Every table is bounded (the least recently used key goes first) and a key carries a user name
already cut short, so a million unique names cost no more than a few.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from dataclasses import dataclass

WINDOW = 60.0  # seconds
LIMIT = 5  # checks a window, per address and account
PER_ADDRESS = 4  # times LIMIT: one address trying many accounts
PER_ACCOUNT = 20  # times LIMIT: one account tried from many addresses
MAX_KEYS = 20_000  # windows kept at most, the least recently used dropped
KNOWN_FOR = 30 * 86400.0  # seconds an address stays known after the account signed in from it
MAX_KNOWN = 20_000
NAME_MAX = 64  # characters of a user name (accounts.NAME); more is cut before anything else


def cut_name(name: str) -> str:
    """A user name as the limiter, the log and the password check see it: at most one character
    beyond the longest account name, so that it still matches none."""
    return name[:NAME_MAX + 1]


@dataclass(frozen=True)
class Verdict:
    """`wait` 0: reserved (give it back with `release` on success). Else the seconds to wait,
    the key that refused, and whether this is its first refusal of the window (audit that)."""

    wait: float
    key: str = ""
    first: bool = False


class Limiter:
    """Sliding windows of reserved checks, one per key; and the addresses each account used."""

    def __init__(self, limit: int = LIMIT, window: float = WINDOW, max_keys: int = MAX_KEYS):
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._windows: OrderedDict[str, _Window] = OrderedDict()
        self._known: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()
        self._swept = 0.0

    def keys(self, address: str, name: str, known: bool) -> list[tuple[str, int]]:
        """Pure: the keys a sign-in counts against, each with its limit."""
        account = cut_name(name).lower()
        keys = [(f"pair:{address}\0{account}", self.limit),
                (f"address:{address}", self.limit * PER_ADDRESS)]
        if not known:
            keys.append((f"account:{account}", self.limit * PER_ACCOUNT))
        return keys

    def reserve(self, keys: list[tuple[str, int]], now: float) -> Verdict:
        """Reserve one check in every key's window, or none if any is full."""
        with self._lock:
            self._sweep(now)
            for key, limit in keys:
                window = self._windows.get(key)
                if window is not None and (wait := window.wait(now, self.window, limit)) > 0:
                    first = window.limited_until <= now
                    window.limited_until = max(window.limited_until, now + wait)
                    return Verdict(wait, key, first)
            for key, _ in keys:
                self._window(key).times.append(now)
            return Verdict(0.0)

    def release(self, keys: list[tuple[str, int]], reserved_at: float) -> None:
        """Give back a reservation: the password was right, or was never checked."""
        with self._lock:
            for key, _ in keys:
                window = self._windows.get(key)
                if window is not None and reserved_at in window.times:
                    window.times.remove(reserved_at)

    def succeeded(self, name: str, address: str, now: float) -> None:
        """The account signed in from this address: it is known there from now on."""
        with self._lock:
            pair = (cut_name(name).lower(), address)
            self._known[pair] = now
            self._known.move_to_end(pair)
            while len(self._known) > MAX_KNOWN:
                self._known.popitem(last=False)

    def known(self, name: str, address: str, now: float) -> bool:
        with self._lock:
            when = self._known.get((cut_name(name).lower(), address))
            return when is not None and now - when < KNOWN_FOR

    def size(self) -> int:
        with self._lock:
            return len(self._windows) + len(self._known)

    def _sweep(self, now: float) -> None:
        """Once a window: the windows with nothing left in them, and addresses known too long."""
        if now - self._swept < self.window:
            return
        self._swept = now
        for key in [k for k, w in self._windows.items()
                    if w.wait(now, self.window, 1) == 0 and w.limited_until <= now]:
            del self._windows[key]
        for pair in [p for p, when in self._known.items() if now - when >= KNOWN_FOR]:
            del self._known[pair]

    def _window(self, key: str) -> _Window:
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = _Window(deque())
            while len(self._windows) > self.max_keys:
                self._windows.popitem(last=False)
        self._windows.move_to_end(key)
        return window


@dataclass
class _Window:
    times: deque[float]
    limited_until: float = 0.0

    def wait(self, now: float, window: float, limit: int) -> float:
        """Drops what left the window; the seconds until there is room (0: there is)."""
        while self.times and self.times[0] <= now - window:
            self.times.popleft()
        return self.times[0] + window - now if len(self.times) >= limit else 0.0
