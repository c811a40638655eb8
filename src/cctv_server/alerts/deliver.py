"""Delivery with Apprise: one alert to one target; a thread per target, each on its own queue.

A broken target never delays the others. Reasons are said without the URL's secrets."""

from __future__ import annotations

import logging
import re
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from prometheus_client.core import CounterMetricFamily

from .alert import Alert
from .outbox import Outbox
from .rules import retry_after
from .targets import Target

log = logging.getLogger(__name__)
# Apprise says why a send failed in each result's own logs; its logger could name a URL's secret.
# Its records stay out of ours (each result still holds them, and we say them redacted).
logging.getLogger("apprise").propagate = False
logging.getLogger("apprise").addHandler(logging.NullHandler())


def send(target: Target, alert: Alert) -> str | None:
    """Deliver now: None when delivered, else why not (secrets of the URL left out)."""
    import apprise  # its two hundred plugins load here, not in every command that imports us

    notifier = apprise.Apprise()
    if not notifier.add(target.url):
        return "its URL is not one Apprise knows (check the scheme and its fields)"
    with tempfile.TemporaryDirectory(prefix="cctv-alert-") as tmp:
        attach = None
        if alert.still:
            still = Path(tmp) / "still.jpg"
            still.write_bytes(alert.still)
            attach = str(still)
        try:
            result = notifier.notify(body=alert.body, title=alert.title, attach=attach,
                                     log_level=logging.WARNING)
        except Exception as err:  # a plugin's own bug must not stop the other targets
            return redact(f"{type(err).__name__}: {err}", target.url)
    if result:
        return None
    said = "; ".join(e.message for e in result.logs()) or f"status {result.status.name}"
    return redact(said, target.url)


def redact(text: str, url: str) -> str:
    """The text without any part of the URL that may be a secret: user, password, tokens, path."""
    _, _, rest = url.partition("://")
    for part in sorted(re.split(r"[/:@?&=#,]", rest), key=len, reverse=True):
        if len(part) >= 4 and not _host_like(part):
            text = text.replace(part, "***")
    return text


def _host_like(part: str) -> bool:
    return part == "localhost" or bool(re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", part))


class Counts:
    """Alerts sent and failed by target kind, for /metrics (a prometheus_client collector)."""

    def __init__(self):
        self.sent: Counter = Counter()
        self.failed: Counter = Counter()
        self._lock = threading.Lock()

    def note(self, kind: str, ok: bool) -> None:
        with self._lock:
            (self.sent if ok else self.failed)[kind] += 1

    def describe(self) -> list:
        return []

    def collect(self) -> Iterator:
        sent = CounterMetricFamily("cctv_alerts_sent", "Alerts delivered, by target kind",
                                   labels=["kind"])
        failed = CounterMetricFamily("cctv_alerts_failed", "Alert deliveries that failed (each"
                                     " is retried), by target kind", labels=["kind"])
        with self._lock:
            for kind, n in sorted(self.sent.items()):
                sent.add_metric([kind], n)
            for kind, n in sorted(self.failed.items()):
                failed.add_metric([kind], n)
        yield from (sent, failed)


Sender = Callable[[Target, Alert], "str | None"]


class Courier:
    """A thread per target: its queue's alerts oldest first; while it fails, retried with backoff."""

    def __init__(self, outbox: Outbox, targets: Sequence[Target], counts: Counts,
                 sender: Sender = send, poll: float = 1.0):
        self.outbox, self.targets, self.counts = outbox, list(targets), counts
        self.sender, self.poll = sender, poll
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for target in self.targets:
            thread = threading.Thread(target=self._run, args=(target,), daemon=True,
                                      name=f"alerts-{target.index}")
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)

    def _run(self, target: Target) -> None:
        failures = 0
        while not self._stop.is_set():
            failures = self._deliver(target, failures)
            if failures:
                self._stop.wait(retry_after(failures))
            else:
                self._sleep()

    def _sleep(self) -> None:
        """Wait for news (a new alert) or the poll interval."""
        self._wake.wait(self.poll)
        self._wake.clear()

    def _deliver(self, target: Target, failures: int) -> int:
        """Send what waits, in order; the failures in a row after this pass (0: all sent)."""
        for path, alert in self.outbox.waiting(target, time.time()):
            if self._stop.is_set():
                return failures
            why = self.sender(target, alert)
            self.counts.note(target.kind, why is None)
            if why is not None:
                failures += 1
                log.warning("alert to %s not delivered (%s); retrying in %.0f s: %s",
                            target.name, why, retry_after(failures), alert.title)
                return failures
            path.unlink(missing_ok=True)
            log.info("alert delivered to %s: %s", target.name, alert.title)
        return 0
