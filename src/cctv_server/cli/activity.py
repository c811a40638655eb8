"""`activity --rebuild` and `events`: measure existing days again; list the events of a range."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from ..activity import search
from ..activity.index import Index, path_for
from ..activity.rebuild import rebuild_day
from ..activity.search import CameraActivity
from ..activity.worker import Measurer
from ..cameras import Camera
from ..errors import CctvError
from ..footage.catalog import Catalog
from ..footage.reader import Footage
from ..media import ffmpeg
from . import common


def _opened(camera: Camera) -> tuple[Footage, Index, CameraActivity]:
    s = camera.settings
    catalog = Catalog(s.catalog_path)
    catalog.rescan(camera.root, time.time(), s.stable_seconds, s.tz)
    index = Index(path_for(s.catalog_path))
    return Footage(camera.root, catalog), index, CameraActivity(camera.name, index,
                                                                  s.activity_threshold, s.tz)


@click.command("activity")
@common.ROOT
@common.CAMERA
@click.option("--rebuild", is_flag=True, required=True,
              help="Measure the days again from their footage (segments or videos).")
@click.option("--date", "day", metavar="YYYY-MM-DD", help="Only this day (default: every day).")
@click.pass_context
def activity(ctx: click.Context, root: Path | None, camera_specs: tuple[str, ...], rebuild: bool,
             day: str | None) -> None:
    """Measure the activity of existing days again, with a progress bar; a day's old rows are
    replaced once its new ones are measured."""
    for camera in common.cameras(ctx, camera_specs, root=root):
        if day:
            common.check_day(day, camera.settings, "--date")
        footage, index, found = _opened(camera)
        days = [d for d, _ in footage.catalog.versions() if not day or d == day]
        if day and not days:
            raise click.ClickException(f"{camera.name} has no recordings on {day}")
        measurer = Measurer(camera.settings, footage, index, found,
                            ffmpeg.locate(camera.settings.ffmpeg))
        total = sum((footage.catalog.day(d).duration or 0.0) for d in days)
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                      TimeRemainingColumn()) as bar:
            task = bar.add_task(camera.name, total=max(total, 1.0))
            for d in days:
                bar.update(task, description=f"{camera.name} {d}")
                measured, skipped = rebuild_day(camera.settings, footage, measurer, index, d,
                                                lambda seconds: bar.advance(task, seconds))
                bar.console.print(f"{camera.name} {d}: {measured} file(s) measured"
                                  + (f", {skipped} skipped (will not decode)" if skipped else "")
                                  + f", {len(found.day(d))} event(s)")


@click.command("events")
@common.ROOT
@common.CAMERA
@click.option("--from", "start", required=True, metavar="ISO8601",
              help="From this time: 2026-11-20T18:00 (the camera's zone) or with an offset.")
@click.option("--to", "end", required=True, metavar="ISO8601", help="To this time.")
@click.option("--min-score", type=float, default=0.0, help="Only events scoring at least this.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def events(ctx: click.Context, root: Path | None, camera_specs: tuple[str, ...], start: str,
           end: str, min_score: float, as_json: bool) -> None:
    """The events of the cameras (or --camera NAME) in a range, newest first, one a line."""
    cams = common.cameras(ctx, camera_specs, root=root)
    found, zones = [], {}
    for camera in cams:
        tz = camera.settings.tz
        try:
            lo, hi = search.parse_time(start, tz, "--from"), search.parse_time(end, tz, "--to")
        except CctvError as err:
            raise click.BadParameter(str(err)) from None
        index = Index(path_for(camera.settings.catalog_path))
        zones[camera.name] = tz
        found += search.search({camera.name: CameraActivity(
            camera.name, index, camera.settings.activity_threshold, tz)}, lo, hi, min_score)
    found.sort(key=lambda e: (-e.start, e.camera))
    for e in found:
        if as_json:
            click.echo(json.dumps(search.as_json(e, zones[e.camera])))
        else:
            tz = zones[e.camera]
            click.echo(f"{e.camera} {search.iso(e.start, tz)} to {search.iso(e.end, tz)[11:]}"
                       f" peak {search.iso(e.peak, tz)[11:19]} score {e.score}")


COMMANDS = [activity, events]
