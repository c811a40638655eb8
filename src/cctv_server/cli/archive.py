"""`archive`: move the compacted days that are due to each camera's store, and say what and how much."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from .. import config, format
from ..archive import health, run
from ..archive.move import MOVED
from ..cameras import Camera
from ..footage.catalog import Catalog
from . import common


@click.command("archive")
@common.ROOT
@common.CAMERA
@click.option("--dry-run", is_flag=True, help="Print each day that would move, and move nothing.")
@click.pass_context
def archive(ctx: click.Context, root: Path | None, camera_specs: tuple[str, ...],
            dry_run: bool) -> None:
    """Move the compacted days older than archive_after to the store (the archive setting),
    each verified there before its local copy goes. Exit 1 when the store failed."""
    cams = common.cameras(ctx, camera_specs, root=root)
    if not any(c.settings.archive for c in cams):
        raise click.ClickException("no archive set: set archive = \"s3://BUCKET/PREFIX\"")
    result = run.run(cams, time.time(), dry_run, None if dry_run else _sync(cams))
    label = common.labeller(cams)
    if dry_run:
        for name, day, size in result.due:
            click.echo(f"would move {label(name, day)}: {format.size(size)}")
    for name, moved in result.moved:
        if moved.outcome == MOVED:
            click.echo(f"moved {label(name, moved.day)}: {', '.join(moved.videos)},"
                       f" {format.size(moved.bytes)}")
        else:
            click.echo(f"kept {label(name, moved.day)} for now: {moved.outcome}")
    for name, day, why in result.failed:
        click.echo(f"not moved {label(name, day)}: {why}", err=True)
    total = sum(m.bytes for _, m in result.moved) if not dry_run else sum(s for *_, s in result.due)
    done = [d for d in result.due] if dry_run else [m for _, m in result.moved if m.outcome == MOVED]
    if not done:
        click.echo("nothing to move")
    else:
        click.echo(f"{'would move' if dry_run else 'moved'} {len(done)} day(s),"
                   f" {format.size(total)}")
    sys.exit(1 if result.failed else 0)


def _sync(cams: list[Camera]):
    """Re-reads a moved day into its camera's catalog, opening each catalog once."""
    opened: dict[str, Catalog] = {}

    def sync(camera: Camera, day: str) -> None:
        s = camera.settings
        if camera.name not in opened:
            opened[camera.name] = Catalog(s.catalog_path)
        opened[camera.name].sync_day(camera.root, day, time.time(), s.stable_seconds, s.tz)

    return sync


def archive_status(settings: config.Settings, indent: str = "") -> None:
    """`status`'s lines on the archive: the bytes on the disk and in the store, and a problem."""
    catalog = Catalog(settings.catalog_path)
    segments, videos = catalog.bytes_on_disk()
    stored, days = catalog.bytes_archived(), len(catalog.homes())
    click.echo(f"{indent}on the disk: {format.size(segments + videos)}"
               + (f"; in the store {settings.archive}: {format.size(stored)}, {days} day(s)"
                  if settings.archive or days else ""))
    if settings.archive and (why := health.problem(settings.archive, settings.archive_endpoint, 0)):
        click.echo(f"{indent}ARCHIVE PROBLEM: {why}")


COMMANDS = [archive]
