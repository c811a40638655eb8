"""The broker: Dramatiq on Redis, a chunk task's message, and what the queue and its workers are doing."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import redis
from dramatiq import Message
from dramatiq.brokers.redis import MAINTENANCE_SCALE, RedisBroker
from dramatiq.middleware import (
    AgeLimit,
    CurrentMessage,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)

from ..compaction.chunks import ChunkError
from .task import ChunkTask, to_dict

QUEUE = "chunks"
ACTOR = "encode_chunk"
BACKOFF = (1000, 30000)  # ms: a chunk retried soon (a server restarting), never days later
WORKERS_KEY = "cctv:workers"  # a hash: worker -> its figures (JSON), under the broker's namespace
FORGET_AFTER = 7 * 86400.0  # a worker not seen for a week leaves the list
# An encode runs at ~5x realtime and more; a chunk that takes longer than its own footage plus
# this margin is stuck (its ffmpeg is stopped and the task retried).
TIME_MARGIN = 300.0


class BrokerUnreachable(ChunkError):
    """The broker cannot be reached: named, never a silent fallback to encoding in-process."""


def connect(url: str, namespace: str, heartbeat_timeout: float, maintain: bool = False) -> RedisBroker:
    """A broker on `url`; `maintain`: every command also gives a dead worker's chunks back to the
    queue (the compactor's polls), where Dramatiq's default does that once in a thousand."""
    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=10)
    middleware = [AgeLimit(), TimeLimit(), ShutdownNotifications(), CurrentMessage(),
                  Retries(min_backoff=BACKOFF[0], max_backoff=BACKOFF[1])]
    return RedisBroker(client=client, namespace=namespace, middleware=middleware,
                       heartbeat_timeout=int(heartbeat_timeout * 1000),
                       maintenance_chance=MAINTENANCE_SCALE if maintain else 1000)


def check(broker: RedisBroker, url: str) -> None:
    """BrokerUnreachable naming the broker unless it answers."""
    try:
        broker.client.ping()
    except redis.RedisError as err:
        raise BrokerUnreachable(f"broker {url} unreachable: {err}") from None


def message(task: ChunkTask, retries: int) -> Message:
    """The message of a task: its description alone (the bytes go over HTTP), at most `retries`
    redeliveries after a failure, and a time limit from the chunk's length."""
    limit = int((task.duration + TIME_MARGIN) * 1000)
    return Message(queue_name=QUEUE, actor_name=ACTOR, args=(to_dict(task),), kwargs={},
                   options={"task_id": task.id, "max_retries": retries, "time_limit": limit})


@dataclass
class Look:
    """What the queue holds now, by message id: waiting (or delayed for a retry), taken by a
    worker, given up (dead-lettered); and how many of those present were retried."""

    waiting: set[str] = field(default_factory=set)
    running: set[str] = field(default_factory=set)
    dead: set[str] = field(default_factory=set)
    retried: int = 0

    @property
    def present(self) -> set[str]:
        return self.waiting | self.running


def look(broker: RedisBroker) -> Look:
    """The queue as it stands; on a maintaining broker, looking also gives a silent worker's
    chunks back to the queue. Redis errors propagate."""
    ns, client = broker.namespace, broker.client
    for name in (QUEUE, QUEUE + ".DQ"):
        broker.do_qsize(name)  # any command runs the maintenance of its queue
    queued = set(client.lrange(f"{ns}:{QUEUE}", 0, -1))
    found = Look()
    for key, delayed in ((f"{ns}:{QUEUE}.msgs", False), (f"{ns}:{QUEUE}.DQ.msgs", True)):
        for redis_id, data in client.hgetall(key).items():
            sent = json.loads(data)
            waiting = delayed or redis_id in queued
            (found.waiting if waiting else found.running).add(sent["message_id"])
            found.retried += bool(sent.get("options", {}).get("retries"))
    found.dead = {json.loads(d)["message_id"] for d in client.hvals(f"{ns}:{QUEUE}.XQ.msgs")}
    found.running -= found.waiting  # moved from the delay queue, still acknowledged there
    return found


def note_worker(broker: RedisBroker, name: str, figures: dict) -> None:
    """A worker's own line in the list `status` shows: when seen, chunks done, CPU seconds..."""
    broker.client.hset(f"{broker.namespace}:{WORKERS_KEY}", name,
                       json.dumps({**figures, "seen": time.time()}))


def workers(broker: RedisBroker, now: float) -> dict[str, dict]:
    """Every worker seen in the last week, by name, with its figures; older ones are forgotten."""
    key = f"{broker.namespace}:{WORKERS_KEY}"
    found = {}
    for name, data in broker.client.hgetall(key).items():
        figures = json.loads(data)
        if now - figures.get("seen", 0) > FORGET_AFTER:
            broker.client.hdel(key, name)
        else:
            found[name.decode()] = figures
    return found


def alive(found: dict[str, dict], now: float, timeout: float) -> list[str]:
    """Pure: the workers heard from within `timeout` s."""
    return sorted(n for n, f in found.items() if now - f.get("seen", 0) <= timeout)
