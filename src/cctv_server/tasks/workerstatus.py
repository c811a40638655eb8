"""What the workers and the chunk queue are doing, for `status` and /metrics."""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from ..config import Settings
from . import queue


@dataclass(frozen=True)
class Snapshot:
    """The queue's counts and each worker's figures; `problem` when the broker did not answer."""

    waiting: int = 0
    running: int = 0
    retried: int = 0
    dead: int = 0
    workers: dict | None = None
    alive: tuple[str, ...] = ()
    problem: str | None = None


def snapshot(settings: Settings, now: float) -> Snapshot:
    broker = queue.connect(settings.broker, settings.broker_namespace, settings.worker_timeout)
    try:
        found = queue.look(broker)
        workers = queue.workers(broker, now)
    except redis.RedisError as err:
        return Snapshot(problem=f"broker {settings.broker} unreachable: {err}")
    return Snapshot(len(found.waiting), len(found.running), found.retried, len(found.dead),
                    workers, tuple(queue.alive(workers, now, settings.worker_timeout)))


def lines(settings: Settings, now: float) -> list[str]:
    """`status`'s lines on the queue and the workers; none without a broker."""
    if not settings.broker:
        return []
    snap = snapshot(settings, now)
    if snap.problem:
        return [f"queue: {snap.problem}"]
    out = [f"queue ({settings.broker}): {snap.waiting} chunks waiting, {snap.running} running,"
           f" {snap.retried} retried, {snap.dead} given up;"
           f" {len(snap.alive)} workers alive" + ("" if snap.alive else " (the days wait)")]
    for name, f in sorted((snap.workers or {}).items()):
        fps = f"{f['fps']:.0f} frames/s" if f.get("fps") else "- frames/s"
        state = "alive" if name in snap.alive else "silent"
        out.append(f"  worker {name}: {state}, last seen {now - f['seen']:.0f} s ago,"
                   f" {f.get('chunks', 0)} chunks done, {f.get('cpu', 0):.1f} CPU seconds, {fps}")
    return out


class Collector:
    """/metrics: the queue's counts and each worker's figures, read from the broker at each scrape."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def describe(self) -> list:
        return []  # made at scrape time

    def collect(self):
        snap = snapshot(self.settings, time.time())
        up = GaugeMetricFamily("cctv_broker_up", "1 while the broker answers")
        up.add_metric([], 0 if snap.problem else 1)
        yield up
        if snap.problem:
            return
        chunks = GaugeMetricFamily("cctv_chunk_tasks", "Chunk tasks on the queue, by state",
                                   labels=["state"])
        for state, count in (("waiting", snap.waiting), ("running", snap.running),
                             ("retried", snap.retried), ("given_up", snap.dead)):
            chunks.add_metric([state], count)
        yield chunks
        yield from _worker_metrics(snap, time.time())


def _worker_metrics(snap: Snapshot, now: float):
    alive = GaugeMetricFamily("cctv_worker_alive", "1 while a worker is heard from",
                              labels=["worker"])
    seen = GaugeMetricFamily("cctv_worker_last_seen_seconds", "Seconds since a worker was heard",
                             labels=["worker"])
    done = CounterMetricFamily("cctv_worker_chunks", "Chunks a worker encoded", labels=["worker"])
    cpu = CounterMetricFamily("cctv_worker_cpu_seconds", "CPU seconds a worker's encoders spent",
                              labels=["worker"])
    fps = GaugeMetricFamily("cctv_worker_frames_per_second", "Frames a worker encodes a second",
                            labels=["worker"])
    for name, f in sorted((snap.workers or {}).items()):
        alive.add_metric([name], 1 if name in snap.alive else 0)
        seen.add_metric([name], now - f.get("seen", 0))
        done.add_metric([name], f.get("chunks", 0))
        cpu.add_metric([name], f.get("cpu", 0.0))
        fps.add_metric([name], f.get("fps") or 0.0)
    yield from (alive, seen, done, cpu, fps)
