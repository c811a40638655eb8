"""The compaction commands: `compact`, `compactor`, `status` and `verify`."""

from __future__ import annotations

import datetime as dt
import signal
import sqlite3
import sys
import threading
import time
from pathlib import Path

import click

from .. import config, format, layout
from ..access.audit import AuditLog
from ..archive import verify as archive_verify
from ..archive.keeper import Archiver
from ..compaction import daemon, phases, status, verify
from ..compaction.job import Compactor, Outcome
from ..tasks import remote, workerstatus
from . import common
from .archive import archive_status

ROOT = common.ROOT
CAMERA = common.CAMERA
SETTLE = click.option("--settle", help="Wait after a day ends before compacting it (0, 90m, 2d) [default: 48h].")
QUIET = click.option("--quiet", help="No segment may have arrived this long before [default: 1h].")


def _clock(settings: config.Settings):
    return lambda seconds: dt.datetime.fromtimestamp(seconds, settings.tz).strftime("%Y-%m-%d %H:%M:%S")


@click.command()
@ROOT
@CAMERA
@click.option("--date", "day", help="Only this day (YYYY-MM-DD).")
@SETTLE
@QUIET
@click.option("--dry-run", is_flag=True, help="Print what would be done, and do nothing.")
@click.pass_context
def compact(ctx: click.Context, root: Path | None, camera_specs: tuple[str, ...], day: str | None,
            settle: str | None, quiet: str | None, dry_run: bool) -> None:
    """Compact each eligible day (or the given day) into one verified video, oldest first, over
    every camera (or those of --camera); a failed day never stops the others."""
    cams = common.cameras(ctx, camera_specs, root=root, settle=settle, quiet=quiet)
    if day is not None:
        common.check_day(day, cams[0].settings, "--date")
    bar = _ProgressBar()
    label = common.labeller(cams)
    compactors = {c.name: daemon.make_compactor(c.settings, _progress(bar, label, c.name),
                                                remote.for_settings(c.settings)) for c in cams}
    plans = {}
    for name, c in compactors.items():
        for done_day, what in daemon.recover(c).items():
            click.echo(f"{label(name, done_day)}: interrupted compaction {what}")
        cands = daemon.candidates(c, c.settings.settle, time.time(), respect_backoff=False)
        plans[name] = [x for x in cands if day is None or x.day == day]
    if dry_run:
        for name, cands in plans.items():
            _dry_run(compactors[name], cands, label)
        return
    for name, cands in plans.items():
        _report_waiting(cands, compactors[name].settings, day, lambda d, n=name: label(n, d))
    due = sorted((x.day, name) for name, cands in plans.items() for x in cands
                 if x.ready_at <= time.time())
    with bar:
        outcomes = [(name, _compact_one(compactors[name], d)) for d, name in due]
    for name, o in outcomes:
        click.echo(f"{label(name, o.day)}: {o.status}" + (f" - {o.message}" if o.message else ""))
    if any(o.status == "failed" for _, o in outcomes):
        sys.exit(1)


def _compact_one(c: Compactor, day: str):
    """One day; trouble with one camera's disk is its failure, never the end of the pass."""
    try:
        return daemon.run_pass(c, [day])[0]
    except (OSError, sqlite3.Error) as err:
        return Outcome(day, "failed", str(err))


def _progress(bar, label, name):
    return lambda day, done, total: bar.update(label(name, day), done, total)


def _report_waiting(cands, settings: config.Settings, day: str | None, label) -> None:
    now = time.time()
    for x in cands:
        if x.ready_at > now:
            click.echo(f"{label(x.day)}: waiting, eligible at {_clock(settings)(x.ready_at)}")
    if day is not None and not cands:
        click.echo(f"{label(day)}: no segments to compact")


def _dry_run(c: Compactor, cands, label) -> None:
    now, p, name = time.time(), c.profile, c.settings.camera
    how = f"{p.codec}" + (f" preset {p.preset} crf {p.crf} keyint {p.keyint}s" if p.codec != "copy" else "")
    for x in cands:
        segments, _ = layout.list_day(c.root / x.day)
        size = format.size(sum(st.st_size for st in segments.values()))
        if x.ready_at <= now:
            click.echo(f"would compact {label(name, x.day)}: {len(segments)} segments, {size}, with {how}")
        else:
            click.echo(f"{label(name, x.day)}: waiting, eligible at {_clock(c.settings)(x.ready_at)}")
    if not cands:
        click.echo(label(name, "nothing to compact"))


class _ProgressBar:
    """A rich progress bar per day: percent, speed as a multiple of realtime, ETA."""

    def __init__(self):
        self.progress = None
        self.tasks: dict[str, tuple[int, float]] = {}

    def __enter__(self):
        from rich.progress import (
            BarColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                                 TextColumn("{task.fields[speed]}"), TimeRemainingColumn())
        self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        self.progress.__exit__(*exc)

    def update(self, day: str, done: float, total: float) -> None:
        if self.progress is None:
            return
        if day not in self.tasks:
            task = self.progress.add_task(day, total=total or 1, speed="")
            self.tasks[day] = (task, time.monotonic())
        task, started = self.tasks[day]
        speed = done / max(1e-3, time.monotonic() - started)
        self.progress.update(task, completed=done, speed=f"{speed:.1f}x realtime")


@click.command("compactor")
@ROOT
@CAMERA
@SETTLE
@QUIET
@click.pass_context
def compactor_command(ctx: click.Context, root: Path | None, camera_specs: tuple[str, ...],
                      settle: str | None, quiet: str | None) -> None:
    """Run until stopped: compact each day of every camera as it becomes eligible, at low priority."""
    cams = common.cameras(ctx, camera_specs, root=root, settle=settle, quiet=quiet)
    daemon.lower_priority()
    compactors = [daemon.make_compactor(c.settings, tasks=remote.for_settings(c.settings))
                  for c in cams]
    stop = threading.Event()

    def on_signal(signum, frame):
        # Once: serve's compactor gets a TERM from the server and another from its parent-death
        # signal, and a handler that touched a lock here hung when the second came inside it.
        # Daemon.run sets `stop` on its way out.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise SystemExit(0)  # interrupts an encode: it is rolled back, the segments stay

    signal.signal(signal.SIGTERM, on_signal)
    for c in cams:
        click.echo(f"Compacting {c.name}: {c.root} (settle {c.settings.settle:.0f} s)", err=True)
    # Its retention pass writes each deletion to the server's audit log.
    audit = AuditLog(common.state_dir(ctx, camera_specs, root=root), cams[0].settings.tz,
                     cams[0].settings.audit_max, cams[0].settings.audit_keep)
    try:
        compactor = daemon.Daemon(compactors, audit=audit)
        # compacted days due to move to the store, in a thread of their own (archive/keeper.py)
        archiver = Archiver(compactor.retention.cameras, compactor.retention.catalogs)
        compactor.run(stop, alongside=[archiver.thread])
    except KeyboardInterrupt:
        pass


@click.command("status")
@ROOT
@CAMERA
@click.pass_context
def status_command(ctx: click.Context, root: Path | None, camera_specs: tuple[str, ...]) -> None:
    """Print each day's compaction state, as the index page shows it, for every camera."""
    cams = common.cameras(ctx, camera_specs, root=root)
    for camera in cams:
        if len(cams) > 1:
            click.echo(f"{camera.name} ({camera.root})")
        _status(camera.settings, "  " if len(cams) > 1 else "")
        archive_status(camera.settings, "  " if len(cams) > 1 else "")
    for line in workerstatus.lines(cams[0].settings, time.time()):  # the server's one broker
        click.echo(line)


def _status(settings: config.Settings, indent: str) -> None:
    c = daemon.make_compactor(settings)
    now = time.time()
    c.catalog.rescan(c.root, now, settings.stable_seconds, settings.tz)
    daemon.candidates(c, settings.settle, now)
    found = status.states(c.catalog, settings, now, _clock(settings), format.size)
    rows = c.catalog.compactions()
    for day in sorted(found):
        click.echo(f"{indent}{day}  {found[day].text}")
        times = phases.loads((rows.get(day) or {}).get("phases"))
        if times and found[day].kind == "compacted":
            click.echo(f"{indent}{' ' * len(day)}  where the time went: {phases.text(times)}")
    if not found:
        click.echo(f"{indent}no days")


@click.command("verify")
@ROOT
@CAMERA
@click.option("--date", "day", help="Only this day (YYYY-MM-DD).")
@click.pass_context
def verify_command(ctx: click.Context, root: Path | None, camera_specs: tuple[str, ...],
                   day: str | None) -> None:
    """Re-hash compacted videos against their .sha512sum files; exit 1 naming a mismatch."""
    cams = common.cameras(ctx, camera_specs, root=root)
    if day is not None and not layout.is_day_name(day):
        raise click.BadParameter(f"{day!r} is not a YYYY-MM-DD date", param_hint="--date")
    checked, bad = 0, []
    for camera in cams:
        for d in [day] if day else layout.list_days(camera.root):
            n, problems = verify.check_day(camera.root / d)
            n_archived, in_store = archive_verify.check_day(camera.root / d)  # in the store
            checked += n + n_archived
            bad += [(camera.name, p) for p in problems + in_store]
    for name, p in bad:
        click.echo(f"FAILED {name + ' ' if len(cams) > 1 else ''}{p}", err=True)
    click.echo(f"{checked} videos checked, {len(bad)} failed")
    if bad:
        sys.exit(1)


COMMANDS = [compact, compactor_command, status_command, verify_command]
