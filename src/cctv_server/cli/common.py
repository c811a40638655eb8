"""What every command shares: settings loaded and validated once, before anything starts."""

from __future__ import annotations

import datetime as dt
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
        raise click.BadParameter(f"no camera named {unknown[0]!r}", param_hint="--camera")
    found = [c for c in found if not picked or c.name in picked]
    if not found:
        raise click.UsageError("no recordings: pass --root or --camera NAME=ROOT, or set root"
                               " or [cameras.NAME] in the config file")
    for camera in found:
        root_folder(camera.settings)
    return found


def state_dir(ctx: click.Context, specs: tuple[str, ...] = (), **flags: Any) -> Path:
    """The server's own state folder (accounts, the audit log), as `serve` finds it: from every
    camera, whichever ones a command's `--camera NAME` picks."""
    everyone = cameras(ctx, tuple(s for s in specs if "=" in s), **flags)
    return server_state_dir(settings(ctx, need_root=False, **flags), everyone)


def check_day(day: str, settings: config.Settings, hint: str) -> None:
    """A YYYY-MM-DD date among the days the server looks at (layout.out_of_range), or exit 2
    naming the parameter."""
    try:
        layout.parse_day(day, dt.datetime.now(settings.tz).date())
    except CctvError as err:
        raise click.BadParameter(str(err), param_hint=hint) from None


def root_folder(found: config.Settings) -> Path:
    if found.root is None:
        raise click.UsageError("no recordings root: pass --root, or set CCTV_ROOT or root in the config file")
    if not found.root.is_dir():
        raise click.ClickException(f"recordings root {found.root} is not a folder")
    return found.root


def labeller(cams: list[Camera]):
    """Names a camera's day `DAY` when there is one camera, `CAMERA DAY` when there are several."""
    several = len(cams) > 1
    return lambda name, day: f"{name} {day}" if several else day
