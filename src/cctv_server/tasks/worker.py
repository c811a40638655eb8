"""`cctv-server worker`: takes chunk tasks from the broker, fetches their segments, encodes, and sends each chunk back."""

from __future__ import annotations

import hashlib
import logging
import os
import resource
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import dramatiq
import redis
from dramatiq.middleware import CurrentMessage

from .. import durable
from ..media import ffmpeg
from . import queue, transfer
from .task import ChunkTask, argv, concat_list, from_dict

log = logging.getLogger(__name__)


class Worker:
    """One worker process: `jobs` encoders, each taking one chunk at a time."""

    def __init__(self, broker_url: str, namespace: str, timeout: float, server: transfer.Server,
                 jobs: int, binary: str, work: Path | None = None):
        self.broker_url, self.server, self.jobs, self.binary = broker_url, server, jobs, binary
        self.broker = queue.connect(broker_url, namespace, timeout)
        self.timeout = timeout
        self.work = Path(work or tempfile.mkdtemp(prefix="cctv-worker-"))
        self.stop = threading.Event()
        self.name = ""
        self.figures = {"chunks": 0, "cpu": 0.0, "frames": 0, "encode_seconds": 0.0,
                        "host": socket.gethostname(), "pid": os.getpid(), "jobs": jobs}
        self._lock = threading.Lock()
        self._faults = _faults()

    def run(self) -> None:
        """Until stopped (a signal, or the token revoked): take tasks and do them."""
        self.name = f"{self.server.whoami()['name']}@{socket.gethostname()}:{os.getpid()}"
        queue.check(self.broker, self.broker_url)
        dramatiq.actor(self.handle, broker=self.broker, actor_name=queue.ACTOR,
                       queue_name=queue.QUEUE)
        worker = dramatiq.Worker(self.broker, worker_threads=self.jobs, worker_timeout=1000)
        worker.queue_prefetch = self.jobs  # one chunk an encoder: none held back from the others
        beat = threading.Thread(target=self._heartbeat, name="heartbeat", daemon=True)
        worker.start()
        self._note()  # listed as alive at once, not at the first heartbeat
        beat.start()
        log.info("worker %s: taking chunks from %s for %s (%d at a time)", self.name,
                 self.broker_url, self.server.url, self.jobs)
        try:
            while not self.stop.wait(1.0):
                pass
        finally:
            worker.stop(timeout=10_000)
            shutil.rmtree(self.work, ignore_errors=True)

    def _heartbeat(self) -> None:
        """Dramatiq's Redis consumer heartbeats only when it fetches, and it does not fetch while
        its encoders are busy: without this, a chunk longer than the timeout would be given to a
        second worker. Also keeps this worker's line in `status` fresh."""
        while not self.stop.wait(max(1.0, self.timeout / 4)):
            try:
                self.broker.do_qsize(queue.QUEUE)  # any command refreshes the heartbeat
                self._note()
            except redis.RedisError as err:
                log.warning("broker %s unreachable: %s", self.broker_url, err)

    def handle(self, data: dict) -> None:
        """The actor: one task, done whole or raised (and retried by the broker)."""
        task = from_dict(data)
        if self.stop.is_set():
            return self._put_back(data)
        folder = self.work / task.id
        folder.mkdir(exist_ok=True)
        try:
            self._do(task, folder)
        except transfer.Revoked as err:
            log.error("worker %s: %s; stopping", self.name, err)
            self.stop.set()
            self._put_back(data)
        except transfer.Gone as err:
            log.info("task %s (%s chunk %d) dropped: %s", task.id, task.day, task.index, err)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _do(self, task: ChunkTask, folder: Path) -> None:
        started = time.monotonic()
        for seg in task.segments:
            self.server.fetch(task.camera, task.day, seg, folder / seg.name)
        fetched = time.monotonic()
        durable.checkpoint("worker-fetched")  # where the tests stop (and kill) a worker mid-chunk
        out, frame_log, list_file = folder / "chunk.mp4", folder / "chunk.frames", folder / "list"
        durable.write_atomic(list_file, concat_list(task, folder.absolute()).encode())
        cpu = _children_cpu()
        ffmpeg.run_job(argv(task, self.binary, folder.absolute(), list_file, out, frame_log))
        cpu = _children_cpu() - cpu
        frames = frame_log.read_bytes()
        self.server.send(task.camera, task.day, f"{task.id}.frames", frames)
        self._send_video(task, out)
        done = time.monotonic()
        with self._lock:
            f = self.figures
            f["chunks"] += 1
            f["cpu"] += cpu
            f["frames"] += frames.count(b"\n")
            f["encode_seconds"] += done - fetched
        log.info("task %s (%s %s chunk %d): fetched in %.1f s, encoded and sent in %.1f s, by %s",
                 task.id, task.camera, task.day, task.index, fetched - started, done - fetched,
                 self.name)
        self._note()

    def _send_video(self, task: ChunkTask, out: Path) -> None:
        data = out.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        fault = self._fault()
        if fault == "truncate":  # a worker that sends half a chunk, and a checksum that fits it
            data = data[: len(data) // 2]
            digest = hashlib.sha256(data).hexdigest()
        elif fault == "corrupt":  # bytes changed on the way: the checksum no longer fits
            data = data[:-1] + bytes([data[-1] ^ 0xFF])
        self.server.send(task.camera, task.day, f"{task.id}.mp4", data, digest)

    def _put_back(self, data: dict) -> None:
        """A task this worker will not do (it is stopping) goes back to the queue, as it was."""
        current = CurrentMessage.get_current_message()
        options = {k: v for k, v in (current.options if current else {}).items()
                   if k not in ("redis_message_id", "eta")}
        same = {"message_id": current.message_id} if current else {}  # the compactor's to know
        self.broker.enqueue(dramatiq.Message(queue_name=queue.QUEUE, actor_name=queue.ACTOR,
                                             args=(data,), kwargs={}, options=options, **same))

    def _note(self) -> None:
        with self._lock:
            figures = dict(self.figures)
        seconds = figures["encode_seconds"]
        figures["fps"] = figures["frames"] / seconds if seconds else None
        queue.note_worker(self.broker, self.name, figures)

    def _fault(self) -> str | None:
        """CCTVTEST_WORKER_FAULT=truncate:N or corrupt:N spoils this process's first N chunks: how
        the tests make a worker that returns a bad chunk. Unset, it costs nothing."""
        with self._lock:
            kind, left = self._faults
            if not kind or left <= 0:
                return None
            self._faults = (kind, left - 1)
            return kind


def _faults() -> tuple[str | None, int]:
    kind, _, count = os.environ.get("CCTVTEST_WORKER_FAULT", "").partition(":")
    return (kind or None, int(count or 1))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def read_token(path: Path) -> str:
    """The token in a file (its first line); a clear error when there is none."""
    try:
        text = Path(path).read_text().strip().splitlines()
    except OSError as err:
        raise OSError(f"token file {path}: {err.strerror}") from None
    if not text:
        raise ValueError(f"token file {path} is empty")
    return text[-1].strip()
