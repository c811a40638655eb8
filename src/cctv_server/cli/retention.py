"""`retention`, `hold`, `release` and `holds`: the days retention gives up, and the days it must keep."""

from __future__ import annotations

import getpass
import os
import sys
import time
from pathlib import Path

import click

from .. import format
from ..access.audit import AuditLog
from ..cameras import Camera
from ..errors import CctvError
from ..footage.catalog import Catalog
from ..retention import holds, run
from ..retention.policy import AGE, SIZE, Deletion
from . import common


@click.command("retention")
@common.ROOT
@common.CAMERA
@click.option("--dry-run", is_flag=True, help="Print each day that would go, and delete nothing.")
@click.pass_context
def retention(ctx: click.Context, root: Path | None, camera_specs: tuple[str, ...],
              dry_run: bool) -> None:
    """Delete the days the retention settings give up (keep_days, max_size, keep_free), oldest
    first, each whole; held days never. Exit 1 when a disk stays below keep_free."""
    cams = common.cameras(ctx, camera_specs, root=root)
    audit = None if dry_run else _audit(ctx, camera_specs, root, cams)
    forget = _Forget(cams)
    try:
        result = run.run(cams, time.time(), audit, forget, dry_run, by=_user())
    except OSError as err:
        raise click.ClickException(f"retention stopped: {err}") from None
    _report(result, cams, dry_run)
    sys.exit(1 if result.stuck else 0)


def _report(result: run.Result, cams: list[Camera], dry_run: bool) -> None:
    label = common.labeller(cams)
    settings = {c.name: c.settings for c in cams}
    done = result.plan.deletions if dry_run else result.deleted
    verb = "would delete" if dry_run else "deleted"
    for d in result.finished:
        click.echo(f"finished deleting {label(d.camera, d.day)}, interrupted before")
    for d in done:
        click.echo(f"{verb} {label(d.camera, d.day)}: {_why(d, settings, result)},"
                   f" {'frees' if dry_run else 'freed'} {format.size(d.frees)}")
    for d, why in result.kept:
        click.echo(f"kept {label(d.camera, d.day)} for now: {_KEPT.get(why, why)}")
    if not done:
        click.echo("nothing to delete")
    for disk in result.disks.values():
        click.echo(f"{disk.mount}: {format.size(disk.free)} free of {format.size(disk.total)},"
                   f" keep_free {format.size(disk.keep_free)}")
    for disk in result.stuck:
        click.echo(f"ALARM: {disk.mount} stays below keep_free and only held days and today's are left to"
                   " delete: release a hold or free space, or recording stops", err=True)


_KEPT = {"busy": "it is being compacted (the next pass deletes it)", "held": "a hold was put on it meanwhile"}


def _why(d: Deletion, settings: dict, result: run.Result) -> str:
    s = settings[d.camera]
    if d.reason == AGE:
        return f"age (keep_days {s.keep_days})"
    if d.reason == SIZE:
        return f"size (max_size {format.size(s.max_size)})"
    disk = result.disks[d.filesystem]
    return f"free space ({disk.mount} below keep_free {format.size(disk.keep_free)})"


class _Forget:
    """Drops a deleted day's catalog rows, opening a camera's catalog only when it is needed."""

    def __init__(self, cams: list[Camera]):
        self.settings = {c.name: c.settings for c in cams}
        self.catalogs: dict[str, Catalog] = {}

    def __call__(self, camera: str, day: str) -> None:
        if camera not in self.catalogs:
            self.catalogs[camera] = Catalog(self.settings[camera].catalog_path)
        self.catalogs[camera].forget_day(day)


def _user() -> str:
    try:
        return "cli:" + getpass.getuser()
    except (KeyError, OSError):
        return f"cli:uid {os.getuid()}"


def _audit(ctx: click.Context, specs: tuple[str, ...], root: Path | None,
           cams: list[Camera]) -> AuditLog:
    return AuditLog(common.state_dir(ctx, specs, root=root), cams[0].settings.tz,
                    cams[0].settings.audit_max, cams[0].settings.audit_keep)


def _write(audit: AuditLog, event: str, **fields: object) -> None:
    """An audit line; the change is made already, so a log that cannot be written is a warning."""
    try:
        audit.path.parent.mkdir(parents=True, exist_ok=True)
        audit.write(event, **fields)
    except OSError as err:
        click.echo(f"warning: the audit log {audit.path} cannot be written: {err}", err=True)


@click.command("hold")
@common.ROOT
@common.CAMERA
@click.argument("date")
@click.option("--reason", required=True, help="Why the day is kept (e.g. an incident number).")
@click.option("--allow-compaction", is_flag=True,
              help="Let compaction replace its segments by a video (by default they are kept"
                   " as they were uploaded).")
@click.pass_context
def hold_command(ctx: click.Context, root: Path | None, camera_specs: tuple[str, ...], date: str,
                 reason: str, allow_compaction: bool) -> None:
    """Keep DATE (YYYY-MM-DD) of every camera that has it (or of --camera NAME) until released:
    retention never deletes it."""
    cams = common.cameras(ctx, camera_specs, root=root)
    common.check_day(date, cams[0].settings, "DATE")
    having = [c for c in cams if (c.root / date).is_dir()] if len(cams) > 1 else cams
    if not having:
        raise click.ClickException(f"no camera has recordings on {date}")
    audit, by = _audit(ctx, camera_specs, root, cams), _user()
    label = common.labeller(cams)
    for camera in having:
        try:
            found = holds.hold(camera.root, date, reason, by, allow_compaction)
        except (CctvError, OSError) as err:
            raise click.ClickException(f"{label(camera.name, date)}: {err}") from None
        _write(audit, "hold", camera=camera.name, day=date, reason=found.reason,
               allow_compaction=allow_compaction, by=by)
        click.echo(f"held {label(camera.name, date)}: {found.reason}"
                   + (" (compaction allowed)" if allow_compaction else ""))


@click.command("release")
@common.ROOT
@common.CAMERA
@click.argument("date")
@click.pass_context
def release_command(ctx: click.Context, root: Path | None, camera_specs: tuple[str, ...],
                    date: str) -> None:
    """Release the hold on DATE of every camera (or of --camera NAME): retention may delete it."""
    cams = common.cameras(ctx, camera_specs, root=root)
    common.check_day(date, cams[0].settings, "DATE")
    held = [c for c in cams if holds.get(c.root, date) is not None]
    if not held:
        raise click.ClickException(f"{date} is not held")
    audit, by = _audit(ctx, camera_specs, root, cams), _user()
    label = common.labeller(cams)
    for camera in held:
        try:
            holds.release(camera.root, date)
        except (CctvError, OSError) as err:
            raise click.ClickException(f"{label(camera.name, date)}: {err}") from None
        _write(audit, "release", camera=camera.name, day=date, by=by)
        click.echo(f"released {label(camera.name, date)}")


@click.command("holds")
@common.ROOT
@common.CAMERA
@click.pass_context
def holds_command(ctx: click.Context, root: Path | None, camera_specs: tuple[str, ...]) -> None:
    """List the held days of every camera (or of --camera NAME)."""
    cams = common.cameras(ctx, camera_specs, root=root)
    label = common.labeller(cams)
    found = 0
    for camera in cams:
        tz = camera.settings.tz
        for h in holds.all_held(camera.root):
            found += 1
            click.echo(f"{label(camera.name, h.day)}: {h.reason} (held {format.clock(h.since, tz, '')}"
                       f" by {h.by}{', compaction allowed' if h.allow_compaction else ''})")
    if not found:
        click.echo("no day is held")


COMMANDS = [retention, hold_command, release_command, holds_command]
