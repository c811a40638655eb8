"""`serve` and `demo`: the web server, with the compactor in a background process."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import click

from .. import config, demo
from ..cameras import Camera
from ..media import ffmpeg
from . import common, preflight

log = logging.getLogger(__name__)


def serve_options(fn):
    fn = click.option("--host", help="Address to listen on [default: 127.0.0.1].")(fn)
    fn = click.option("--port", type=int, help="TCP port [default: 8080].")(fn)
    return fn


@click.command()
@common.ROOT
@common.CAMERA
@serve_options
@click.option("--no-compactor", is_flag=True,
              help="Do not run the compactor in a background process (see `compactor`).")
@click.pass_context
def serve(ctx: click.Context, root: Path | None, camera_specs: tuple[str, ...], host: str | None,
          port: int | None, no_compactor: bool) -> None:
    """Serve the cameras (ROOT, or each --camera NAME=ROOT, or the config's [cameras.NAME])."""
    flags = {"root": root, "host": host, "port": port,
             "compactor": False if no_compactor else None}
    cams = common.cameras(ctx, camera_specs, **flags)
    settings = common.server_settings(ctx, camera_specs, **flags)  # where the CLI finds the state
    # The compactor child reads the same config file and environment; it gets the same cameras.
    _run_server(settings, cams, ctx.obj.get("config"), _camera_args(root, camera_specs))


def _camera_args(root: Path | None, specs: tuple[str, ...]) -> list[str]:
    return (["--root", str(root)] if root else []) + [a for s in specs for a in ("--camera", s)]


def _run_server(settings: config.Settings, cams: list[Camera], config_file: Path | None,
                compactor_args: list[str]) -> None:
    import uvicorn

    from ..web import connections
    from ..web.server import create_server

    for camera in cams:
        preflight.state_dir(camera.settings)
    preflight.accounts_before_network(settings, cams)
    ssl = preflight.tls(settings)
    sock = preflight.listen(settings.host, settings.port)
    app = create_server(settings, cams)
    if settings.auth == "none":
        log.warning("auth = none: anyone who can reach %s watches every camera", settings.host)
    limits = connections.ConnectionLimits(settings.header_timeout, settings.send_timeout,
                                          connections.fit_file_limit(settings.max_connections))
    server = uvicorn.Server(uvicorn.Config(
        app, log_level="warning", http=connections.protocol(limits), ws="none",
        # Forwarded headers only from the proxies named: anyone else could claim any address
        # (and dodge the sign-in limiter) or claim HTTPS.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=",".join(settings.trusted_proxies) or "", **ssl,
    ))
    from . import alerts
    alerting = alerts.for_server(settings, cams, app, config_file)
    alerting.start()
    background = BackgroundCompactor(config_file, compactor_args)
    if settings.compactor:
        background.start()
        app.state.checks.append(background.problem)
    host, port = sock.getsockname()[:2]
    for camera in cams:
        path = "" if len(cams) == 1 else f"cam/{camera.name}/"
        scheme = "https" if ssl else "http"
        click.echo(f"Serving {camera.name} ({camera.root}) on {scheme}://{_authority(host)}:{port}/{path}",
                   err=True)
    try:
        server.run(sockets=[sock])
    finally:
        background.stop()
        alerting.stop()
        sock.close()


def _authority(host: str) -> str:
    return f"[{host}]" if ":" in host else host


@click.command("demo")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              default=Path("demo-recordings"), show_default=True,
              help="Where the demo cameras' recordings are made (kept between runs).")
@click.option("--camera/--no-camera", default=True, show_default=True,
              help="Keep uploading a fresh segment every 10 s, like live cameras.")
@serve_options
@click.pass_context
def demo_command(ctx: click.Context, directory: Path, camera: bool, host: str | None,
                 port: int | None) -> None:
    """Make demo cameras' recordings with ffmpeg (porch, garden, drive), and serve them."""
    # quiet 0: the demo's old days are made all at once, so the compactor may take them at once
    flags = {"host": host, "port": port, "quiet": "0"}
    settings = common.settings(ctx, need_root=False, **flags)
    binary = ffmpeg.locate(settings.ffmpeg)
    if not demo.has_recordings(directory):
        click.echo(f"Recording demo footage into {directory} ...", err=True)
        demo.make_demo(directory, binary, settings.tz)
    specs = tuple(f"{name}={directory.absolute() / name}" for name in demo.CAMERAS)
    cams = common.cameras(ctx, specs, **flags)
    if camera:
        for c in cams:
            demo.LiveCamera(c.root, binary, settings.tz, demo.CAMERAS[c.name]).start()
    _run_server(settings, cams, None, _camera_args(None, specs) + ["--quiet", "0"])


FIRST_DELAY = 1.0  # seconds before restarting a compactor that exited ...
MAX_DELAY = 300.0  # ... doubling at each exit up to this ...
RESET_AFTER = 600.0  # ... and from FIRST_DELAY again once one has run this long


def restart_delay(previous: float, ran_for: float) -> float:
    """Pure: how long to wait before restarting a compactor that ran `ran_for` s and exited,
    when the wait before it was `previous` (0 for none): 1, 2, 4 ... 300 s; 1 s after a long run."""
    if previous <= 0 or ran_for >= RESET_AFTER:
        return FIRST_DELAY
    return min(MAX_DELAY, previous * 2)


class BackgroundCompactor:
    """serve's compactor: `cctv-server compactor` in a child process that dies with the server,
    restarted with backoff when it exits (a crash, a kill), and reported by `problem()`."""

    def __init__(self, config_file: Path | None, args: list[str]):
        self.config_file = config_file
        self.args = args  # the cameras, as serve was given them
        self.proc: subprocess.Popen | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()  # no child is started once stop() has begun
        self._thread: threading.Thread | None = None
        self._delay = 0.0
        self._exit: str | None = None  # how the last child ended, while that is news
        self._restart_at: float | None = None  # monotonic, while waiting to restart
        self._started = 0.0  # monotonic start of the current child

    def start(self) -> None:
        # The thread that starts the children must outlive them: their parent-death signal
        # follows the thread, not the process.
        self._thread = threading.Thread(target=self._supervise, name="compactor", daemon=True)
        self._thread.start()

    def _supervise(self) -> None:
        while True:
            with self._lock:
                if self._stop.is_set():
                    return
                self._started, self._restart_at = time.monotonic(), None
                try:
                    self.proc = self._spawn()
                except OSError as err:
                    self.proc, code = None, f"could not start ({err})"
            if self.proc is not None:
                code = _exit_text(self.proc.wait())  # reaped here: no zombie
            if self._stop.is_set():
                return
            ran = time.monotonic() - self._started
            self._delay = restart_delay(self._delay, ran)
            self._exit = code
            self._restart_at = time.monotonic() + self._delay
            log.warning("the background compactor %s after %.0f s; restarting it in %.0f s",
                        code, ran, self._delay)
            self._stop.wait(self._delay)

    def _spawn(self) -> subprocess.Popen:
        argv = [sys.executable, "-m", "cctv_server.cli"]
        argv += ["--config", str(self.config_file)] if self.config_file else []
        argv += ["compactor", *self.args]
        return subprocess.Popen(argv, preexec_fn=_term_with_parent)

    def problem(self) -> str | None:
        """For /healthz and the index page: down and waiting to restart, or restarted less than
        RESET_AFTER ago (it may be crashing again and again); None while all is well."""
        if self._exit is None:
            return None
        restart_at = self._restart_at
        if restart_at is not None:
            return (f"compactor {self._exit}; restarting in "
                    f"{max(0.0, restart_at - time.monotonic()):.0f} s")
        if time.monotonic() - self._started < RESET_AFTER:
            return f"compactor restarted after it {self._exit}"
        return None

    def stop(self) -> None:
        with self._lock:
            self._stop.set()
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # it rolls back an encode in progress, then exits
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self._thread is not None:
            self._thread.join(5)


def _exit_text(code: int) -> str:
    """`exited with code 1`, or `exited with code -9 (SIGKILL)` for a signal."""
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"exited with code {code} ({signal.Signals(-code).name})"
    return f"exited with code {code}"


def _term_with_parent() -> None:
    ffmpeg.die_with_parent(signal.SIGTERM)
    os.setsid()  # its own group: a Ctrl-C meant for the server reaches it through stop()


COMMANDS = [serve, demo_command]
