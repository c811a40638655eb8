"""One frozen Settings object: defaults < TOML file < CCTV_* environment < command-line flags."""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str | int | float) -> float:
    """Seconds in `0`, `45`, `90m`, `2d`, `1h30m` (a bare number is seconds)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        if text < 0:
            raise ValueError("must not be negative")
        return float(text)
    value = str(text).strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    parts = _DURATION_PART.findall(value)
    if not parts or "".join(n + u for n, u in parts) != value:
        raise ValueError(f"{text!r} is not a duration like 90s, 90m, 48h or 2d")
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)


_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?")


def parse_size(text: str | int) -> int:
    """Bytes in `0`, `500MB`, `1GB`, `2GiB` (powers of 1024; a bare number is bytes)."""
    match = _SIZE.fullmatch(str(text).strip().lower())
    if not match:
        raise ValueError(f"{text!r} is not a size like 500MB or 1GB")
    number, unit = match.groups()
    return int(float(number) * 1024 ** " kmgt".index(unit or " "))


@dataclass(frozen=True)
class FreeSpace:
    """Free space to keep on a filesystem: a size, or a percentage of the filesystem's size."""

    size: int = 0
    percent: float = 0.0

    def of(self, total: int) -> int:
        """Bytes to keep free on a filesystem of `total` bytes."""
        return self.size if not self.percent else int(total * self.percent / 100)

    def __str__(self) -> str:
        return f"{self.percent:g}%" if self.percent else str(self.size)


def parse_free_space(text: str | int) -> FreeSpace:
    """`5%` of the filesystem, or a size (`10GB`, a bare number of bytes)."""
    value = str(text).strip()
    if not value.endswith("%"):
        return FreeSpace(size=parse_size(value))
    try:
        percent = float(value[:-1])
    except ValueError:
        raise ValueError(f"{text!r} is not a percentage like 5% or a size like 10GB") from None
    if not 0 <= percent < 100:
        raise ValueError("a percentage must be from 0% to below 100%")
    return FreeSpace(percent=percent)


def system_timezone() -> str:
    """The machine's IANA zone name (from TZ or /etc/localtime), else UTC."""
    env = os.environ.get("TZ", "").lstrip(":")
    if env and _zone_exists(env):
        return env
    try:
        target = os.path.realpath("/etc/localtime")
        name = target.split("zoneinfo/", 1)[1]
        if _zone_exists(name):
            return name
    except (OSError, IndexError):
        pass
    return "UTC"


def _zone_exists(name: str) -> bool:
    try:
        ZoneInfo(name)
        return True
    except (ZoneInfoNotFoundError, ValueError):
        return False


def _timezone(value: Any) -> str:
    name = str(value) or system_timezone()
    if not _zone_exists(name):
        raise ValueError(f"{name!r} is not an IANA time zone such as Europe/London")
    return name


def _port(value: Any) -> int:
    port = int(value)
    if not 0 <= port <= 65535:
        raise ValueError("must be 0..65535")
    return port


def _positive_int(value: Any) -> int:
    number = int(value)
    if number < 1:
        raise ValueError("must be at least 1")
    return number


def _host(value: Any) -> str:
    host = str(value).strip()
    if not host or any(c.isspace() or c in "/?#@" for c in host):
        raise ValueError(f"{value!r} is not an address or host name")
    return host


def _at_least_zero(value: Any) -> int:
    number = int(value)
    if number < 0:
        raise ValueError("must be 0 or more")
    return number


def _days(value: Any) -> int:
    text = str(value).strip().lower().removesuffix("d")
    if not text.isdigit():
        raise ValueError(f"{value!r} is not a number of days like 30 (0: no limit)")
    return int(text)


def _positive_duration(value: Any) -> float:
    seconds = parse_duration(value)
    if seconds <= 0:
        raise ValueError("must be longer than 0")
    return seconds


def _hosts(value: Any) -> tuple[str, ...]:
    """Host names a browser may use for this server: a list, or a comma-separated string."""
    items = value.split(",") if isinstance(value, str) else list(value)
    names = tuple(str(item).strip().lower().rstrip(".") for item in items if str(item).strip())
    for name in names:
        if name != "*" and not re.fullmatch(r"[a-z0-9_.:\[\]-]+", name):
            raise ValueError(f"{name!r} is not a host name or address (no scheme, path or port)")
    return names


def _choice(*allowed: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if str(value) not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return str(value)
    return parse


def _networks(value: Any) -> tuple[str, ...]:
    """Addresses or networks (`10.0.0.1`, `10.0.0.0/8`): a list, or a comma-separated string."""
    items = value.split(",") if isinstance(value, str) else list(value)
    found = tuple(str(item).strip() for item in items if str(item).strip())
    for item in found:
        ipaddress.ip_network(item, strict=False)  # ValueError names the bad one
    return found


def _optional_path(value: Any) -> Path | None:
    return Path(value).expanduser() if value not in (None, "") else None


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


def _optional_str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _percent(value: Any) -> float:
    number = float(value)
    if not 0 < number <= 100:
        raise ValueError("must be a percentage above 0 and at most 100")
    return number


def _rectangles(value: Any) -> tuple[tuple[float, float, float, float], ...]:
    """Rectangles `x,y,w,h` in percent of the picture: `"0,0,40,8; 80,0,20,30"`, or a list of
    4-number lists (TOML)."""
    if isinstance(value, str):
        items = [part.split(",") for part in value.split(";") if part.strip()]
    else:
        items = [list(item) for item in value]
    found = []
    for item in items:
        try:
            x, y, w, h = (float(str(n).strip()) for n in item)
        except ValueError:
            raise ValueError(f"{item!r} is not a rectangle x,y,w,h in percent, e.g. 0,0,40,8") from None
        if min(x, y) < 0 or min(w, h) <= 0 or x + w > 100 or y + h > 100:
            raise ValueError(f"rectangle {x:g},{y:g},{w:g},{h:g} is not inside the picture (0..100%)")
        found.append((x, y, w, h))
    return tuple(found)


@dataclass(frozen=True)
class Setting:
    """One row of the settings table: its name, default, parser and help."""

    name: str
    default: Any
    parse: Callable[[Any], Any]
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("root", None, _optional_path, "the recordings folder (one YYYY-MM-DD folder a day)"),
    Setting("state_dir", None, _optional_path, "where the catalog lives (default ROOT/.cctv)"),
    Setting("host", "127.0.0.1", _host, "address to listen on (loopback unless told otherwise)"),
    Setting("port", 8080, _port, "TCP port to listen on"),
    Setting("timezone", "", _timezone, "IANA zone of the day folders (default: the machine's)"),
    Setting("ffmpeg", None, _optional_str, "ffmpeg binary (default: PATH, else imageio-ffmpeg's)"),
    Setting("camera", "camera", str, "the name of the one camera --root serves (its export file names, its URL /cam/NAME/)"),
    Setting("rescan_interval", "60s", _positive_duration, "how often the catalog re-reads the root"),
    Setting("stable_seconds", "3s", parse_duration, "a segment unchanged this long, and not open for writing, is complete"),
    Setting("live_window", "3m", _positive_duration, "how much footage /live.m3u8 keeps"),
    Setting("settle", "48h", parse_duration, "wait after a day ends before it may be compacted"),
    Setting("quiet", "1h", parse_duration, "no segment may have arrived in a day this long before compaction"),
    Setting("compactor", True, _bool, "serve also runs the compactor in a background process"),
    Setting("codec", "hevc", str, "compaction codec: hevc, av1, h264 or copy"),
    Setting("preset", None, _optional_str, "encoder preset (default: the codec profile's)"),
    Setting("crf", None, lambda v: None if v in (None, "") else int(v), "encoder quality (default: the codec profile's)"),
    Setting("keyint", None, lambda v: None if v in (None, "") else parse_duration(v), "keyframe interval (default: the codec profile's)"),
    Setting("denoise", None, _optional_str, "denoise filter before encoding (e.g. hqdn3d), default none"),
    Setting("still_frames", "keep", _choice("keep", "drop"), "keep every frame, or drop the frames of a still scene (drop)"),
    Setting("jobs", 0, _at_least_zero, "encoders run at once, each on a chunk of the day (0 = one per core)"),
    Setting("quality_sample", True, _bool, "after each compaction, the SSIM of a few seconds of the video against its segments"),
    Setting("keep_free", "5%", parse_free_space, "free space to keep on each filesystem of recordings (a size or a percentage): retention deletes the oldest days below it, and compaction needs it beyond its output"),
    Setting("keep_days", 0, _days, "days of recordings to keep, today included; older days are deleted (0: no age limit)"),
    Setting("max_size", "0", parse_size, "a camera's recordings at most this size, the oldest days deleted beyond it (0: no limit)"),
    Setting("export_max", "24h", _positive_duration, "longest clip /export.mp4 will make"),
    Setting("export_jobs", 2, _positive_int, "exports made at once; more get 503 with Retry-After"),
    Setting("live_max_days", 31, _positive_int, "most days of recordings one playlist.php?live=1 may span"),
    Setting("header_timeout", "10s", _positive_duration, "a request's head must arrive within this, or the connection is closed"),
    Setting("send_timeout", "60s", _positive_duration, "a client that reads nothing of a response for this long is disconnected"),
    Setting("max_connections", 1000, _positive_int, "open connections at most (lowered to fit the open-file limit)"),
    Setting("allowed_hosts", (), _hosts, "more Host names the server answers to, besides its own"),
    Setting("auth", "accounts", _choice("accounts", "none"), "accounts: once one exists every route needs a credential; none: open on every address (warned)"),
    Setting("session_idle", "12h", _positive_duration, "a browser session unused this long ends"),
    Setting("session_max", "30d", _positive_duration, "a browser session ends this long after sign-in, however busy"),
    Setting("trusted_proxies", (), _networks, "reverse proxies whose X-Forwarded-For/-Proto headers are believed"),
    Setting("tls_cert", None, _optional_path, "a certificate (PEM) to serve HTTPS directly, without a proxy"),
    Setting("tls_key", None, _optional_path, "the private key (PEM) of tls_cert"),
    Setting("public_url", None, _optional_str, "the server's address as others reach it, for share links (e.g. https://cctv.example.org)"),
    Setting("upload_max", "64MB", parse_size, "largest segment PUT /upload/... accepts (413 beyond)"),
    Setting("upload_backlog", "7d", _positive_duration, "how far back an uploaded segment's day may be (422 beyond)"),
    Setting("transcode_cache", "2GB", parse_size, "disk kept for the H.264 rendition of compacted days (per camera)"),
    Setting("transcode_jobs", 0, _at_least_zero, "fragments re-encoded to H.264 at once, per camera (0 = half the cores)"),
    Setting("metrics_token", None, _optional_str, "a bearer token that may read /metrics (without it, only loopback requests may)"),
    # --- activity (activity/, docs/activity.md) ---
    Setting("activity", True, _bool, "measure how much of the picture changes each second, and find events (off: none for this camera)"),
    Setting("activity_threshold", 1.0, _percent, "an event is activity above this percent of the picture changed in a second"),
    Setting("activity_mask", (), _rectangles, "areas to ignore (a tree, the clock overlay): rectangles x,y,w,h in percent of the picture, separated by ;"),
)
_BY_NAME = {s.name: s for s in SETTINGS}
# Old names still accepted for a setting: `min_free` was the compactor's own headroom, now the
# one `keep_free` that retention keeps too (given in an old config file or environment).
ALIASES = {"min_free": "keep_free"}


@dataclass(frozen=True)
class Settings:
    """Validated settings; build with `load()`."""

    root: Path | None
    state_dir: Path | None
    host: str
    port: int
    timezone: str
    ffmpeg: str | None
    camera: str
    rescan_interval: float
    stable_seconds: float
    live_window: float
    settle: float
    quiet: float
    compactor: bool
    codec: str
    preset: str | None
    crf: int | None
    keyint: float | None
    denoise: str | None
    still_frames: str
    jobs: int
    quality_sample: bool
    keep_free: FreeSpace
    keep_days: int
    max_size: int
    export_max: float
    export_jobs: int
    live_max_days: int
    header_timeout: float
    send_timeout: float
    max_connections: int
    allowed_hosts: tuple[str, ...]
    auth: str
    session_idle: float
    session_max: float
    trusted_proxies: tuple[str, ...]
    tls_cert: Path | None
    tls_key: Path | None
    public_url: str | None
    upload_max: int
    upload_backlog: float
    transcode_cache: int
    transcode_jobs: int
    metrics_token: str | None
    activity: bool
    activity_threshold: float
    activity_mask: tuple[tuple[float, float, float, float], ...]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def catalog_path(self) -> Path:
        assert self.root is not None
        return (self.state_dir or self.root / ".cctv") / "catalog.sqlite3"

    def with_root(self, root: Path) -> Settings:
        return dataclasses.replace(self, root=root)


def load(
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> Settings:
    """Merge the layers in order of precedence and validate every value, naming a bad key."""
    raw: dict[str, Any] = {s.name: s.default for s in SETTINGS}
    raw.update(_from_file(config_file) if config_file else {})
    raw.update(_from_env(os.environ if env is None else env))
    raw.update(_unalias({k: v for k, v in (flags or {}).items() if v is not None}))
    return Settings(**{name: _parse(name, value) for name, value in raw.items()})


def _unalias(layer: dict[str, Any]) -> dict[str, Any]:
    """A layer's old names as their new ones; the new name wins when a layer gives both."""
    found = dict(layer)
    for old, new in ALIASES.items():
        if old in found:
            value = found.pop(old)
            found.setdefault(new, value)
    return found


def _parse(name: str, value: Any, key: str | None = None) -> Any:
    """The value of setting `name`; a ConfigError names `key` (default: the name) when it is bad."""
    try:
        return _BY_NAME[name].parse(value)
    except (ValueError, TypeError) as err:
        raise ConfigError(f"setting {key or name!r}: {err}") from None


parse = _parse  # for the per-camera tables (cameras.py), which name their keys cameras.NAME.key


def _from_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(Path(path).read_text())
    except OSError as err:
        raise ConfigError(f"config file {path}: {err.strerror}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"config file {path}: {err}") from None
    flat = {k: v for k, v in data.items() if not isinstance(v, dict)}
    for name, table in data.items():  # [server], [compactor] ... are just grouping
        if isinstance(table, dict) and name != "cameras":  # [cameras.NAME]: cameras.py
            flat.update(table)
    for key in flat:
        if key not in _BY_NAME and key not in ALIASES:
            raise ConfigError(f"config file {path}: unknown setting {key!r}")
    return _unalias(flat)


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    found = {}
    for key, value in env.items():
        if not key.startswith("CCTV_"):
            continue
        name = key[5:].lower()
        if name not in _BY_NAME and name not in ALIASES:
            raise ConfigError(f"environment variable {key}: unknown setting {name!r}")
        found[name] = value
    return _unalias(found)


def explicit(env: Mapping[str, str] | None = None, flags: Mapping[str, Any] | None = None) -> set[str]:
    """The settings the environment or the flags give: they outrank the file, and so every
    camera's table in it (cameras.py)."""
    env = os.environ if env is None else env
    named = {k[5:].lower() for k in env if k.startswith("CCTV_")}
    named |= {k for k, v in (flags or {}).items() if v is not None}
    return {ALIASES.get(k, k) for k in named} & set(_BY_NAME)
