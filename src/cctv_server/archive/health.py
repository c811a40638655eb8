"""Is each camera's store usable now? One bucket check per store, remembered for a short while.

`/healthz` asks on every request, so a check is reused for `FRESH` seconds (a store that is down
costs a timeout once, not at each poll); a failed move notes its reason here too, so that the
process that moved knows at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from ..cameras import Camera
from ..errors import CctvError
from ..storage.base import ObjectMissing, open_store

FRESH = 30.0  # seconds a check's answer is reused
_known: dict[str, tuple[float, str | None]] = {}  # store URL -> (when, problem or None)
_checking: set[str] = set()
_lock = threading.Lock()


def note(url: str, problem: str) -> None:
    with _lock:
        _known[url] = (time.monotonic(), problem)


def clear(url: str) -> None:
    with _lock:
        _known[url] = (time.monotonic(), None)


def problem(url: str, endpoint: str | None, fresh: float = FRESH) -> str | None:
    """Why the store cannot be used now; None when it answers (a check every `fresh` s)."""
    with _lock:
        found = _known.get(url)
    if found is not None and time.monotonic() - found[0] < fresh:
        return found[1]
    try:
        open_store(url, endpoint).check()
        why = None
    except ObjectMissing as err:
        why = str(err)
    except CctvError as err:
        why = str(err)
    with _lock:
        _known[url] = (time.monotonic(), why)
    return why


def problem_now(url: str, endpoint: str | None, fresh: float = FRESH) -> str | None:
    """The last known answer at once (for /healthz, which must not wait on a store that is
    down), a check started in a thread when it is older than `fresh`."""
    with _lock:
        found = _known.get(url)
        stale = found is None or time.monotonic() - found[0] >= fresh
        start = stale and url not in _checking
        if start:
            _checking.add(url)
    if start:
        threading.Thread(target=_refresh, args=(url, endpoint, fresh), daemon=True).start()
    return None if found is None else found[1]


def _refresh(url: str, endpoint: str | None, fresh: float) -> None:
    try:
        problem(url, endpoint, 0)
    finally:
        with _lock:
            _checking.discard(url)


def problems(cameras: Sequence[Camera], fresh: float = FRESH) -> dict[str, str]:
    """Camera name -> why its store cannot be used, for the cameras with one that cannot."""
    found = {}
    for camera in cameras:
        s = camera.settings
        if s.archive:
            why = problem(s.archive, s.archive_endpoint, fresh)
            if why:
                found[camera.name] = why
    return found
