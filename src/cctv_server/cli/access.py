"""`user`, `token`, `share` and `audit`: accounts, camera tokens and share links, on the state `serve` reads."""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

import click

from .. import format
from ..access.service import Access
from ..access.tokens import WORKER
from ..config import parse_duration
from ..playback import exportplan
from ..web.login import share_path
from . import common


def _access(ctx: click.Context, root: Path | None, specs: tuple[str, ...]):
    """The server's access control (in common.state_dir, as `serve` finds it), its settings,
    and the cameras named or picked (none when only state_dir is set)."""
    state = common.state_dir(ctx, specs, root=root)
    settings = common.settings(ctx, need_root=False, root=root)
    cams = common.cameras(ctx, specs, root=root) if specs or root or _configured(ctx) else []
    return Access(state, settings.tz, audit_max=settings.audit_max,
                  audit_keep=settings.audit_keep), settings, cams


def _every_name(ctx: click.Context, root: Path | None, specs: tuple[str, ...], cams) -> set[str]:
    """Every camera's name, whichever ones `--camera NAME` picked (a token or an account may
    be for any camera the server serves)."""
    if not cams:
        return set()
    return {c.name for c in common.cameras(ctx, tuple(s for s in specs if "=" in s), root=root)}


def _configured(ctx: click.Context) -> bool:
    return ctx.find_root().obj.get("config") is not None


def _password(stdin: bool) -> str:
    if stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@click.group()
def user() -> None:
    """Accounts: admins do everything; viewers watch and export the cameras they are given."""


@user.command("add")
@common.ROOT
@common.CAMERA
@click.argument("name")
@click.option("--role", type=click.Choice(["admin", "viewer"]), required=True)
@click.option("--cameras", "allowed", default="", help="A viewer's cameras, comma-separated (default: all).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.pass_context
def user_add(ctx, root, camera_specs, name, role, allowed, password_stdin) -> None:
    access, _, cams = _access(ctx, root, camera_specs)
    wanted = tuple(c.strip() for c in allowed.split(",") if c.strip())
    names = _every_name(ctx, root, camera_specs, cams)
    unknown = [c for c in wanted if names and c not in names]
    if unknown:
        raise click.BadParameter(f"no camera named {unknown[0]!r}", param_hint="--cameras")
    access.accounts.add(name, role, _password(password_stdin), wanted)
    access.audit.write("user added", account=name, role=role, cameras=list(wanted), by="cli")
    click.echo(f"added {role} {name}" + (f" ({', '.join(wanted)})" if wanted else ""))


@user.command("list")
@common.ROOT
@common.CAMERA
@click.pass_context
def user_list(ctx, root, camera_specs) -> None:
    access, settings, _ = _access(ctx, root, camera_specs)
    for a in access.accounts.all():
        since = dt.datetime.fromtimestamp(a.created, settings.tz).strftime("%Y-%m-%d")
        click.echo(f"{a.name}  {a.role}  {', '.join(a.cameras) or 'all cameras'}  since {since}")


@user.command("passwd")
@common.ROOT
@common.CAMERA
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.pass_context
def user_passwd(ctx, root, camera_specs, name, password_stdin) -> None:
    access, _, _ = _access(ctx, root, camera_specs)
    access.accounts.set_password(name, _password(password_stdin))
    access.audit.write("password changed", account=name, by="cli")
    click.echo(f"changed the password of {name}")


@user.command("remove")
@common.ROOT
@common.CAMERA
@click.argument("name")
@click.pass_context
def user_remove(ctx, root, camera_specs, name) -> None:
    access, _, _ = _access(ctx, root, camera_specs)
    access.accounts.remove(name)
    access.audit.write("user removed", account=name, by="cli")
    click.echo(f"removed {name}; their sessions are over")


@click.group()
def token() -> None:
    """Camera tokens: a camera uploads with one, to its own camera only, and reads nothing."""


@token.command("add")
@common.ROOT
@common.CAMERA
@click.argument("camera", required=False)
@click.option("--name", default="", help="What the token is for, e.g. the camera's host name.")
@click.option("--worker", "worker", metavar="NAME",
              help="A worker's token instead (cctv-server worker): it fetches the segments of"
                   " days being compacted and sends chunks back, nothing else.")
@click.pass_context
def token_add(ctx, root, camera_specs, camera, name, worker) -> None:
    access, _, cams = _access(ctx, root, camera_specs)
    if worker is not None or camera is None:
        return _worker_token_add(access, camera, worker)
    names = _every_name(ctx, root, camera_specs, cams)
    if names and camera not in names:
        raise click.BadParameter(f"no camera named {camera!r}", param_hint="CAMERA")
    found, secret = access.tokens.add(camera, name)
    access.audit.write("token added", token=found.id, camera=camera, by="cli")
    click.echo(f"token {found.id} for {camera}; it is shown once, here:")
    click.echo(secret)


def _worker_token_add(access, camera: str | None, worker: str | None) -> None:
    """`token add --worker NAME`: a worker's token, its secret as the last line."""
    if camera is not None or not worker:
        raise click.UsageError("give a CAMERA, or --worker NAME (not both)")
    found, secret = access.tokens.add(WORKER, worker)
    access.audit.write("token added", token=found.id, worker=worker, by="cli")
    click.echo(f"token {found.id} for worker {worker}; it is shown once, here:")
    click.echo(secret)


@token.command("list")
@common.ROOT
@common.CAMERA
@click.pass_context
def token_list(ctx, root, camera_specs) -> None:
    access, settings, _ = _access(ctx, root, camera_specs)
    for t in access.tokens.all():
        used = format.clock(t.last_used, settings.tz, day="") if t.last_used else "never"
        made = format.clock(t.created, settings.tz, day="")
        what = "worker" if t.is_worker else t.camera
        click.echo(f"{t.id}  {what}  {t.name or '-'}  created {made}  last used {used}")


@token.command("revoke")
@common.ROOT
@common.CAMERA
@click.argument("token_id")
@click.pass_context
def token_revoke(ctx, root, camera_specs, token_id) -> None:
    access, _, _ = _access(ctx, root, camera_specs)
    found = access.tokens.revoke(token_id)
    access.audit.write("token revoked", token=found.id, camera=found.camera, by="cli")
    click.echo(f"revoked token {found.id} of "
               + (f"worker {found.name}" if found.is_worker else found.camera))


@click.group(invoke_without_command=True)
@common.ROOT
@common.CAMERA
@click.option("--from", "start", help="ISO 8601 start of the shared range.")
@click.option("--to", "end", help="ISO 8601 end of the shared range.")
@click.option("--expires", default="7d", show_default=True, help="How long the link works.")
@click.pass_context
def share(ctx, root, camera_specs, start, end, expires) -> None:
    """A link that lets anyone who has it watch one camera's range until it expires:
    `share --camera NAME --from ISO --to ISO [--expires 7d]`; `share list`; `share revoke ID`."""
    if ctx.invoked_subcommand is not None:
        return
    access, settings, cams = _access(ctx, root, camera_specs)
    if not start or not end:
        raise click.UsageError("give --from and --to (or: share list, share revoke ID)")
    if len(cams) != 1:
        raise click.UsageError("pick the camera to share with --camera NAME")
    camera = cams[0]
    try:
        tz = camera.settings.tz
        rng = exportplan.parse_range(start, end, tz, float("inf"), dt.datetime.now(tz).date())
        found, secret = access.shares.add(camera.name, rng.start, rng.end,
                                          time.time() + parse_duration(expires), "cli")
    except ValueError as err:  # a duration the parser refuses
        raise click.ClickException(str(err)) from None
    access.audit.write("share link made", share=found.id, camera=camera.name, start=found.start,
                       end=found.end, expires=found.expires, by="cli")
    base = settings.public_url or f"http://{settings.host}:{settings.port}"
    click.echo(f"share {found.id}, until {format.iso(found.expires, camera.settings.tz)}:")
    click.echo(base.rstrip("/") + share_path(camera.name, found.start, camera.settings.tz, secret))


def _share_where(ctx: click.Context, root: Path | None, specs: tuple[str, ...]):
    """`share list`/`share revoke` take the cameras before or after their own name."""
    above = ctx.parent.params
    return root or above["root"], tuple(above["camera_specs"]) + tuple(specs)


@share.command("list")
@common.ROOT
@common.CAMERA
@click.pass_context
def share_list(ctx, root, camera_specs) -> None:
    access, settings, _ = _access(ctx, *_share_where(ctx, root, camera_specs))
    for s in access.shares.all():
        state = "revoked" if s.revoked else ("expired" if s.expires <= time.time() else "active")
        click.echo(f"{s.id}  {s.camera}  {format.iso(s.start, settings.tz)} to "
                   f"{format.iso(s.end, settings.tz)}  {state}  by {s.created_by}")


@share.command("revoke")
@common.ROOT
@common.CAMERA
@click.argument("share_id")
@click.pass_context
def share_revoke(ctx, root, camera_specs, share_id) -> None:
    access, _, _ = _access(ctx, *_share_where(ctx, root, camera_specs))
    access.shares.revoke(share_id)
    access.audit.write("share link revoked", share=share_id, by="cli")
    click.echo(f"revoked share {share_id}")


@click.command()
@common.ROOT
@common.CAMERA
@click.option("--last", default=50, show_default=True, help="How many of the newest events.")
@click.option("--kind", default=None, help="Only events of this kind (e.g. 'sign-in failed').")
@click.pass_context
def audit(ctx, root, camera_specs, last, kind) -> None:
    """Print the audit log's newest events (sign-ins, failures, share links, holds, deletions),
    the rotated files (audit.log.1 ...) included."""
    access, _, _ = _access(ctx, root, camera_specs)
    for event in access.audit.read(last, kind):
        rest = "  ".join(f"{k}={v}" for k, v in event.items() if k not in ("time", "event"))
        click.echo(f"{event['time']}  {event['event']}  {rest}")


COMMANDS = [user, token, share, audit]
