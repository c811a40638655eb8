"""The `cctv-server` command: a group of thin commands, one module per family."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

import click

from ..errors import CctvError

# Each family module's commands, by name. A module is imported when one of its commands runs (or
# `--help` lists them all): `compact` need not load the web server, S3 and the queue's clients,
# 0.4 s of every command's start (0.5 s against 0.9). tests/test_cli_messages.py checks this
# against the modules' COMMANDS.
FAMILIES = {
    "serve": ("serve", "demo"),
    "export": ("export",),
    "compaction": ("compact", "compactor", "status", "verify"),
    "push": ("push",),
    "doctor": ("doctor",),
    "access": ("user", "token", "share", "audit"),
    "retention": ("retention", "hold", "release", "holds"),
    "alerts": ("alerts",),
    "archive": ("archive",),
    "worker": ("worker",),
    "activity": ("activity", "events"),
}


class Commands(click.Group):
    """The command group: its commands loaded when used, and a domain error from any of them its
    message and exit status 1, said once here rather than caught in each command."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for names in FAMILIES.values() for name in names)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands:
            family = next((m for m, names in FAMILIES.items() if name in names), None)
            if family is None:
                return None
            for command in importlib.import_module(f"{__name__}.{family}").COMMANDS:
                _accept_config(command)
                self.add_command(command)
        return self.commands.get(name)

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

