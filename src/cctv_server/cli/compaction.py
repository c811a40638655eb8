"""The compaction commands: `compact`, `compactor`, `status` and `verify`."""

from __future__ import annotations

import datetime as dt
import signal
import sys
import threading
import time
from pathlib import Path

import click

from .. import config, format, layout
from ..compaction import daemon, phases, status, verify
from ..compaction.job import Compactor
from ..errors import CctvError
from . import common

ROOT = common.ROOT
SETTLE = click.option("--settle", help="Wait after a day ends before compacting it (0, 90m, 2d) [default: 48h].")
QUIET = click.option("--quiet", help="No segment may have arrived this long before [default: 1h].")


def _compactor(settings: config.Settings, on_progress=None) -> Compactor:
    try:
        return daemon.make_compactor(settings, on_progress)
    except CctvError as err:
        raise click.ClickException(str(err)) from None


def _clock(settings: config.Settings):
    return lambda seconds: dt.datetime.fromtimestamp(seconds, settings.tz).strftime("%Y-%m-%d %H:%M:%S")


@click.command()
@ROOT
@click.option("--date", "day", help="Only this day (YYYY-MM-DD).")
@SETTLE
@QUIET
@click.option("--dry-run", is_flag=True, help="Print what would be done, and do nothing.")
@click.pass_context
def compact(ctx: click.Context, root: Path | None, day: str | None, settle: str | None,
            quiet: str | None, dry_run: bool) -> None:
    """Compact each eligible day of ROOT (or the given day) into one verified video, oldest first."""
    settings = common.settings(ctx, root=root, settle=settle, quiet=quiet)
    if day is not None and not layout.is_day_name(day):
        raise click.BadParameter(f"{day!r} is not a YYYY-MM-DD date", param_hint="--date")
    bar = _ProgressBar()
    c = _compactor(settings, bar.update)
    for done_day, what in daemon.recover(c).items():
        click.echo(f"{done_day}: interrupted compaction {what}")
    cands = daemon.candidates(c, settings.settle, time.time(), respect_backoff=False)
    if day is not None:
        cands = [x for x in cands if x.day == day]
    if dry_run:
        _dry_run(c, cands, settings)
        return
    _report_waiting(cands, settings, day)
    with bar:
        outcomes = daemon.run_pass(c, [x.day for x in cands if x.ready_at <= time.time()])
    for o in outcomes:
        click.echo(f"{o.day}: {o.status}" + (f" - {o.message}" if o.message else ""))
    if any(o.status == "failed" for o in outcomes):
        sys.exit(1)


def _report_waiting(cands, settings: config.Settings, day: str | None) -> None:
    now = time.time()
    for x in cands:
        if x.ready_at > now:
            click.echo(f"{x.day}: waiting, eligible at {_clock(settings)(x.ready_at)}")
    if day is not None and not cands:
        click.echo(f"{day}: no segments to compact")


def _dry_run(c: Compactor, cands, settings: config.Settings) -> None:
    now, p = time.time(), c.profile
    how = f"{p.codec}" + (f" preset {p.preset} crf {p.crf} keyint {p.keyint}s" if p.codec != "copy" else "")
    for x in cands:
        segments, _ = layout.list_day(c.root / x.day)
        size = format.size(sum(st.st_size for st in segments.values()))
        if x.ready_at <= now:
            click.echo(f"would compact {x.day}: {len(segments)} segments, {size}, with {how}")
        else:
            click.echo(f"{x.day}: waiting, eligible at {_clock(settings)(x.ready_at)}")
    if not cands:
        click.echo("nothing to compact")


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
@SETTLE
@QUIET
@click.pass_context
def compactor_command(ctx: click.Context, root: Path | None, settle: str | None,
                      quiet: str | None) -> None:
    """Run until stopped: compact each day of ROOT as it becomes eligible, at low priority."""
    settings = common.settings(ctx, root=root, settle=settle, quiet=quiet)
    daemon.lower_priority()
    c = _compactor(settings)
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()
        raise SystemExit(0)  # interrupts an encode: it is rolled back, the segments stay

    signal.signal(signal.SIGTERM, on_signal)
    click.echo(f"Compacting {settings.root} (settle {settings.settle:.0f} s)", err=True)
    try:
        daemon.Daemon(c, settings.settle).run(stop)
    except KeyboardInterrupt:
        pass


@click.command("status")
@ROOT
@click.pass_context
def status_command(ctx: click.Context, root: Path | None) -> None:
    """Print each day's compaction state, as the index page shows it."""
    settings = common.settings(ctx, root=root)
    c = _compactor(settings)
    now = time.time()
    c.catalog.rescan(c.root, now, settings.stable_seconds, settings.tz)
    daemon.candidates(c, settings.settle, now)
    found = status.states(c.catalog, settings, now, _clock(settings), format.size)
    rows = c.catalog.compactions()
    for day in sorted(found):
        click.echo(f"{day}  {found[day].text}")
        times = phases.loads((rows.get(day) or {}).get("phases"))
        if times and found[day].kind == "compacted":
            click.echo(f"{' ' * len(day)}  where the time went: {phases.text(times)}")
    if not found:
        click.echo("no days")


@click.command("verify")
@ROOT
@click.option("--date", "day", help="Only this day (YYYY-MM-DD).")
@click.pass_context
def verify_command(ctx: click.Context, root: Path | None, day: str | None) -> None:
    """Re-hash compacted videos against their .sha512sum files; exit 1 naming a mismatch."""
    settings = common.settings(ctx, root=root)
    if day is not None and not layout.is_day_name(day):
        raise click.BadParameter(f"{day!r} is not a YYYY-MM-DD date", param_hint="--date")
    days = [day] if day else layout.list_days(settings.root)
    checked, bad = 0, []
    for d in days:
        n, problems = verify.check_day(settings.root / d)
        checked += n
        bad += problems
    for p in bad:
        click.echo(f"FAILED {p}", err=True)
    click.echo(f"{checked} videos checked, {len(bad)} failed")
    if bad:
        sys.exit(1)


COMMANDS = [compact, compactor_command, status_command, verify_command]
