"""The cameras one server serves: `[cameras.NAME]` tables or `--camera NAME=ROOT`, each a root with its overrides.

Every camera gets a whole Settings object: the server's, with its own root, name and per-camera
overrides, so that everything written for one root (catalog, playlists, compactor) works for
each camera unchanged. `--root ROOT` alone is one camera named by the `camera` setting.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import config
from .config import Settings
from .errors import ConfigError

NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
# What a camera may set for itself; the rest (host, port, jobs ...) belongs to the server.
OVERRIDES = frozenset({
    "root", "state_dir", "timezone", "codec", "preset", "crf", "keyint", "denoise", "settle",
    "quiet", "stable_seconds", "live_window", "quality_sample", "export_max", "still_frames",
    "keep_days", "max_size", "keep_free",
    "upload_quota", "upload_quota_max", "upload_max_mbps", "offline_after",
    "archive", "archive_endpoint", "archive_after", "archive_serve",
    "activity", "activity_threshold", "activity_mask",
})
STATE = ".cctv"  # a root's own state folder (its catalog), unless state_dir says otherwise


@dataclass(frozen=True)
class Camera:
    name: str
    settings: Settings

    @property
    def root(self) -> Path:
        assert self.settings.root is not None
        return self.settings.root


def load(settings: Settings, config_file: Path | None = None, flags: Sequence[str] = (),
         explicit: Sequence[str] = ()) -> list[Camera]:
    """The cameras of the config file's tables and the `--camera NAME=ROOT` flags (a flag's root
    wins over the file's), or the one camera `root` names; ConfigError naming the bad key.
    `explicit` names the settings given by environment or flag: they outrank every table, as
    they outrank the file."""
    tables = _tables(config_file) if config_file else {}
    for spec in flags:
        name, root = _flag(spec)
        tables.setdefault(name, {})["root"] = root
    if not tables:
        return [] if settings.root is None else [Camera(_name(settings.camera), settings)]
    if settings.root is not None:
        raise ConfigError("setting 'root' and [cameras.*] (or --camera) both name recordings:"
                          " use one or the other")
    found = [_camera(name, values, settings, several=len(tables) > 1, explicit=explicit)
             for name, values in sorted(tables.items())]
    _distinct_roots(found)
    return found


def server_state_dir(settings: Settings, cameras: Sequence[Camera]) -> Path:
    """Where the server keeps what is not one camera's (accounts, the audit log): `state_dir` if
    set; else the one camera's own state folder; else a `.cctv` beside the cameras' roots."""
    if settings.state_dir is not None:
        return settings.state_dir
    if len(cameras) == 1:
        return cameras[0].settings.catalog_path.parent  # its own state_dir, or ROOT/.cctv
    parent = Path(os.path.commonpath([str(c.root.absolute()) for c in cameras]))
    if parent == Path(parent.anchor):
        raise ConfigError("setting 'state_dir': the cameras' roots share no folder; say where"
                          " the server's state goes")
    return parent / STATE


def _tables(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = tomllib.loads(Path(path).read_text())
    except OSError as err:
        raise ConfigError(f"config file {path}: {err}") from None
    except tomllib.TOMLDecodeError as err:
        raise config.toml_error(path, err) from None
    cameras = data.get("cameras", {})
    if not isinstance(cameras, dict) or not all(isinstance(v, dict) for v in cameras.values()):
        raise ConfigError(f"config file {path}: cameras must be tables, [cameras.NAME]")
    return {name: dict(values) for name, values in cameras.items()}


def _flag(spec: str) -> tuple[str, str]:
    name, sep, root = spec.partition("=")
    if not sep or not root:
        raise ConfigError(f"--camera {spec!r}: give NAME=ROOT, e.g. --camera porch=/srv/cctv/porch")
    return _name(name), root


def _name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise ConfigError(f"camera name {name!r}: lower-case letters, digits, - and _, at most 32,"
                          " starting with a letter or digit")
    return name


def _camera(name: str, values: dict[str, Any], settings: Settings, several: bool,
            explicit: Sequence[str] = ()) -> Camera:
    _name(name)
    for key in values:
        if key not in OVERRIDES:
            raise ConfigError(f"setting 'cameras.{name}.{key}': not a per-camera setting"
                              f"{config.suggestion(key, OVERRIDES) or '.'} (those are:"
                              f" {', '.join(sorted(OVERRIDES))})")
    if "root" not in values:
        raise ConfigError(f"setting 'cameras.{name}.root' is missing: where are its recordings?")
    parsed = {k: config.parse(k, v, f"cameras.{name}.{k}") for k, v in values.items()
              if k == "root" or k not in explicit}
    if several and "state_dir" not in parsed and settings.state_dir is not None:
        parsed["state_dir"] = settings.state_dir / name  # several catalogs cannot share one file
    return Camera(name, dataclasses.replace(settings, camera=name, **parsed))


def _distinct_roots(cameras: list[Camera]) -> None:
    """ConfigError when two cameras share a root, or one's root lies inside another's (symlinks
    resolved): one camera's retention would delete the other's footage, held days and all."""
    real = [(c, Path(os.path.realpath(c.root))) for c in cameras]
    for i, (a, a_root) in enumerate(real):
        for b, b_root in real[i + 1:]:
            if a_root == b_root:
                raise ConfigError(f"cameras {a.name} and {b.name} have the same root {a.root}")
            if a_root.is_relative_to(b_root):
                raise ConfigError(overlap(a, b))
            if b_root.is_relative_to(a_root):
                raise ConfigError(overlap(b, a))


def overlap(inner: Camera, outer: Camera) -> str:
    """The one-line refusal of a camera root inside another camera's root, both resolved."""
    return (f"camera {inner.name}'s root {inner.root} is inside camera {outer.name}'s root"
            f" {outer.root} ({os.path.realpath(inner.root)} in {os.path.realpath(outer.root)}):"
            f" {outer.name}'s retention would delete {inner.name}'s footage; give each camera"
            " a root of its own, side by side")
