"""The `[[alerts]]` tables of the config file: each a target (an Apprise URL) and what it wants."""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .alert import KINDS
from .rules import Quiet

KEYS = frozenset({"url", "events", "cameras", "quiet"})
_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


@dataclass(frozen=True)
class Target:
    index: int  # 1-based, in the file's order: how logs and `alerts test` name it
    url: str  # holds secrets: never logged
    events: frozenset[str]
    cameras: frozenset[str] | None  # None: every camera
    quiet: Quiet | None

    @property
    def kind(self) -> str:
        """The URL's scheme (`ntfys`, `mailtos`, `json` ...): safe to show, unlike the rest."""
        return self.url.partition("://")[0].lower() or "?"

    @property
    def name(self) -> str:
        return f"alerts[{self.index}] ({self.kind})"

    @property
    def id(self) -> str:
        """A stable name for its queue folder that gives nothing of the URL away."""
        return hashlib.sha256(self.url.encode()).hexdigest()[:16]


def load(config_file: Path | None) -> list[Target]:
    """The targets of the file's `[[alerts]]` tables; ConfigError naming the bad key."""
    if config_file is None:
        return []
    try:
        data = tomllib.loads(Path(config_file).read_text())
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(f"config file {config_file}: {err}") from None
    tables = data.get("alerts", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ConfigError(f"config file {config_file}: alerts must be tables, [[alerts]]")
    return [parse(i, table) for i, table in enumerate(tables, 1)]


def parse(index: int, table: dict[str, Any]) -> Target:
    where = f"setting 'alerts[{index}]"
    for key in table:
        if key not in KEYS:
            raise ConfigError(f"{where}.{key}': unknown (those are: {', '.join(sorted(KEYS))})")
    url = table.get("url")
    if not isinstance(url, str) or "://" not in url:
        raise ConfigError(f"{where}.url': give an Apprise URL such as ntfys://ntfy.sh/TOPIC")
    events = _names(table.get("events", list(KINDS)), f"{where}.events'")
    unknown = events - set(KINDS)
    if unknown:
        raise ConfigError(f"{where}.events': {', '.join(sorted(unknown))} unknown (those are:"
                          f" {', '.join(KINDS)})")
    cameras = _names(table["cameras"], f"{where}.cameras'") if "cameras" in table else None
    return Target(index, url, events, cameras, _quiet(table.get("quiet"), f"{where}.quiet'"))


def _names(value: Any, where: str) -> frozenset[str]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        raise ConfigError(f"{where}: give a list of names")
    return frozenset(str(i).strip() for i in items if str(i).strip())


def _quiet(value: Any, where: str) -> Quiet | None:
    """`22:00-07:00`: hours during which only offline, disk and security alerts go out."""
    if value in (None, ""):
        return None
    start, sep, end = str(value).partition("-")
    times = [_CLOCK.fullmatch(t.strip()) for t in (start, end)]
    if not sep or not all(times):
        raise ConfigError(f"{where}: {value!r} is not hours like 22:00-07:00")
    a, b = (int(m.group(1)) * 60 + int(m.group(2)) for m in times if m)
    return (a, b)
