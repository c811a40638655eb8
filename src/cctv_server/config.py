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


def _quota(value: Any) -> int:
    """`auto` (0), or a size above 0."""
    if str(value).strip().lower() in ("auto", "0", ""):
        return 0
    return _positive_size(value)


def _positive_size(value: Any) -> int:
    size = parse_size(value)
    if size <= 0:
        raise ValueError("must be more than 0")
    return size


def _positive_float(value: Any) -> float:
    number = float(value)
    if not number > 0:
        raise ValueError("must be more than 0")
    return number


def _archive_url(value: Any) -> str | None:
    if value in (None, "", "none"):
        return None
    text = str(value).strip().rstrip("/")
    if not re.fullmatch(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/\S*)?|file:///\S+", text):
        raise ValueError(f"{value!r} is not s3://BUCKET/PREFIX or file:///PATH")
    return text


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
    # Uploads that no token may turn into deletions (issue 21): a daily quota, a sane bitrate.
    Setting("upload_quota", "auto", _quota, "bytes a camera may upload into one day, and in any 24 hours (507 beyond); auto: 4 times its busiest recent day, at most upload_quota_max"),
    Setting("upload_quota_max", "500GB", _positive_size, "the automatic upload_quota at most, and a new camera's (no recent day to go by)"),
    Setting("upload_max_mbps", 200, _positive_float, "an uploaded segment of more Mbit/s than this for its footage's duration, or mostly filler, is refused (422)"),
    # alerts ([[alerts]] tables give the targets) and Home Assistant
    Setting("offline_after", "10m", _positive_duration, "a camera with no new segment this long raises an offline alert (per camera)"),
    Setting("activity_alert_every", "5m", parse_duration, "at most one activity alert per camera this often"),
    Setting("mqtt", None, _optional_str, "an MQTT broker for Home Assistant: mqtt://user:pass@host:1883 or mqtts://... (default: none)"),
    Setting("mqtt_discovery_prefix", "homeassistant", str, "Home Assistant's MQTT discovery prefix"),
    Setting("mqtt_topic", "cctv-server", str, "the topic under which this server publishes its cameras' state"),
    # Compaction of a day that keeps failing: stop retrying it, say so, keep its segments.
    Setting("compaction_retries", 3, _at_least_zero, "failed compactions of a day before the compactor stops retrying it (0: retry for ever)"),
    # The archive: compacted days moved to an object store (docs/storage.md).
    Setting("archive", None, lambda v: _archive_url(v), "where compacted days move: s3://BUCKET/PREFIX (or file:///PATH); none by default: they stay on the disk"),
    Setting("archive_endpoint", None, _optional_str, "the S3-compatible store's URL (e.g. https://s3.eu-central-003.backblazeb2.com); default: AWS"),
    Setting("archive_after", "7d", parse_duration, "a compacted day this long after it ended moves to the archive (0: as soon as it is compacted)"),
    Setting("archive_serve", "presign", _choice("presign", "proxy"), "archived bytes reach players by a 302 to a short-lived presigned URL (presign), or through the server (proxy)"),
    # Against abuse of the web server (issue 21): bodies, sign-in, the audit log.
    Setting("form_max", "64KB", parse_size, "largest body a form or other non-upload request may send (413 beyond, before a byte is read)"),
    Setting("sign_in_limit", 5, _positive_int, "failed sign-ins a minute per address and account (429 beyond); 4x that per address, 20x per account from unknown addresses"),
    Setting("sign_in_jobs", 2, _positive_int, "passwords checked at once (Argon2id, 64 MiB each); the rest wait sign_in_wait, then 503"),
    Setting("sign_in_wait", "5s", _positive_duration, "how long a sign-in waits for a password check to be free before 503 with Retry-After"),
    Setting("audit_max", "10MB", parse_size, "the audit log is rotated at this size"),
    Setting("audit_keep", 5, _positive_int, "rotated audit logs kept (audit.log.1 ...), the oldest deleted"),
    # Compaction across machines (tasks/): chunks as tasks on a broker, `cctv-server worker`s.
    Setting("broker", None, _optional_str, "a Dramatiq broker on Redis (redis://HOST:6379/0): each chunk of a compaction becomes a task that `cctv-server worker`s encode; unset: chunks are encoded in-process"),
    Setting("broker_namespace", "cctv", str, "prefix of the broker's Redis keys (servers sharing one Redis each need their own)"),
    Setting("worker_timeout", "60s", _positive_duration, "a worker silent this long is taken for dead, and its chunk goes to another"),
    Setting("chunk_retries", 3, _at_least_zero, "a chunk retried more than this many times fails its day's compaction (segments kept)"),
    Setting("chunk_seconds", "10m", _positive_duration, "footage in one task's chunk, when a broker is set"),
    Setting("server_url", None, _optional_str, "a worker's server: where it fetches segments and sends chunks (http://HOST:8080)"),
    Setting("token_file", None, _optional_path, "a file holding a worker's token (cctv-server token add --worker NAME)"),
    # --- activity (activity/, docs/activity.md) ---
    Setting("activity", True, _bool, "measure how much of the picture changes each second, and find events (off: none for this camera)"),
    Setting("activity_threshold", 1.0, _percent, "an event is activity above this percent of the picture changed in a second, for two seconds or more"),
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
    upload_quota: int  # 0: automatic (upload/limits.py)
    upload_quota_max: int
    upload_max_mbps: float
    offline_after: float
    activity_alert_every: float
    mqtt: str | None
    mqtt_discovery_prefix: str
    mqtt_topic: str
    compaction_retries: int
    archive: str | None
    archive_endpoint: str | None
    archive_after: float
    archive_serve: str
    form_max: int
    sign_in_limit: int
    sign_in_jobs: int
    sign_in_wait: float
    audit_max: int
    audit_keep: int
    broker: str | None
    broker_namespace: str
    worker_timeout: float
    chunk_retries: int
    chunk_seconds: float
    server_url: str | None
    token_file: Path | None
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
    """The value of setting `name`; a ConfigError names `key` (default: the name) when it is
    bad, and says in plain words what kind of value it takes when the value is of the wrong kind."""
    kind = _kind(name)
    if kind is not None and _wrong_kind(value, kind[1]):
        raise ConfigError(f"setting {key or name!r}: takes {kind[0]}, not {_described(value)}")
    try:
        return _BY_NAME[name].parse(value)
    except (ValueError, TypeError) as err:
        text = str(err)
        if kind is not None and (isinstance(err, TypeError) or "invalid literal" in text
                                 or "could not convert" in text):
            text = f"takes {kind[0]}, not {_described(value)}"
        raise ConfigError(f"setting {key or name!r}: {text}") from None


_WHOLE = ("a whole number, like 8", (int, str))
_DURATION = ("a duration, like 90s, 10m, 48h or 2d", (int, float, str))
_TEXT = ("text in quotes", (str,))
# What kind of value each parser takes, said in plain words; a wrong kind is refused before
# the parser sees it (int() would quietly take 8080.5 as 8080, str() would take a list).
_KINDS: dict[Any, tuple[str, tuple[type, ...]]] = {
    int: _WHOLE, _port: _WHOLE, _positive_int: _WHOLE, _at_least_zero: _WHOLE,
    _days: ("a number of days, like 30", (int, str)),
    _bool: ("true or false", (bool, str)),
    parse_duration: _DURATION, _positive_duration: _DURATION,
    parse_size: ("a size, like 500MB or 2GB", (int, str)),
    parse_free_space: ("a size or a percentage, like 10GB or 5%", (int, str)),
    _hosts: ("a list of names, like [\"cctv.example.org\"]", (list, tuple, str)),
    _networks: ("a list of addresses, like [\"10.0.0.1\"]", (list, tuple, str)),
    str: _TEXT, _optional_str: _TEXT, _optional_path: ("a path in quotes", (str, os.PathLike)),
    _timezone: ("a time zone in quotes, like \"Europe/London\"", (str,)), _host: _TEXT,
}
_KINDS_BY_NAME = {"crf": ("a whole number, like 28", (int, str, type(None))),
                  "keyint": (_DURATION[0], (*_DURATION[1], type(None)))}


def _kind(name: str) -> tuple[str, tuple[type, ...]] | None:
    if name in _KINDS_BY_NAME:
        return _KINDS_BY_NAME[name]
    found = _KINDS.get(_BY_NAME[name].parse)
    if found is not None and _BY_NAME[name].default is None:
        return found[0], (*found[1], type(None))
    return found


def _wrong_kind(value: Any, kinds: tuple[type, ...]) -> bool:
    return not isinstance(value, kinds) or isinstance(value, bool) and bool not in kinds


def _described(value: Any) -> str:
    """A value as a person reads it: `the text 'abc'`, `the decimal number 8080.5`, `a list`."""
    if isinstance(value, bool):
        return f"{str(value).lower()} (a yes/no value)"
    if isinstance(value, int):
        return f"the whole number {value}"
    if isinstance(value, float):
        return f"the decimal number {value:g}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def suggestion(name: str, known) -> str:
    """`; did you mean 'keep_days'?` for the known name nearest to `name`, or nothing."""
    import difflib

    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def toml_error(path: Path, err: tomllib.TOMLDecodeError) -> ConfigError:
    """A TOML syntax error as the file, the line and a hint: most are a text value without quotes."""
    line = getattr(err, "lineno", None)
    if line is None:
        found = re.search(r"at line (\d+)", str(err))
        line = int(found.group(1)) if found else None
    reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", getattr(err, "msg", str(err)))
    where = f"{path}, line {line}" if line else str(path)
    return ConfigError(f"config file {where}: {reason}; text needs quotes (name = \"value\"),"
                       " numbers and true/false do not")


parse = _parse  # for the per-camera tables (cameras.py), which name their keys cameras.NAME.key


def _from_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(Path(path).read_text())
    except OSError as err:
        raise ConfigError(f"config file {path}: {err.strerror}") from None
    except tomllib.TOMLDecodeError as err:
        raise toml_error(path, err) from None
    # [[alerts]] tables are targets, read by alerts/targets.py
    flat = {k: v for k, v in data.items() if not isinstance(v, dict) and k != "alerts"}
    for name, table in data.items():  # [server], [compactor] ... are just grouping
        if isinstance(table, dict) and name != "cameras":  # [cameras.NAME]: cameras.py
            flat.update(table)
    for key in flat:
        if key not in _BY_NAME and key not in ALIASES:
            raise ConfigError(f"config file {path}: unknown setting {key!r}"
                              + suggestion(key, [*_BY_NAME, "cameras"]))
    return _unalias(flat)


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    found = {}
    for key, value in env.items():
        if not key.startswith("CCTV_"):
            continue
        name = key[5:].lower()
        if name not in _BY_NAME and name not in ALIASES:
            raise ConfigError(f"environment variable {key}: unknown setting {name!r}"
                              + suggestion(name, _BY_NAME))
        found[name] = value
    return _unalias(found)


def explicit(env: Mapping[str, str] | None = None, flags: Mapping[str, Any] | None = None) -> set[str]:
    """The settings the environment or the flags give: they outrank the file, and so every
    camera's table in it (cameras.py)."""
    env = os.environ if env is None else env
    named = {k[5:].lower() for k in env if k.startswith("CCTV_")}
    named |= {k for k, v in (flags or {}).items() if v is not None}
    return {ALIASES.get(k, k) for k in named} & set(_BY_NAME)
