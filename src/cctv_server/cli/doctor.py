"""`doctor`: checks of the cameras and the machine, one line per finding (OK, WARN, FAIL); a new check is one more function."""

from __future__ import annotations

import datetime as dt
import os
import pwd
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import click

from .. import config, format, layout
from ..access.store import FILE_NAME as ACCOUNTS_FILE
from ..archive import health as archive_health
from ..cameras import Camera, server_state_dir
from ..compaction.job import disk_need
from ..errors import CctvError
from ..footage.daylock import day_lock
from ..media import ffmpeg
from ..retention.run import disks
from ..web.hosts import is_loopback
from . import common


@dataclass(frozen=True)
class Finding:
    level: str  # "OK", "WARN" (works, but look at it) or "FAIL" (something cannot work)
    text: str

    def __str__(self) -> str:
        return f"{self.level} {self.text}"


Check = Callable[[config.Settings, float], Iterable[Finding]]  # (a camera's settings, now)
ServerCheck = Callable[[config.Settings, list[Camera], float], Iterable[Finding]]
ENCODERS = {"hevc": "libx265", "av1": "libsvtav1", "h264": "libx264"}  # codec -> ffmpeg encoder
STRAY_AFTER = 3600.0  # seconds: an upload's temp file older than this was left by a crash
CLOCK_AHEAD = 300.0  # seconds: a file dated further ahead of the clock than this is news
SANE_YEAR = 2020


# --- each camera ---------------------------------------------------------------------------

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


@dataclass(frozen=True)
class User:
    """Whom the permissions are checked for: the server's user."""

    name: str
    uid: int
    gids: frozenset[int]

    @classmethod
    def named(cls, name: str | None) -> User:
        entry = pwd.getpwuid(os.geteuid()) if name is None else pwd.getpwnam(name)
        return cls(entry.pw_name, entry.pw_uid,
                   frozenset(os.getgrouplist(entry.pw_name, entry.pw_gid)))

    def may(self, st: os.stat_result, want: int) -> bool:
        """Pure: whether the mode bits give this user `want` (os.R_OK | os.W_OK | os.X_OK)."""
        if self.uid == 0:
            return True
        shift = 6 if st.st_uid == self.uid else 3 if st.st_gid in self.gids else 0
        return (st.st_mode >> shift) & want == want


def permissions(user: User) -> Check:
    """The check of the roots for `user`: it must read, list and change (delete in) the root,
    every day folder and the state folder, and should own the root (docs: systemd)."""

    def root_permissions(settings: config.Settings, now: float) -> Iterator[Finding]:
        root = Path(settings.root)
        st = root.stat()
        rwx = os.R_OK | os.W_OK | os.X_OK
        if not user.may(st, rwx):
            yield Finding("FAIL", f"{user.name} cannot read and change {root} (mode"
                          f" {stat.filemode(st.st_mode)}, owner {_owner(st.st_uid)})")
            return
        if st.st_uid != user.uid and user.uid != 0:
            yield Finding("WARN", f"{root} is owned by {_owner(st.st_uid)}, not {user.name}:"
                          " the server's user should own its root")
        bad = [d for d in layout.list_days(root) if not user.may((root / d).stat(), rwx)]
        if bad:
            yield Finding("FAIL", f"{user.name} cannot delete in {len(bad)} day folders (e.g."
                          f" {bad[0]}): compaction and retention cannot run there")
        state = settings.catalog_path.parent
        if state.exists() and not user.may(state.stat(), rwx):
            yield Finding("FAIL", f"{user.name} cannot write the state folder {state}")
        if not bad:
            yield Finding("OK", f"{user.name} may read and change {root} and its day folders")

    return root_permissions


def _owner(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def catalog_integrity(settings: config.Settings, now: float) -> Iterator[Finding]:
    """SQLite's own `PRAGMA integrity_check` of the catalog, opened read-only."""
    path = settings.catalog_path
    if not path.exists():
        yield Finding("OK", f"no catalog yet at {path}: the server builds it at start")
        return
    try:
        db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=10)
        try:
            found = [row[0] for row in db.execute("PRAGMA integrity_check")]
        finally:
            db.close()
    except sqlite3.Error as err:
        yield Finding("FAIL", f"the catalog {path} cannot be checked: {err} (the server rebuilds"
                      " a damaged one; or delete it)")
        return
    if found == ["ok"]:
        yield Finding("OK", f"the catalog {path} passes SQLite's integrity check")
    else:
        yield Finding("FAIL", f"the catalog {path} is damaged: {'; '.join(found[:3])} (the"
                      " server rebuilds it from the recordings; or delete it)")


def stray_files(settings: config.Settings, now: float) -> Iterator[Finding]:
    """What a crash leaves: an interrupted deletion, a compaction's files that no compaction is
    working on, an upload's temp file; each is finished or removed by the next start."""
    root = Path(settings.root)
    found = [f"{e.name} (an interrupted deletion: the compactor's next start, or `cctv-server"
             f" retention`, finishes it)" for e in os.scandir(root)
             if e.name.startswith(layout.DELETING) and e.is_dir(follow_symlinks=False)]
    for day in layout.list_days(root):
        found += _stray_in_day(root / day, now)
    for text in found:
        yield Finding("WARN", f"left by a crash: {text}")
    if not found:
        yield Finding("OK", "no file left by a crash")


def _stray_in_day(day_dir: Path, now: float) -> list[str]:
    names = [e.name for e in os.scandir(day_dir) if e.name.startswith(".")]
    work = [n for n in names if n == layout.JOURNAL or n.endswith((".partial", ".chunks"))]
    found = []
    if work:
        with day_lock(day_dir) as locked:
            if locked:  # else a compaction is working on the day now: its files are no strays
                found += [f"{day_dir.name}/{n} (the compactor's next start finishes or undoes"
                          " the compaction)" for n in work]
    for name in names:
        if ".upload-" in name or name.endswith(".tmp"):
            with_time = _mtime(day_dir / name)
            if with_time is not None and now - with_time > STRAY_AFTER:
                found.append(f"{day_dir.name}/{name} (a write that never finished; delete it)")
    return found


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def clock_and_zone(settings: config.Settings, now: float) -> Iterator[Finding]:
    """The clock is set, the zone is what the day folders are named in, no footage is dated
    ahead of the clock (a wrong clock here or in the camera)."""
    local = dt.datetime.fromtimestamp(now, settings.tz)
    if local.year < SANE_YEAR:
        yield Finding("FAIL", f"the clock says {local:%Y-%m-%d %H:%M}: set it (NTP)")
        return
    yield Finding("OK", f"the clock says {local:%Y-%m-%d %H:%M} in {settings.timezone}"
                  f" (UTC{local:%z})")
    root = Path(settings.root)
    days = layout.list_days(root, local.date())
    ahead = [d for d in days if layout.is_future(d, local.date())]
    if ahead:
        yield Finding("WARN", f"{len(ahead)} day folders are dated after tomorrow (e.g. {ahead[0]}):"
                      " a camera's clock, or the timezone setting, is wrong")
    newest = max((st.st_mtime for d in days[-2:] for st in layout.list_day(root / d)[0].values()),
                 default=None)
    if newest is not None and newest > now + CLOCK_AHEAD:
        yield Finding("WARN", f"the newest segment is dated {format.duration(newest - now)} ahead"
                      " of the clock: this machine's clock is behind, or the camera's ahead")


def archive_store(settings: config.Settings, now: float) -> Iterator[Finding]:
    """The camera's store (the archive setting) answers, with these credentials and bucket."""
    if not settings.archive:
        return
    why = archive_health.problem(settings.archive, settings.archive_endpoint, 0)
    if why:
        yield Finding("FAIL", f"the archive cannot be used: {why} (compacted days stay on the disk)")
    else:
        yield Finding("OK", f"the archive {settings.archive} answers")


def camera_checks(user: User | None = None) -> list[Check]:
    return [root_readable, skipped_names, permissions(user or User.named(None)),
            catalog_integrity, stray_files, clock_and_zone, archive_store]



# --- the machine and the server ------------------------------------------------------------

def ffmpeg_encoders(settings: config.Settings, cameras: list[Camera], now: float) -> Iterator[Finding]:
    """ffmpeg runs, with the encoders compaction uses: a FAIL if a camera's codec needs one
    that is missing, a WARN for one no camera uses now."""
    try:
        binary = ffmpeg.locate(settings.ffmpeg)
        proc = subprocess.run([binary, "-hide_banner", "-encoders"], capture_output=True,
                              text=True, timeout=30)
    except (CctvError, OSError, subprocess.TimeoutExpired) as err:
        yield Finding("FAIL", f"ffmpeg cannot run: {err}")
        return
    if proc.returncode:
        yield Finding("FAIL", f"ffmpeg -encoders exited {proc.returncode}: {proc.stderr[-300:]}")
        return
    have = {line.split()[1] for line in proc.stdout.splitlines() if len(line.split()) > 1}
    used = {c.settings.codec for c in cameras}
    yield Finding("OK", f"ffmpeg runs: {binary}")
    for codec in ("hevc", "av1"):
        encoder = ENCODERS[codec]
        if encoder in have:
            yield Finding("OK", f"ffmpeg has {encoder} (codec = \"{codec}\")")
        else:
            level = "FAIL" if codec in used else "WARN"
            yield Finding(level, f"ffmpeg has no {encoder}: codec = \"{codec}\" cannot compact")
    if "h264" in used and ENCODERS["h264"] not in have:
        yield Finding("FAIL", "ffmpeg has no libx264: codec = \"h264\" cannot compact")


def free_space(settings: config.Settings, cameras: list[Camera], now: float) -> Iterator[Finding]:
    """Each filesystem against keep_free, and against the largest day the compactor has to do."""
    for d in disks(cameras).values():
        text = f"{d.mount}: {format.size(d.free)} free of {format.size(d.total)}"
        if d.short > 0:
            yield Finding("FAIL", f"{text}, below keep_free {format.size(d.keep_free)}: retention"
                          " deletes the oldest days, compaction waits")
            continue
        yield Finding("OK", f"{text}, keep_free {format.size(d.keep_free)}")
        need = _compaction_need(cameras, d.dev)
        if need and need[0] + d.keep_free > d.free:
            yield Finding("WARN", f"{d.mount}: compacting {need[1]} needs about"
                          f" {format.size(need[0])} beyond keep_free; it waits until there is room")


def _compaction_need(cameras: list[Camera], dev: int) -> tuple[int, str] | None:
    """The largest estimated need of a day still in segments on that filesystem (job.py)."""
    needs = []
    for c in cameras:
        if os.stat(c.root).st_dev != dev:
            continue
        for day in layout.list_days(c.root):
            size = sum(st.st_size for st in layout.list_day(c.root / day)[0].values())
            if size:
                needs.append((disk_need(size, c.settings.codec),
                              f"{c.name} {day}" if len(cameras) > 1 else day))
    return max(needs, default=None)


def inotify_watches(settings: config.Settings, cameras: list[Camera], now: float) -> Iterator[Finding]:
    """The server (and its compactor) watch each root and each day folder; the kernel's limit
    is per user, for all the user's programs."""
    try:
        limit = int(Path("/proc/sys/fs/inotify/max_user_watches").read_text())
    except (OSError, ValueError):
        yield Finding("WARN", "cannot read the inotify watch limit; new segments are then seen"
                      " by the periodic rescan only if it is too low")
        return
    folders = sum(1 + len(layout.list_days(c.root)) for c in cameras)
    need = folders * (2 if settings.compactor else 1)
    text = f"{need} inotify watches needed ({folders} folders), the limit is {limit}"
    if need > limit:
        yield Finding("FAIL", text + ": raise fs.inotify.max_user_watches (sysctl)")
    elif need > limit // 2:
        yield Finding("WARN", text + ": other programs of the user share it; raise it")
    else:
        yield Finding("OK", text)


def accounts(settings: config.Settings, cameras: list[Camera], now: float) -> Iterator[Finding]:
    """Listening beyond loopback without any account leaves nobody to answer for the footage."""
    if is_loopback(settings.host):
        yield Finding("OK", f"listening on {settings.host}: this machine only")
        return
    if settings.auth == "none":
        yield Finding("WARN", f"listening on {settings.host} with auth = none: anyone who can"
                      " reach it watches every camera")
        return
    try:
        path = server_state_dir(settings, cameras) / ACCOUNTS_FILE
    except CctvError as err:
        yield Finding("FAIL", str(err))
        return
    count = _accounts(path)
    if count:
        yield Finding("OK", f"listening on {settings.host}, with {count} accounts")
    else:
        yield Finding("FAIL", f"listening on {settings.host} beyond this machine, and there is no"
                      f" account in {path}: serve refuses to start; run cctv-server user add")


def _accounts(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=10)
        try:
            return db.execute("SELECT count(*) FROM account").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return 0


HLSJS = Path(__file__).resolve().parents[1] / "web" / "static" / "vendor" / "hls.min.js"


def player_library(settings: config.Settings, cameras: list[Camera], now: float,
                   path: Path = HLSJS) -> Iterator[Finding]:
    """The player library: without hls.js only browsers with HLS of their own play the pages."""
    if path.is_file() and path.stat().st_size > 0:
        yield Finding("OK", f"the player library hls.js is installed ({path})")
    else:
        yield Finding("WARN", f"the player library hls.js is missing ({path}): only browsers with"
                      " their own HLS player play the pages; install a wheel (it carries it) or"
                      " run npm ci && scripts/vendor-js.sh")


SERVER_CHECKS: list[ServerCheck] = [ffmpeg_encoders, free_space, inotify_watches, accounts]
SERVER_CHECKS.append(player_library)


def run_checks(settings: config.Settings, now: float,
               checks: list[Check] | None = None) -> list[Finding]:
    """Every check's findings; a check that breaks is itself a FAIL, and the others still run.
    The checks are made when run: looking up the server's user must not happen at import."""
    found: list[Finding] = []
    for check in camera_checks() if checks is None else checks:
        try:
            found += check(settings, now)
        except OSError as err:
            found.append(Finding("FAIL", f"{check.__name__}: {err}"))
    return found


def run_server_checks(settings: config.Settings, cameras: list[Camera], now: float,
                      checks: list[ServerCheck] = SERVER_CHECKS) -> list[Finding]:
    found: list[Finding] = []
    for check in checks:
        try:
            found += check(settings, cameras, now)
        except OSError as err:
            found.append(Finding("FAIL", f"{check.__name__}: {err}"))
    return found


@click.command("doctor")
@common.ROOT
@common.CAMERA
@click.option("--user", help="The server's user, whose permissions are checked [default: yours].")
@click.pass_context
def doctor(ctx: click.Context, root: Path | None, camera_specs: tuple[str, ...],
           user: str | None) -> None:
    """Check every camera (or --camera NAME) and this machine: one line per finding, OK, WARN
    or FAIL; exit 1 on any FAIL."""
    cams = common.cameras(ctx, camera_specs, root=root)
    try:
        server = common.server_settings(ctx, camera_specs, root=root)  # the state serve reads
    except CctvError:  # no state folder to be found: the accounts check says so
        server = common.settings(ctx, need_root=False, root=root)
    try:
        checks = camera_checks(User.named(user))
    except KeyError:
        raise click.BadParameter(f"no user named {user!r}", param_hint="--user") from None
    now = time.time()
    findings = []
    for camera in cams:
        prefix = f"{camera.name}: " if len(cams) > 1 else ""
        findings += [Finding(f.level, prefix + f.text)
                     for f in run_checks(camera.settings, now, checks)]
    findings += run_server_checks(server, cams, now)
    for finding in findings:
        click.echo(str(finding))
    sys.exit(1 if any(f.level == "FAIL" for f in findings) else 0)


COMMANDS = [doctor]
