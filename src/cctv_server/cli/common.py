"""What every command shares: settings loaded and validated once, before anything starts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import signal
import threading
from pathlib import Path
from typing import Any

import click

from .. import config, layout
from ..cameras import Camera, server_state_dir
from ..cameras import load as load_cameras
from ..compaction import encoding
from ..errors import CctvError

ROOT = click.option("--root", type=click.Path(path_type=Path), help="The recordings folder.")
CAMERA = click.option("--camera", "camera_specs", multiple=True, metavar="NAME[=ROOT]",
                      help="A camera: NAME=ROOT adds one, NAME picks one of the config's (repeatable).")


def settings(ctx: click.Context, need_root: bool = True, **flags: Any) -> config.Settings:
    """Defaults < config file < CCTV_* < these flags, every value checked (the codec profile
    too), naming the bad setting; and the root, unless the command makes it."""
    found = config.load(ctx.obj.get("config"), flags=flags)
    encoding.profile_for(found)
    if need_root:
        root_folder(found)
    return found


def cameras(ctx: click.Context, specs: tuple[str, ...] = (), **flags: Any) -> list[Camera]:
    """The cameras a command works on: every configured one (or `--root`'s), or those picked
    by `--camera NAME`; each root must be a folder. Settings are checked as `settings` does."""
    server = settings(ctx, need_root=False, **flags)
    picked = [s for s in specs if "=" not in s]
    found = load_cameras(server, ctx.obj.get("config"), [s for s in specs if "=" in s],
                         config.explicit(flags=flags))
    for camera in found:
        encoding.profile_for(camera.settings)  # a camera's own codec settings, checked too
    unknown = [name for name in picked if name not in {c.name for c in found}]
    if unknown:
        raise click.BadParameter(unknown_camera(unknown[0], [c.name for c in found]),
                                 param_hint="--camera")
    found = [c for c in found if not picked or c.name in picked]
    if not found:
        raise click.UsageError("no recordings: pass --root or --camera NAME=ROOT, or set root"
                               " or [cameras.NAME] in the config file")
    for camera in found:
        root_folder(camera.settings)
    return found


def state_dir(ctx: click.Context, specs: tuple[str, ...] = (), **flags: Any) -> Path:
    """The server's own state folder (accounts, tokens, share links, the audit log): the one
    place that decides it, for `serve` and every command alike. It comes from every camera the
    config file, `--root` and `--camera NAME=ROOT` name, whichever of them `--camera NAME`
    picks (picking a camera must not move the state to that camera's own folder); with no
    camera at all, from `state_dir`."""
    server = settings(ctx, need_root=False, **flags)
    everyone = load_cameras(server, ctx.obj.get("config"), [s for s in specs if "=" in s],
                            config.explicit(flags=flags))
    if everyone:
        return server_state_dir(server, everyone)
    if server.state_dir is None:
        raise click.UsageError("no state folder: pass --root or --camera NAME=ROOT (as serve is"
                               " given them), or --config, or set state_dir")
    return server.state_dir


def server_settings(ctx: click.Context, specs: tuple[str, ...] = (), **flags: Any) -> config.Settings:
    """The server's settings with `state_dir` pinned to `state_dir()`'s answer: for what reads
    the server's state (serve, doctor) once the cameras are loaded, since a camera's own
    state folder is derived from an unpinned `state_dir`."""
    return dataclasses.replace(settings(ctx, need_root=False, **flags),
                               state_dir=state_dir(ctx, specs, **flags))


def check_day(day: str, settings: config.Settings, hint: str) -> None:
    """A YYYY-MM-DD date among the days the server looks at (layout.out_of_range), or exit 2
    naming the parameter."""
    try:
        layout.parse_day(day, dt.datetime.now(settings.tz).date())
    except CctvError as err:
        raise click.BadParameter(str(err), param_hint=hint) from None


def unknown_camera(name: str, known: list[str]) -> str:
    """Why `--camera NAME` found nothing, and the form that adds a camera."""
    among = f"the cameras are {', '.join(known)}" if known else "no camera is named yet"
    return (f"no camera named {name!r} ({among}). --camera NAME picks one of the cameras the"
            f" config file or --camera NAME=ROOT names; to add one, give its recordings folder:"
            f" --camera {name}=ROOT, e.g. --camera {name}=/srv/cctv/{name}")


def root_folder(found: config.Settings) -> Path:
    if found.root is None:
        raise click.UsageError("no recordings root: pass --root, or set CCTV_ROOT or root in the config file")
    if not found.root.is_dir():
        raise click.ClickException(f"recordings root {found.root} is not a folder")
    inside = cameras_inside(found.root)
    if inside:
        options = " ".join(f"--camera {name}={found.root / name}" for name in inside)
        raise click.ClickException(
            f"recordings root {found.root} holds no day folders but {len(inside)} folders that"
            f" do ({', '.join(inside)}): they look like cameras, each a root of its own."
            f" Serve them as cameras: {options}")
    return found.root


def cameras_inside(root: Path) -> list[str]:
    """The subfolders of a root without day folders of its own that hold day folders: a
    folder of cameras given as one camera's root (an empty root is a new camera, fine)."""
    if _has_days(root):
        return []
    try:
        folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return []
    return [p.name for p in folders if _has_days(p)]


def _has_days(folder: Path) -> bool:
    """Whether a folder holds a day folder (names only, quietly: no log of what it skips)."""
    try:
        return any(p.is_dir() and layout.is_day_name(p.name) for p in folder.iterdir())
    except OSError:
        return False


def labeller(cams: list[Camera]):
    """Names a camera's day `DAY` when there is one camera, `CAMERA DAY` when there are several."""
    several = len(cams) > 1
    return lambda name, day: f"{name} {day}" if several else day


def set_on_term(event: threading.Event) -> None:
    """SIGTERM sets `event`, from a thread of its own. A handler runs in the main thread between
    two of its steps, maybe inside that very event's lock (its own wait, or the handler before it
    when a second TERM follows the first), and setting the event there would wait for itself."""
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=event.set, daemon=True).start())
