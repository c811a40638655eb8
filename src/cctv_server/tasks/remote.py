"""The compactor's side of the queue: a day's chunks sent as tasks, their results awaited and checked, for the join."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import redis

from ..compaction import chunks
from ..config import Settings
from ..media import decode
from . import queue
from .task import ChunkTask, of_chunk, result_name

log = logging.getLogger(__name__)

POLL = 1.0  # seconds between looks at the queue and the results


@dataclass(frozen=True)
class Tasks:
    """Where chunks go when a broker is set, and how they are retried."""

    url: str
    namespace: str
    timeout: float  # a worker silent this long is taken for dead (the broker's heartbeat)
    retries: int  # a chunk retried more than this fails its day
    chunk_seconds: float

    def for_day(self, camera: str, day: str, video: str, digests: dict[str, str],
                note: Callable[[str], None]) -> DayTasks:
        return DayTasks(self, camera, day, video, digests, note)

    def connect(self):
        broker = queue.connect(self.url, self.namespace, self.timeout, maintain=True)
        queue.check(broker, self.url)
        return broker


def for_settings(settings: Settings) -> Tasks | None:
    """The settings' Tasks; None without `broker` (chunks are then encoded in-process)."""
    if not settings.broker:
        return None
    return Tasks(settings.broker, settings.broker_namespace, settings.worker_timeout,
                 settings.chunk_retries, settings.chunk_seconds)


class DayTasks:
    """One day's chunks on the queue. `encode` returns when every chunk is back and sound, and
    raises ChunkError when one failed too often or the broker cannot be reached."""

    def __init__(self, tasks: Tasks, camera: str, day: str, video: str, digests: dict[str, str],
                 note: Callable[[str], None]):
        self.tasks, self.camera, self.day, self.video = tasks, camera, day, video
        self.digests, self.note = digests, note
        self.workers: set[str] = set()  # who encoded the chunks
        self.chunk_seconds = tasks.chunk_seconds
        self._noted = ""

    def encode(self, job: chunks.Job, plan: list[chunks.Chunk], work: Path,
               on_progress: Callable[[float], None],
               on_start: Callable[[], None]) -> tuple[list[Path], list[Path]]:
        broker = self.tasks.connect()
        size = chunks.frame_size(job)
        tasks = [of_chunk(self.camera, self.day, self.video, k, c, job, self.digests, size)
                 for k, c in enumerate(plan)]
        sent = {t.id: self._send(broker, t) for t in tasks}  # task id -> its message id
        tries = dict.fromkeys(sent, 0)
        log.info("%s: %d chunks sent as tasks to %s", self.day, len(tasks), self.tasks.url)
        on_start()
        pending = {t.id: t for t in tasks}
        while pending:
            time.sleep(POLL)
            look = self._look(broker)  # before the results: a chunk acknowledged is back by then
            for t in list(pending.values()):
                if self._step(broker, t, work, look, sent, tries):
                    del pending[t.id]
            on_progress(sum(t.duration for t in tasks if t.id not in pending))
            self._note_waiting(broker, len(pending), len(tasks))
        return ([work / result_name(t.id, "mp4") for t in tasks],
                [work / result_name(t.id, "frames") for t in tasks])

    def _step(self, broker, t: ChunkTask, work: Path, look: queue.Look, sent: dict,
              tries: dict) -> bool:
        """True once the task's chunk is back and sound; a bad or lost one is sent again."""
        if (work / result_name(t.id, "mp4")).exists():
            problem = check_result(work, t.id)
            if problem is None:
                by = _read(work / result_name(t.id, "worker")) or "an unnamed worker"
                self.workers.add(by)
                log.info("%s: chunk %d (task %s) encoded by worker %s", self.day, t.index, t.id, by)
                return True
            for kind in ("mp4", "frames", "worker"):
                (work / result_name(t.id, kind)).unlink(missing_ok=True)
            self._again(broker, t, sent, tries, f"came back unsound ({problem})")
        elif sent[t.id] in look.dead:
            raise chunks.ChunkError(f"chunk {t.index} failed on the workers {self.tasks.retries + 1}"
                                    f" times (chunk_retries {self.tasks.retries})")
        elif sent[t.id] not in look.present:
            self._again(broker, t, sent, tries, "is gone from the queue (was the broker restarted?)")
        return False

    def _again(self, broker, t: ChunkTask, sent: dict, tries: dict, why: str) -> None:
        tries[t.id] += 1
        if tries[t.id] > self.tasks.retries:
            raise chunks.ChunkError(f"chunk {t.index} {why}, and was retried {self.tasks.retries}"
                                    f" times (chunk_retries)")
        log.warning("%s: chunk %d (task %s) %s; sent again (%d of %d)", self.day, t.index, t.id,
                    why, tries[t.id], self.tasks.retries)
        sent[t.id] = self._send(broker, t)

    def _send(self, broker, t: ChunkTask) -> str:
        try:
            return broker.enqueue(queue.message(t, self.tasks.retries)).message_id
        except redis.RedisError as err:
            raise queue.BrokerUnreachable(f"broker {self.tasks.url} unreachable: {err}") from None

    def _look(self, broker) -> queue.Look:
        try:
            return queue.look(broker)
        except redis.RedisError as err:
            raise queue.BrokerUnreachable(f"broker {self.tasks.url} unreachable: {err}") from None

    def _note_waiting(self, broker, pending: int, total: int) -> None:
        """Say in the day's state whether a worker is there to take the chunks."""
        now = time.time()
        try:
            alive = queue.alive(queue.workers(broker, now), now, self.tasks.timeout)
        except redis.RedisError:
            return  # the next look names the broker
        if not pending:
            text = ""
        elif not alive:
            text = f"waiting for a worker: none alive, {pending} of {total} chunks queued"
        else:
            text = f"{pending} of {total} chunks left, {len(alive)} workers alive"
        if text != self._noted:
            if not alive and pending:
                log.warning("%s: %s on %s", self.day, text, self.tasks.url)
            self._noted = text
            self.note(text or None)


def check_result(work: Path, task_id: str) -> str | None:
    """Why a chunk sent back is not sound (None when it is): its video must decode, and hold as
    many frames as its encoder's log says went in. The server checked its checksum on arrival."""
    frames_file = work / result_name(task_id, "frames")
    if not frames_file.exists():
        return "no frame log"
    try:
        logged = len(chunks.read_frame_log(frames_file))
    except (ValueError, OSError) as err:
        return f"unreadable frame log: {err}"
    found = decode.probe(work / result_name(task_id, "mp4"))
    if found.error and not found.frames:
        return found.error
    if found.frames != logged or not logged:
        return f"{found.frames} frames where its encoder took in {logged}"
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()[:200]
    except OSError:
        return ""

