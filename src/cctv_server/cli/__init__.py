"""The `cctv-server` command: a group of thin commands, one module per family."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from ..errors import CctvError
from . import access, alerts, compaction, doctor, export, push, retention, serve, worker
from . import activity as activity_commands  # activity --rebuild, events
from . import archive as archive_cli


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


def _config_after(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        ctx.find_root().obj["config"] = value


def _accept_config(command: click.Command) -> None:
    """`cctv-server serve --config F` as well as `cctv-server --config F serve`: the option after
    a command's name sets the same file (the group's callback has run by then)."""
    command.params.append(click.Option(
        ["--config", "config_after"], type=click.Path(dir_okay=False, path_type=Path),
        expose_value=False, is_eager=True, callback=_config_after,
        help="TOML config file (also accepted before the command name)."))
    for sub in getattr(command, "commands", {}).values():
        _accept_config(sub)


for _family in (serve, export, compaction, push, doctor, access, retention, alerts, archive_cli,
                worker, activity_commands):
    for _command in _family.COMMANDS:
        _accept_config(_command)
        main.add_command(_command)
