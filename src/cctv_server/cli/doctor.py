"""`doctor`: checks of a root, one line per finding (OK, WARN, FAIL); a new check is one more function."""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import click

from .. import config, layout
from . import common


@dataclass(frozen=True)
class Finding:
    level: str  # "OK", "WARN" (works, but look at it) or "FAIL" (something cannot work)
    text: str

    def __str__(self) -> str:
        return f"{self.level} {self.text}"


Check = Callable[[config.Settings, float], Iterable[Finding]]  # (settings, now) -> findings


def root_readable(settings: config.Settings, now: float) -> Iterator[Finding]:
    """The root can be listed: without that nothing else can be found."""
    try:
        with os.scandir(settings.root) as entries:
            next(entries, None)
    except OSError as err:
        yield Finding("FAIL", f"the root {settings.root} cannot be read: {err.strerror}")
        return
    yield Finding("OK", f"the root {settings.root} is readable")


def skipped_names(settings: config.Settings, now: float) -> Iterator[Finding]:
    """What the server passes over: a WARN for each name that looks like footage or cannot be
    served (docs/catalog.md); other files (notes, snapshots) are only counted."""
    assert settings.root is not None
    today = dt.datetime.fromtimestamp(now, settings.tz).date()
    others = warned = 0
    for found in layout.skipped(Path(settings.root), today):
        if found.warn:
            warned += 1
            yield Finding("WARN", f"skipped {found.path}: {found.reason}")
        else:
            others += 1
    if not warned:
        yield Finding("OK", "no recording is skipped")
    if others:
        yield Finding("OK", f"{others} other names ignored (neither day folders nor segments)")


CHECKS: list[Check] = [root_readable, skipped_names]


def run_checks(settings: config.Settings, now: float, checks: list[Check] = CHECKS) -> list[Finding]:
    """Every check's findings; a check that breaks is itself a FAIL, and the others still run."""
    found: list[Finding] = []
    for check in checks:
        try:
            found += check(settings, now)
        except OSError as err:
            found.append(Finding("FAIL", f"{check.__name__}: {err}"))
    return found


@click.command("doctor")
@common.ROOT
@click.pass_context
def doctor(ctx: click.Context, root: Path | None) -> None:
    """Check ROOT and say what the server skips: one line per finding, exit 1 on any FAIL."""
    settings = common.settings(ctx, root=root)
    findings = run_checks(settings, time.time())
    for finding in findings:
        click.echo(str(finding))
    sys.exit(1 if any(f.level == "FAIL" for f in findings) else 0)


COMMANDS = [doctor]
