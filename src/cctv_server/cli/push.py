"""`push`: a camera's uploader, sending finished segments to the server (upload/push.py)."""

from __future__ import annotations

import threading
from pathlib import Path

import click

from ..config import parse_duration
from ..upload.push import Pusher
from . import common


@click.command()
@click.option("--dir", "folder", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Where the camera writes its segments (flat, or one folder a day).")
@click.option("--url", required=True,
              help="The camera on the server: http://HOST:8080 (one camera) or .../cam/NAME.")
@click.option("--token-file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="A file holding the camera's token (cctv-server token add CAMERA).")
@click.option("--keep", default="48h", show_default=True,
              help="Segments older than this are deleted here, uploaded or not (the card must not fill).")
@click.option("--delete-after", is_flag=True, help="Delete each segment once the server has it.")
@click.pass_context
def push(ctx: click.Context, folder: Path, url: str, token_file: Path, keep: str,
         delete_after: bool) -> None:
    """Upload finished segments from DIR to the server, oldest first, until stopped."""
    settings = common.settings(ctx, need_root=False)
    try:
        token = token_file.read_text().strip()
        keep_seconds = parse_duration(keep)
    except OSError as err:
        raise click.ClickException(f"--token-file {token_file}: {err.strerror}") from None
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--keep") from None
    if not folder.is_dir():
        raise click.ClickException(f"--dir {folder} is not a folder")
    stop = threading.Event()
    common.set_on_term(stop)
    click.echo(f"Pushing {folder} to {url}", err=True)
    try:
        Pusher(folder, url, token, settings.tz, keep_seconds, delete_after).run(stop.is_set)
    except KeyboardInterrupt:
        pass


COMMANDS = [push]
