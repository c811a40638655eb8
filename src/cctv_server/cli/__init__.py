"""The `cctv-server` command: a group of thin commands, one module per family."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from ..errors import CctvError
from . import access, compaction, doctor, export, push, retention, serve
from . import activity as activity_commands  # activity --rebuild, events


class Commands(click.Group):
    """The command group: a domain error from any command is its message and exit status 1,
    said once here rather than caught in each command."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CctvError as err:
            raise click.ClickException(str(err)) from None


@click.group(cls=Commands)
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
              help="TOML config file (flags > CCTV_* environment > file > defaults).")
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail.")
@click.version_option(package_name="cctv-server")
@click.pass_context
def main(ctx: click.Context, config_file: Path | None, verbose: bool) -> None:
    """Store, serve and compact CCTV recordings."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = {"config": config_file}


for _family in (serve, export, compaction, push, doctor, access, retention, activity_commands):
    for _command in _family.COMMANDS:
        main.add_command(_command)
