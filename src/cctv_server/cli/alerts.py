"""`alerts test`, and the alerts `serve` runs: built here from the server's own state."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import click

from .. import layout
from ..activity.search import CameraActivity
from ..alerts import deliver, targets
from ..alerts.alert import Alert
from ..alerts.homeassistant import HomeAssistant
from ..alerts.outbox import Outbox
from ..alerts.rules import ActivityEvent
from ..alerts.service import CameraSource, EventsSince, Service
from ..cameras import Camera, server_state_dir
from ..config import Settings
from ..playback.stills import safe_newest
from ..retention.run import disks
from ..retention.space import disk
from . import common

log = logging.getLogger(__name__)


@click.group("alerts")
def alerts() -> None:
    """Alerts: the `[[alerts]]` targets of the config file."""


@alerts.command("test")
@click.pass_context
def test(ctx: click.Context) -> None:
    """Send a test alert to every target now, and say for each: delivered, or why not."""
    common.settings(ctx, need_root=False)
    found = targets.load(ctx.obj.get("config"))
    if not found:
        raise click.ClickException("no [[alerts]] tables in the config file (give --config)")
    alert = Alert("test", "cctv-server test alert", "If you read this, alerts reach you.",
                  f"test:{time.time()}", time.time())
    failed = 0
    for target in found:
        if "test" not in target.events:
            click.echo(f"{target.name}: skipped (its events leave out test)")
            continue
        why = deliver.send(target, alert)
        failed += why is not None
        click.echo(f"{target.name}: " + ("delivered" if why is None else f"NOT delivered: {why}"))
    if failed:
        raise click.exceptions.Exit(1)


def for_server(settings: Settings, cams: list[Camera], app, config_file: Path | None) -> Service:
    """serve's alerts over its cameras' catalogs and roots, fed by its audit log and its cameras'
    activity events, counted in its /metrics."""
    states = {name: a.state.cctv for name, a in app.state.cameras.items()}
    sources = [_source(c, states[c.name]) for c in cams]
    events_since = activity_feed({c.name: states[c.name].activity for c in cams
                                  if c.settings.activity})
    home = None
    if settings.mqtt:
        home = HomeAssistant(settings.mqtt, settings.mqtt_discovery_prefix, settings.mqtt_topic,
                             [c.name for c in cams])
    state_dir = server_state_dir(settings, cams)
    service = Service(Outbox(state_dir), targets.load(config_file),
                      sources, settings.tz, short=lambda: _short(cams), events_since=events_since,
                      activity_every=settings.activity_alert_every, home=home,
                      player_base=settings.public_url or _own_url(settings),
                      audit_file=app.state.access.audit.path)
    app.state.access.audit.subscribe(service.on_audit)
    app.state.metrics.registry.register(service.counts)
    return service


# An event that ended this long ago is final: the next segment (10 s, then stable_seconds) has been
# measured by now, so the event will not grow or merge with the next; the alert goes out once.
EVENT_SETTLED = 30.0


def activity_feed(cameras: dict[str, CameraActivity], clock=time.time) -> EventsSince:
    """The alerts' view of the activity index: each camera's finished events that start after
    `since`, with the still at their peak."""
    def events_since(camera: str, since: float) -> list[ActivityEvent]:
        found = cameras.get(camera)
        if found is None:
            return []
        final = clock() - EVENT_SETTLED
        return [ActivityEvent(camera, e.start, e.end, e.peak, e.score, found.still(e), None)
                for e in found.recent(since) if e.start > since and e.end <= final]
    return events_since


def _own_url(settings: Settings) -> str:
    scheme = "https" if settings.tls_cert else "http"
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"{scheme}://{host}:{settings.port}"


def _source(camera: Camera, state) -> CameraSource:
    def still() -> bytes | None:
        found = safe_newest(state.stills)
        return found.jpeg if found else None

    return CameraSource(
        camera.name, camera.settings.offline_after, state.catalog.newest_arrival,
        state.catalog.compactions, lambda: quarantined(camera.root), still,
        lambda: disk(camera.root, camera.settings.keep_free).free)


def _short(cams: list[Camera]) -> dict[str, tuple[int, int]]:
    return {d.mount: (d.free, d.keep_free) for d in disks(cams).values() if d.short > 0}


def quarantined(root: Path) -> int:
    """Files in every day's quarantine folder, their `.reason.txt` notes not counted."""
    count = 0
    for day in layout.list_days(root):
        try:
            count += sum(1 for n in (root / day / layout.QUARANTINE).iterdir()
                         if not n.name.endswith(".reason.txt"))
        except (FileNotFoundError, NotADirectoryError):
            continue
    return count


COMMANDS = [alerts]
