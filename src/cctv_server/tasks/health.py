"""Whether the broker answers, asked in the background, for /healthz and the index page."""

from __future__ import annotations

import threading

from ..config import Settings
from . import queue

EVERY = 5.0  # seconds between pings


class BrokerWatch:
    """Pings the broker every EVERY s on its own thread; `problem` is the last answer, at once."""

    def __init__(self, settings: Settings):
        self.url = settings.broker
        self.broker = queue.connect(settings.broker, settings.broker_namespace,
                                    settings.worker_timeout)
        self._problem: str | None = None
        threading.Thread(target=self._run, name="broker-watch", daemon=True).start()

    def _run(self) -> None:
        stop = threading.Event()
        while True:
            try:
                queue.check(self.broker, self.url)
                self._problem = None
            except queue.BrokerUnreachable as err:
                self._problem = f"{err}: chunks cannot be compacted"
            stop.wait(EVERY)

    def problem(self) -> str | None:
        return self._problem
