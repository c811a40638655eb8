"""`worker`: encode compaction's chunks for a server, on this machine, taking them from the broker."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ..media import ffmpeg
from ..tasks import transfer
from ..tasks.worker import Worker, read_token
from . import common


@click.command("worker")
@click.option("--broker", help="The broker (redis://HOST:6379/0) [setting broker, CCTV_BROKER].")
@click.option("--server", "server_url",
              help="The server's URL (http://HOST:8080) [setting server_url, CCTV_SERVER_URL].")
@click.option("--token-file", type=click.Path(dir_okay=False, path_type=Path),
              help="A file holding this worker's token (token add --worker NAME) [token_file].")
@click.option("--jobs", type=int, help="Chunks encoded at once [default: one per core].")
@click.pass_context
def worker_command(ctx: click.Context, broker: str | None, server_url: str | None,
                   token_file: Path | None, jobs: int | None) -> None:
    """Encode chunks for a server until stopped: each is fetched from the server, checked,
    encoded and sent back; nothing but the task's description goes through the broker."""
    settings = common.settings(ctx, need_root=False, broker=broker, server_url=server_url,
                               token_file=token_file, jobs=jobs)
    missing = [flag for flag, value in (("--broker", settings.broker),
                                        ("--server", settings.server_url),
                                        ("--token-file", settings.token_file)) if not value]
    if missing:
        raise click.UsageError(f"a worker needs {', '.join(missing)} (or their settings)")
    try:
        token = read_token(settings.token_file)
    except (OSError, ValueError) as err:
        raise click.ClickException(str(err)) from None
    server = transfer.Server(settings.server_url, token)
    found = Worker(settings.broker, settings.broker_namespace, settings.worker_timeout, server,
                   settings.jobs or os.cpu_count() or 1, ffmpeg.locate(settings.ffmpeg))
    common.set_on_term(found.stop)
    try:
        found.run()
    except KeyboardInterrupt:
        found.stop.set()
    except (transfer.Revoked, transfer.TransferError) as err:
        raise click.ClickException(str(err)) from None


COMMANDS = [worker_command]
