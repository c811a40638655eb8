"""Pure: one chunk's task as plain data: what a worker needs to encode it, and the id that keys its output."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..compaction import chunks, encoding, runs

ID = re.compile(r"[0-9a-f]{32}")
KINDS = ("mp4", "frames")  # a chunk's two results: its video, and the frame log of its encoder


@dataclass(frozen=True)
class Segment:
    """One segment of a chunk, as the worker must find it: its bytes are checked against `sha256`."""

    name: str
    size: int
    sha256: str
    duration: float
    lead: float = 0.0
    stream: dict | None = None  # runs.Stream's fields: the run it belongs to (codec, size, rate)

    def part(self, folder: Path) -> chunks.Part:
        """The segment as the chunk's encoder takes it, found in `folder`."""
        stream = runs.Stream(**self.stream) if self.stream else None
        return chunks.Part(folder / self.name, self.duration, self.lead, stream)


@dataclass(frozen=True)
class ChunkTask:
    """A chunk of a day to encode: everything `chunks.chunk_argv` needs but local paths."""

    camera: str
    day: str
    video: str  # the video being made: the server keeps the chunk beside its other chunks
    index: int
    segments: tuple[Segment, ...]
    offset: float
    profile: dict  # encoding.Profile's fields
    fps: float | None
    breaks: tuple[float, ...]
    size: tuple[int, int] | None  # every chunk at the day's one frame size (chunks.frame_size)

    @property
    def id(self) -> str:
        """The same chunk of the same bytes with the same profile has the same id, so a retried
        or duplicated task overwrites its output rather than adding one."""
        return task_id(self)

    @property
    def duration(self) -> float:
        return sum(s.duration for s in self.segments)


def task_id(task: ChunkTask) -> str:
    text = json.dumps(to_dict(task), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def to_dict(task: ChunkTask) -> dict:
    return dataclasses.asdict(task)


def from_dict(data: dict) -> ChunkTask:
    """The task a message carries; ValueError when it is not one."""
    try:
        segments = tuple(Segment(**s) for s in data["segments"])
        size = tuple(data["size"]) if data.get("size") else None
        fields = {**data, "segments": segments, "breaks": tuple(data["breaks"]), "size": size}
        task = ChunkTask(**fields)
        encoding.Profile(**task.profile)
        for segment in task.segments:
            segment.part(Path("."))
    except (KeyError, TypeError) as err:
        raise ValueError(f"not a chunk task: {err}") from None
    return task


def of_chunk(camera: str, day: str, video: str, index: int, chunk: chunks.Chunk, job: chunks.Job,
             digests: dict[str, str], size: tuple[int, int] | None) -> ChunkTask:
    """The task for chunk `index` of a day's job; `digests` are the segments' SHA-256s by name."""
    segments = tuple(Segment(p.path.name, p.path.stat().st_size, digests.get(p.path.name, ""),
                             p.duration, p.lead, dataclasses.asdict(p.stream) if p.stream else None)
                     for p in chunk.parts)
    profile = dataclasses.replace(job.profile, threads=1)  # one encoder a core, as in-process
    return ChunkTask(camera, day, video, index, segments, chunk.offset, dataclasses.asdict(profile),
                     job.fps, tuple(job.breaks), size)


def argv(task: ChunkTask, binary: str, folder: Path, list_file: Path, out: Path,
         frame_log: Path) -> list[str]:
    """Pure: the ffmpeg command that encodes the task's chunk from its segments in `folder`."""
    profile = encoding.Profile(**task.profile)
    parts = tuple(s.part(folder) for s in task.segments)
    job = chunks.Job(binary, list(parts), profile, task.fps, list(task.breaks), False, 0.0, "")
    return chunks.chunk_argv(job, chunks.Chunk(parts, task.offset), profile, list_file, out,
                             task.size, frame_log)


def concat_list(task: ChunkTask, folder: Path) -> str:
    """Pure: the ffconcat list of the task's segments in `folder` (an absolute path)."""
    return chunks.ffconcat([s.part(folder) for s in task.segments])


def result_name(task_id_: str, kind: str) -> str:
    """The file a chunk's result is kept under, beside the day's other chunks: keyed by task id."""
    return f"task-{task_id_}.{kind}"
