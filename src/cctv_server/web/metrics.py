"""`/metrics` in the Prometheus text format: each camera's recordings, compaction and disk, read at each scrape.

The figures come from where they live: the catalogs (segments, videos, compaction), the disk
(free space, holds, quarantine) and the audit log (retention's deletions, made by another process);
only the HTTP counts are kept in this process. Who may read it: `metrics_allowed`.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import os
import re
import sqlite3
import threading
import time
from collections import Counter as Tally
from collections.abc import Iterator, Sequence
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, SummaryMetricFamily
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from .. import layout
from ..access.audit import FILE_NAME as AUDIT_FILE
from ..cameras import Camera, server_state_dir
from ..config import Settings
from ..errors import ConfigError, Forbidden
from ..retention import holds
from ..retention.run import AUDIT_EVENT, disks
from ..tasks import workerstatus
from . import guard

FORWARDED = ("forwarded", "x-forwarded-for", "x-real-ip")  # a proxy on this machine sends these
METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"}
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120)
UPLOAD = re.compile(r"(?:/cam/([^/]+))?/upload/")

log = logging.getLogger(__name__)


def metrics_allowed(request: Request) -> bool:
    """Who may read /metrics: a bearer token equal to `metrics_token`, or a signed-in admin; and,
    while the server has no account and no token is set, a request from loopback that no proxy
    forwarded (a proxy on this machine is loopback too)."""
    token = request.app.state.metrics.token
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if token and scheme.lower() == "bearer":
        return hmac.compare_digest(given.strip().encode(), token.encode())
    who = guard.principal(request)
    if who.kind == "account":
        return who.account.is_admin
    return (not token and who.kind == "open" and _loopback(request)
            and not any(h in request.headers for h in FORWARDED))


def _loopback(request: Request) -> bool:
    try:
        return request.client is not None and ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:
        return False


async def metrics_page(request: Request) -> Response:
    if not metrics_allowed(request):
        raise Forbidden("/metrics is for a bearer token equal to metrics_token, or, without one"
                        " set, for requests from this machine")
    body = await run_in_threadpool(generate_latest, request.app.state.metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


class Metrics:
    """The server's registry: the HTTP counts kept here, and a collector that reads the rest."""

    def __init__(self, states: dict, state_dir: Path | None, token: str | None):
        self.token = token
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("cctv_http_requests", "HTTP requests answered, by route",
                                ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("cctv_http_request_duration_seconds",
                                 "Time from a request's arrival to the end of its response",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.uploads = Counter("cctv_uploads", "Segment uploads answered, by HTTP status",
                               ["camera", "status"], registry=self.registry)
        self.cameras = list(states)
        self.registry.register(Figures(states, Deletions(state_dir) if state_dir else None))

    def observe(self, scope: dict, status: int, seconds: float) -> None:
        route = _route(scope)
        method = scope.get("method", "")
        self.requests.labels(route, method if method in METHODS else "other", str(status)).inc()
        self.latency.labels(route).observe(seconds)
        camera = self._upload_camera(scope)
        if camera is not None:
            self.uploads.labels(camera, str(status)).inc()

    def _upload_camera(self, scope: dict) -> str | None:
        """The camera a PUT to `[/cam/NAME]/upload/...` is for; None for any other request."""
        match = UPLOAD.match(scope.get("path", ""))
        if scope.get("method") != "PUT" or not match:
            return None
        name = match.group(1) or (self.cameras[0] if len(self.cameras) == 1 else None)
        return name if name in self.cameras else None


def _route(scope: dict) -> str:
    """The handler that answered (a bounded set, unlike paths), or `unmatched`."""
    endpoint = scope.get("endpoint")
    if endpoint is None:
        return "unmatched"
    return getattr(endpoint, "__name__", None) or type(endpoint).__name__


class Measure:
    """ASGI middleware: every HTTP request counted and timed, by route and status."""

    def __init__(self, app, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), [500]

        async def sending(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self.metrics.observe(scope, status[0], time.perf_counter() - started)


class Figures:
    """A collector: at each scrape, each camera's figures from its catalog and root, and each
    filesystem's free space."""

    def __init__(self, states: dict, deletions: Deletions | None):
        self.states = states
        self.deletions = deletions

    def describe(self) -> list:
        return []  # made at scrape time: nothing to collect while registering

    def collect(self) -> Iterator:
        now = time.time()
        parts = {"recordings": lambda: self._recordings(now), "compaction": self._compaction,
                 "filesystems": self._filesystems}
        for name, part in parts.items():
            try:
                yield from list(part())
            except (OSError, sqlite3.Error) as err:  # a catalog being rebuilt, a root gone
                log.warning("/metrics: the %s figures are left out (%s)", name, err)
        if self.deletions is not None:
            yield from self.deletions.collect()

    def _recordings(self, now: float) -> Iterator:
        files = GaugeMetricFamily("cctv_recordings_files", "Recordings on disk, by kind",
                                  labels=["camera", "kind"])
        size = GaugeMetricFamily("cctv_recordings_bytes", "Bytes of recordings on disk, by kind",
                                 labels=["camera", "kind"])
        age = GaugeMetricFamily("cctv_newest_segment_age_seconds",
                                "Seconds since the newest segment arrived", labels=["camera"])
        quarantined = GaugeMetricFamily("cctv_quarantined_files",
                                        "Undecodable segments moved to DAY/quarantine/",
                                        labels=["camera"])
        held = GaugeMetricFamily("cctv_held_day_folders", "Days held: retention never deletes them",
                                 labels=["camera"])
        for name, state in self.states.items():
            for kind, (count, total) in state.catalog.totals().items():
                files.add_metric([name, kind], count)
                size.add_metric([name, kind], total)
            newest = state.catalog.newest_arrival()
            if newest is not None:
                age.add_metric([name], max(0.0, now - newest))
            quarantined.add_metric([name], quarantine_count(state.root.path))
            held.add_metric([name], len(holds.all_held(state.root.path)))
        yield from (files, size, age, quarantined, held)

    def _compaction(self) -> Iterator:
        days = GaugeMetricFamily("cctv_day_folders", "Days by compaction state (waiting:"
                                 " not compacted yet)", labels=["camera", "compaction"])
        took = SummaryMetricFamily("cctv_compaction_duration_seconds",
                                   "Time the compactions of the days kept took", labels=["camera"])
        ratio = GaugeMetricFamily("cctv_compaction_ratio", "Bytes of segments per byte of video,"
                                  " over the compacted days kept", labels=["camera"])
        failing = GaugeMetricFamily("cctv_compaction_failures", "Failed attempts of the days whose"
                                    " compaction is failing", labels=["camera"])
        for name, state in self.states.items():
            _, states = state.catalog.usage()
            for kind in ("waiting", "compacting", "compacted", "failed"):
                days.add_metric([name, kind], states.get(kind, 0))
            rows = list(state.catalog.compactions().values())
            done = [r for r in rows if r.get("seconds") is not None]
            took.add_metric([name], len(done), sum(r["seconds"] for r in done))
            inputs = sum(r.get("input_size") or 0 for r in done)
            outputs = sum(r.get("output_size") or 0 for r in done)
            if outputs:
                ratio.add_metric([name], inputs / outputs)
            failing.add_metric([name], sum(r.get("failures") or 0 for r in rows
                                           if r.get("state") == "failed"))
        yield from (days, took, ratio, failing)

    def _filesystems(self) -> Iterator:
        free = GaugeMetricFamily("cctv_filesystem_free_bytes", "Free bytes an unprivileged writer"
                                 " may use on each filesystem of recordings", labels=["mountpoint"])
        size = GaugeMetricFamily("cctv_filesystem_size_bytes", "Size of each filesystem of"
                                 " recordings", labels=["mountpoint"])
        keep = GaugeMetricFamily("cctv_filesystem_keep_free_bytes", "Free bytes retention keeps"
                                 " (keep_free)", labels=["mountpoint"])
        emergency = GaugeMetricFamily("cctv_retention_emergency", "1 while free space is below"
                                      " keep_free: the oldest days are being deleted",
                                      labels=["mountpoint"])
        cameras = [Camera(name, s.settings) for name, s in self.states.items()]
        for d in disks(cameras).values():
            free.add_metric([d.mount], d.free)
            size.add_metric([d.mount], d.total)
            keep.add_metric([d.mount], d.keep_free)
            emergency.add_metric([d.mount], 1 if d.short > 0 else 0)
        yield from (free, size, keep, emergency)


def quarantine_count(root: Path) -> int:
    """Files in every day's quarantine folder, their `.reason.txt` notes not counted."""
    count = 0
    for day in layout.list_days(root):
        try:
            names = os.listdir(root / day / layout.QUARANTINE)
        except (FileNotFoundError, NotADirectoryError):
            continue
        count += sum(1 for n in names if not n.endswith(".reason.txt"))
    return count


class Deletions:
    """Retention's deletions by camera and reason, counted from the audit log (the compactor
    process makes them): only the lines added since the last scrape are read."""

    def __init__(self, state_dir: Path):
        self.path = state_dir / AUDIT_FILE
        self._lock = threading.Lock()
        self._reset()

    def _reset(self, inode: int | None = None) -> None:
        self.inode, self.offset, self.rest = inode, 0, b""
        self.days: Tally = Tally()
        self.bytes: Tally = Tally()

    def collect(self) -> Iterator:
        with self._lock:
            self._read()
            days = CounterMetricFamily("cctv_retention_deleted_day_folders", "Days deleted by"
                                       " retention, by reason", labels=["camera", "reason"])
            size = CounterMetricFamily("cctv_retention_deleted_bytes", "Bytes freed by"
                                       " retention, by reason", labels=["camera", "reason"])
            for key in sorted(self.days):
                days.add_metric(list(key), self.days[key])
                size.add_metric(list(key), self.bytes[key])
        yield from (days, size)

    def _read(self) -> None:
        try:
            with open(self.path, "rb") as f:
                st = os.fstat(f.fileno())
                if st.st_ino != self.inode or st.st_size < self.offset:  # a new or cut log
                    self._rotated(st.st_ino)
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return
        self._take(data)

    def _rotated(self, inode: int) -> None:
        """A new log: at the first read, the rotated files (access/audit.py) are counted
        too, oldest first; after a rotation, the rest of the file read so far (audit.log.1 now)
        is, and the counts go on; a log cut short starts them again."""
        previous, first = self.inode, self.inode is None
        rotated = sorted(self.path.parent.glob(AUDIT_FILE + ".*"),
                         key=lambda p: int(p.suffix[1:]) if p.suffix[1:].isdigit() else 0,
                         reverse=True)
        for path in rotated:
            try:
                with open(path, "rb") as f:
                    if first or os.fstat(f.fileno()).st_ino == previous:
                        f.seek(0 if first else self.offset)
                        self._take(f.read())
                        self.rest = b""
                        previous = None if not first else previous  # one file after a rotation
            except OSError:
                continue
        if not first and previous is not None:  # not rotated: cut short, or replaced
            self._reset(inode)
        self.inode, self.offset, self.rest = inode, 0, b""

    def _take(self, data: bytes) -> None:
        self.offset += len(data)
        *lines, self.rest = (self.rest + data).split(b"\n")
        for line in lines:
            self._count(line)

    def _count(self, line: bytes) -> None:
        try:
            event = json.loads(line)
            if event.get("event") != AUDIT_EVENT:
                return
            key = (str(event["camera"]), str(event["reason"]))
            self.days[key] += 1
            self.bytes[key] += int(event.get("bytes") or 0)
        except (ValueError, KeyError, TypeError, AttributeError):
            return  # a torn line after a crash


def for_server(settings: Settings, cameras: Sequence[Camera], states: dict) -> Metrics:
    """The server's metrics; the deletions' audit log is the server's (cameras.server_state_dir),
    when the cameras' roots give it one."""
    try:
        state_dir: Path | None = server_state_dir(settings, cameras)
    except ConfigError:
        state_dir = None
    found = Metrics(states, state_dir, settings.metrics_token)
    if settings.broker:  # the chunk queue and its workers (tasks/)
        found.registry.register(workerstatus.Collector(settings))
    return found
