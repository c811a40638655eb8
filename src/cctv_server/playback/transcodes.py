"""The H.264 rendition made on demand: each fragment once however many ask, cached, the next ones ahead, at most `jobs` at once.

A fragment of a video starts at a keyframe, so it is re-encoded on its own (transcode.py) and
any fragment can be made first: a seek costs one fragment's encode. Requests for a fragment
being made wait for that job; a request for one that is neither made nor being made starts a
job if a slot is free, else takes the slot of a fragment made ahead that nobody waits for, else
is refused (Busy: a 503 with Retry-After) rather than queued, so a crowd cannot build a backlog
that outlives it. Everything here runs on the server's event loop; files are read and written in
threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import Busy, FFmpegError
from ..footage.day import Piece
from ..layout import Root
from ..media import ffmpeg, transcode
from ..storage import files
from .filecache import FileCache
from .probes import Probes

log = logging.getLogger(__name__)

AHEAD = 2  # fragments made ahead of the one asked for: hls.js asks for the next as one plays
PENDING = 2 * AHEAD  # fragments remembered to make ahead: two viewers' next ones
TIMEOUT = 120.0  # seconds for one fragment: at 4x realtime a 10-s fragment takes 2.5
# Part of each cached file's name: a change to the encoder's settings must not serve old files.
PROFILE_TAG = f"{transcode.PRESET}-crf{transcode.CRF}-{transcode.PROFILE}"


@dataclass(frozen=True)
class Work:
    """One fragment to re-encode: where its bytes are and what it becomes."""

    path: Path
    day: str
    video: str
    size: int  # the video's: a new video under the same name is another file
    init: tuple[int, int]  # (offset, length)
    byterange: tuple[int, int]
    duration: float
    target: transcode.Target

    @property
    def name(self) -> str:
        """Its file name in the cache."""
        offset, length = self.byterange
        return f"{self.day}_{self.video}_{self.size}_{offset}-{length}_{PROFILE_TAG}.ts"

    @property
    def label(self) -> str:
        return f"{self.day}/{self.video} {self.byterange[0]}-{self.byterange[1]}"


def work_for(root: Root, probes: Probes, piece: Piece) -> Work:
    """The work of re-encoding a fragment the footage model lists."""
    path = files.resolve(root, piece.day, piece.file)  # on the disk, or in the store
    streams = probes.streams(piece)
    if streams is None:
        raise FFmpegError(f"{piece.day}/{piece.file}: its video stream cannot be read")
    target = transcode.target(streams.width, streams.height, streams.fps)
    return Work(path, piece.day, piece.file, files.size(path), piece.init, piece.byterange,
                piece.duration, target)


def following(pieces: Sequence[Piece], piece: Piece, count: int = AHEAD) -> list[Piece]:
    """Pure: the fragments of the same video that play after `piece`, at most `count`."""
    after = [p for p in pieces if p.file == piece.file and p.day == piece.day
             and p.is_fragment and p.number > piece.number]
    return sorted(after, key=lambda p: p.number)[:count]


@dataclass
class _Job:
    task: asyncio.Task
    ahead: bool  # made ahead, and nobody has asked for it yet: its slot may be taken


class Transcodes:
    """One camera's rendition fragments: the cache, the jobs running, the slots.

    `make(work)` returns the fragment's bytes (`make_fragment` with ffmpeg; the tests pass
    their own to hold a job open).
    """

    def __init__(self, cache: FileCache, jobs: int, make: Callable[[Work], Awaitable[bytes]],
                 retry_after: int = 2):
        self.cache = cache
        self.jobs = jobs
        self.make = make
        self.retry_after = retry_after
        self._running: dict[str, _Job] = {}
        self._exports = 0  # slots held by re-encoded clips (export.mp4?codec=h264)
        self._pending: list[Work] = []  # to make ahead once a slot is free, newest asked first

    @property
    def busy(self) -> int:
        return len(self._running) + self._exports

    async def get(self, work: Work, ahead: Sequence[Work] = ()) -> tuple[bytes, str]:
        """The fragment's bytes, and how they came: "cached", "joined" (another request's job,
        or one made ahead) or "made"; Busy when every slot is taken by a wanted job."""
        if work.name in self.cache:
            data = await asyncio.to_thread(self.cache.read, work.name)
            if data is not None:
                self.prefetch(ahead)
                return data, "cached"
        job = self._running.get(work.name)
        how = "joined"
        if job is None:
            self._take_slot()
            job, how = self._start(work, ahead=False), "made"
        job.ahead = False
        self.prefetch(ahead)
        data = await asyncio.shield(job.task)  # a viewer who hangs up does not stop the others'
        self.prefetch(ahead)
        return data, how

    def prefetch(self, works: Sequence[Work]) -> None:
        """Start making these, in order, while slots are free; the rest are made as slots free
        up, unless other fragments are asked for first (only the newest few are remembered)."""
        names = {w.name for w in works}
        self._pending = list(works) + [w for w in self._pending if w.name not in names]
        del self._pending[PENDING:]
        while self._pending and self.busy < self.jobs:
            work = self._pending.pop(0)
            if work.name not in self.cache and work.name not in self._running:
                self._start(work, ahead=True)

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """A slot for other re-encoding work (a clip), held while the block runs; Busy if none."""
        self._take_slot()
        self._exports += 1
        try:
            yield
        finally:
            self._exports -= 1
            self.prefetch(())

    def _take_slot(self) -> None:
        """Make room for one more job: free, or taken from a fragment made ahead that nobody
        waits for (it is made again when asked); Busy when there is none to take."""
        if self.busy < self.jobs:
            return
        idle = next((name for name, job in self._running.items() if job.ahead), None)
        if idle is None:
            raise Busy(f"all {self.jobs} transcoding slots are busy; try again in "
                       f"{self.retry_after} s", self.retry_after)
        self._running.pop(idle).task.cancel()

    def _start(self, work: Work, ahead: bool) -> _Job:
        task = asyncio.get_running_loop().create_task(self._run(work))
        job = _Job(task, ahead)
        self._running[work.name] = job
        task.add_done_callback(lambda t, name=work.name: self._done(name, t))
        return job

    async def _run(self, work: Work) -> bytes:
        started = time.monotonic()
        data = await asyncio.wait_for(self.make(work), TIMEOUT)
        took = time.monotonic() - started
        log.info("h264 rendition: %s (%.1f s) made in %.2f s, %.1fx realtime", work.label,
                 work.duration, took, work.duration / max(took, 1e-3))
        await asyncio.to_thread(self.cache.put, work.name, data)
        return data

    def _done(self, name: str, task: asyncio.Task) -> None:
        if self._running.get(name) is not None and self._running[name].task is task:
            del self._running[name]
        self.prefetch(())
        if task.cancelled():
            return
        err = task.exception()  # retrieved here, so a job made ahead that failed is logged once
        if err is not None:
            log.warning("h264 rendition of %s failed: %s", name, err)


async def make_fragment(work: Work, binary: str, threads: int) -> bytes:
    """Re-encode one fragment with ffmpeg: its init section and bytes in, MPEG-TS out."""
    data = await asyncio.to_thread(files.read_ranges, work.path, [work.init, work.byterange])
    argv = transcode.fragment_argv(binary, work.target, threads)
    out = b"".join([chunk async for chunk in ffmpeg.stream(argv, data)])
    if not out:
        raise FFmpegError(f"{work.label}: ffmpeg made nothing")
    return out


def read_ranges(path: Path, ranges: Sequence[tuple[int, int]]) -> bytes:
    """These (offset, length) byte ranges of a file, joined."""
    with open(path, "rb") as f:
        return b"".join(os.pread(f.fileno(), length, offset) for offset, length in ranges)


def default_jobs(cores: int | None = None) -> int:
    """Half the cores, at least one: the rest serve, and compact."""
    return max(1, (cores or os.cpu_count() or 1) // 2)


def threads_per_job(jobs: int, cores: int | None = None) -> int:
    """Each job's share of the cores: a fragment made on two cores is ready twice as soon."""
    return max(1, math.floor((cores or os.cpu_count() or 1) / max(1, jobs)))

