"""What every command shares: settings loaded and validated once, before anything starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .. import config
from ..compaction import encoding
from ..errors import CctvError

ROOT = click.option("--root", type=click.Path(path_type=Path), help="The recordings folder.")


def settings(ctx: click.Context, need_root: bool = True, **flags: Any) -> config.Settings:
    """Defaults < config file < CCTV_* < these flags, every value checked (the codec profile
    too), naming the bad setting; and the root, unless the command makes it."""
    try:
        found = config.load(ctx.obj.get("config"), flags=flags)
        encoding.profile_for(found)
    except CctvError as err:
        raise click.ClickException(str(err)) from None
    if need_root:
        root_folder(found)
    return found


def root_folder(found: config.Settings) -> Path:
    if found.root is None:
        raise click.UsageError("no recordings root: pass --root, or set CCTV_ROOT or root in the config file")
    if not found.root.is_dir():
        raise click.ClickException(f"recordings root {found.root} is not a folder")
    return found.root
