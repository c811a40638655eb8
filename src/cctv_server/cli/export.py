"""`export`: a clip of footage between two times, written to a file."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import format
from ..playback import export, exportplan
from . import common


@click.command("export")
@common.ROOT
@common.CAMERA
@click.option("--from", "start", required=True, help="ISO 8601 start, e.g. 2024-05-01T14:32:00.")
@click.option("--to", "end", required=True, help="ISO 8601 end (naive times are in the root's zone).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The MP4 file to write.")
@click.option("--codec", type=click.Choice(["auto", "copy", "h264"]), default="auto",
              show_default=True,
              help="copy: stream copy; h264: re-encoded to H.264, for phones; auto: a stream copy"
                   " unless the range mixes codecs (an H.265 day and later H.264 segments).")
@click.pass_context
def export_command(ctx: click.Context, root: Path | None, camera_specs: tuple[str, ...],
                   start: str, end: str, output: Path, codec: str) -> None:
    """Write the footage between two times as an MP4, by stream copy (cut at keyframes), or
    re-encoded to H.264 (--codec h264, or a range that mixes codecs)."""
    cams = common.cameras(ctx, camera_specs, root=root)
    if len(cams) > 1:
        raise click.UsageError(f"several cameras ({', '.join(c.name for c in cams)}):"
                               " pick one with --camera NAME")
    settings = cams[0].settings
    plan = export.plan_from_disk(settings, start, end, codec)
    click.echo(f"Clip from {format.iso(plan.start, settings.tz)} to "
               f"{format.iso(plan.end, settings.tz)} (cut at keyframes"
               + (", re-encoded to H.264)" if plan.codec == exportplan.H264 else ")"), err=True)
    with click.progressbar(length=max(1, round(plan.footage)), label="Exporting",
                           file=sys.stderr) as bar:
        export.write(settings, plan, output, lambda s: bar.update(round(s) - bar.pos))
    click.echo(f"Wrote {output}", err=True)


COMMANDS = [export_command]
