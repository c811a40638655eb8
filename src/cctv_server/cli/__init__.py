"""The `cctv-server` command: thin wrappers that load settings and call the modules."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import click

from .. import config, demo
from ..errors import CctvError
from ..media import ffmpeg
from .compaction import COMMANDS, BackgroundCompactor


def _load(ctx: click.Context, **flags: Any) -> config.Settings:
    try:
        return config.load(ctx.obj.get("config"), flags=flags)
    except CctvError as err:
        raise click.ClickException(str(err)) from None


def _need_root(settings: config.Settings) -> Path:
    if settings.root is None:
        raise click.UsageError("no recordings root: pass --root, or set CCTV_ROOT or root in the config file")
    if not settings.root.is_dir():
        raise click.ClickException(f"recordings root {settings.root} is not a folder")
    return settings.root


@click.group()
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


def serve_options(fn):
    fn = click.option("--host", help="Address to listen on [default: 127.0.0.1].")(fn)
    fn = click.option("--port", type=int, help="TCP port [default: 8080].")(fn)
    return fn


@main.command()
@click.option("--root", type=click.Path(path_type=Path), help="The recordings folder.")
@serve_options
@click.option("--no-compactor", is_flag=True,
              help="Do not run the compactor in a background process (see `compactor`).")
@click.pass_context
def serve(ctx: click.Context, root: Path | None, host: str | None, port: int | None,
          no_compactor: bool) -> None:
    """Serve the index page, playlists and recordings of ROOT."""
    settings = _load(ctx, root=root, host=host, port=port,
                     compactor=False if no_compactor else None)
    _need_root(settings)
    _run_server(settings, ctx.obj.get("config"))


def _run_server(settings: config.Settings, config_file: Path | None = None) -> None:
    import uvicorn

    from ..web.app import create_app

    try:
        app = create_app(settings)
    except CctvError as err:
        raise click.ClickException(str(err)) from None
    background = BackgroundCompactor(settings, config_file)
    if settings.compactor:
        background.start()
    click.echo(f"Serving {settings.root} on http://{settings.host}:{settings.port}/", err=True)
    try:
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    finally:
        background.stop()


@main.command("demo")
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
    settings = _load(ctx, root=directory, host=host, port=port, quiet="0")
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


@main.command("export")
@click.option("--root", type=click.Path(path_type=Path), help="The recordings folder.")
@click.option("--from", "start", required=True, help="ISO 8601 start, e.g. 2024-05-01T14:32:00.")
@click.option("--to", "end", required=True, help="ISO 8601 end (naive times are in the root's zone).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The MP4 file to write.")
@click.pass_context
def export_command(ctx: click.Context, root: Path | None, start: str, end: str,
                   output: Path) -> None:
    """Write the footage between two times as an MP4, by stream copy (cut at keyframes)."""
    settings = _load(ctx, root=root)
    _need_root(settings)
    from ..playback import export, exportplan

    try:
        plan = export.plan_from_disk(settings, start, end)
        click.echo(f"Clip from {exportplan.iso(plan.start, settings.tz)} to "
                   f"{exportplan.iso(plan.end, settings.tz)} (cut at keyframes)", err=True)
        with click.progressbar(length=max(1, round(plan.footage)), label="Exporting",
                               file=sys.stderr) as bar:
            export.write(settings, plan, output, lambda s: bar.update(round(s) - bar.pos))
    except CctvError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"Wrote {output}", err=True)


for _command in COMMANDS:  # compact, compactor, status, verify
    main.add_command(_command)

