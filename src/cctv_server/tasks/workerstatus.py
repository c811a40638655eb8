"""What the workers and the chunk queue are doing, for `status` and /metrics."""

from __future__ import annotations

from dataclasses import dataclass

import redis

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
