"""`serve` and `demo`: the web server, with the compactor in a background process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import click

from .. import config, demo
from ..errors import CctvError
from ..media import ffmpeg
from . import common, preflight


def serve_options(fn):
    fn = click.option("--host", help="Address to listen on [default: 127.0.0.1].")(fn)
    fn = click.option("--port", type=int, help="TCP port [default: 8080].")(fn)
    return fn


@click.command()
@common.ROOT
@serve_options
@click.option("--no-compactor", is_flag=True,
              help="Do not run the compactor in a background process (see `compactor`).")
@click.pass_context
def serve(ctx: click.Context, root: Path | None, host: str | None, port: int | None,
          no_compactor: bool) -> None:
    """Serve the index page, playlists and recordings of ROOT."""
    settings = common.settings(ctx, root=root, host=host, port=port,
                               compactor=False if no_compactor else None)
    _run_server(settings, ctx.obj.get("config"))


def _run_server(settings: config.Settings, config_file: Path | None = None) -> None:
    import uvicorn

    from ..web import connections
    from ..web.app import create_app

    try:
        preflight.state_dir(settings)
        sock = preflight.listen(settings.host, settings.port)
        app = create_app(settings)
    except CctvError as err:
        raise click.ClickException(str(err)) from None
    guard = connections.Guard(settings.header_timeout, settings.send_timeout,
                              connections.fit_file_limit(settings.max_connections))
    server = uvicorn.Server(uvicorn.Config(
        app, log_level="warning", http=connections.protocol(guard), ws="none",
    ))
    background = BackgroundCompactor(settings, config_file)
    if settings.compactor:
        background.start()
    host, port = sock.getsockname()[:2]
    click.echo(f"Serving {settings.root} on http://{_authority(host)}:{port}/", err=True)
    try:
        server.run(sockets=[sock])
    finally:
        background.stop()
        sock.close()


def _authority(host: str) -> str:
    return f"[{host}]" if ":" in host else host


@click.command("demo")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              default=Path("demo-recordings"), show_default=True,
              help="Where the demo recordings are made (kept between runs).")
@click.option("--camera/--no-camera", default=True, show_default=True,
              help="Keep uploading a fresh segment every 10 s, like a live camera.")
@serve_options
@click.pass_context
def demo_command(ctx: click.Context, directory: Path, camera: bool, host: str | None,
                 port: int | None) -> None:
    """Make a demo recordings folder with ffmpeg, and serve it."""
    # quiet 0: the demo's old days are made all at once, so the compactor may take them at once
    settings = common.settings(ctx, need_root=False, root=directory, host=host, port=port,
                               quiet="0")
    binary = ffmpeg.locate(settings.ffmpeg)
    if not demo.has_recordings(directory):
        click.echo(f"Recording demo footage into {directory} ...", err=True)
        try:
            demo.make_demo(directory, binary, settings.tz)
        except CctvError as err:
            raise click.ClickException(str(err)) from None
    if camera:
        demo.LiveCamera(directory, binary, settings.tz).start()
    _run_server(settings)


class BackgroundCompactor:
    """serve's compactor: `cctv-server compactor` in a child process that dies with the server."""

    def __init__(self, settings: config.Settings, config_file: Path | None):
        self.settings = settings
        self.config_file = config_file
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        argv = [sys.executable, "-m", "cctv_server.cli"]
        argv += ["--config", str(self.config_file)] if self.config_file else []
        argv += ["compactor", "--root", str(self.settings.root),
                 "--settle", f"{self.settings.settle}s", "--quiet", f"{self.settings.quiet}s"]
        self.proc = subprocess.Popen(argv, preexec_fn=_term_with_parent)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # it rolls back an encode in progress, then exits
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def _term_with_parent() -> None:
    ffmpeg.die_with_parent(signal.SIGTERM)
    os.setsid()  # its own group: a Ctrl-C meant for the server reaches it through stop()


COMMANDS = [serve, demo_command]
