"""A day's encode split into chunks of whole segments, encoded in parallel and joined by stream copy.

One x265 encode keeps only ~1.7 of 2 cores busy on 720p footage and stops scaling long before 32.
One single-threaded encoder per core, each on its own run of segments, keeps every core busy and
spends less CPU per frame (no thread hand-offs). Each chunk starts on a keyframe, so the chunks
join without re-encoding; docs/performance.md has the measurements.
"""

from __future__ import annotations

import datetime as dt
import shutil
import threading
from array import array
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

from .. import durable
from ..media import decode, ffmpeg
from . import encoding, runs

# Long enough that a chunk's extra keyframe and encoder start-up cost nothing (<0.5%), short
# enough that the cores stay evenly loaded to the end of a day (a busy hour spreads out).
CHUNK_SECONDS = 600.0
FRAGMENTED = ["-movflags", ffmpeg.MOVFLAGS, "-f", "mp4"]
# -y: the outputs are our own temp names; without it ffmpeg 9 declines to overwrite one left
# behind and still exits 0, which would pass off the old file as the new encode.
QUIET = ["-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
TIMESCALE = 90000  # ticks a second of every chunk's and video's track: the camera's own clock
# Each frame that enters an encoder, as the encoder saw it: the verification's list of what went in.
FRAME_LOG = ["-stats_enc_pre_fmt", "{pts} {tb}"]


@dataclass(frozen=True)
class Part:
    """One input file, how long it lasts on the joined video's timeline (from its first frame),
    and how long before that frame its earliest stream starts (`lead`: sound often does)."""

    path: Path
    duration: float
    lead: float = 0.0
    stream: runs.Stream | None = None  # what its video is, when probed: its run's codec, size, rate


@dataclass(frozen=True)
class Chunk:
    """Consecutive parts encoded together; `offset` is where they start in the joined video."""

    parts: tuple[Part, ...]
    offset: float

    @property
    def duration(self) -> float:
        return sum(p.duration for p in self.parts)


@dataclass(frozen=True)
class Job:
    """Everything an encode needs besides where it works and where it writes."""

    binary: str
    parts: list[Part]
    profile: encoding.Profile
    fps: float | None
    breaks: list[float]  # offsets that must start a keyframe (a camera restart, a gap)
    audio: bool  # some input has sound: it is re-encoded in one piece at the join
    creation: float  # the video's wall-clock start, for its creation_time
    comment: str
    runs: tuple[float, ...] = ()  # offsets where the stream changes (runs.py): each starts a chunk


def plan(parts: list[Part], workers: int, target: float = CHUNK_SECONDS,
         cuts: list[float] = ()) -> list[Chunk]:
    """Pure: parts grouped in order into chunks of about `target` s, or shorter so every worker
    has one; a chunk also starts at each offset in `cuts` (a camera restart, when frames are dropped)."""
    total = sum(p.duration for p in parts)
    length = total if workers <= 1 else min(target, total / workers)
    chunks: list[Chunk] = []
    current: list[Part] = []
    offset = start = 0.0
    for part in parts:
        if current and any(abs(offset - c) < 1e-6 for c in cuts):
            chunks.append(Chunk(tuple(current), start))
            current, start = [], offset
        current.append(part)
        offset += part.duration
        if offset - start >= length - 1e-6:
            chunks.append(Chunk(tuple(current), start))
            current, start = [], offset
    if current:
        chunks.append(Chunk(tuple(current), start))
    return chunks


def ffconcat(parts: Sequence[Part], keep_start: bool = False) -> str:
    """Pure: an ffconcat list whose timeline puts each file's first frame where the frames before
    it end, so that the output's timeline is the sum of the parts' durations.

    The concat demuxer lines each file up by its earliest packet, and a segment's sound often
    starts a little before its picture (its `lead`). So each file's `duration` is its own, plus
    its lead, less the next file's: the next picture starts right after this one's last frame,
    where it would overlap this one's last frames by the lead (and the muxer push one onto the
    same instant as another) if the lead were left out. The first file's picture still starts at
    its lead; `offset_args` moves it to zero. `keep_start` (an in point of 0) keeps a file's own
    timestamps as its start, for chunks made with their first frame at zero.
    """
    lines = ["ffconcat version 1.0"]
    for k, part in enumerate(parts):
        after = parts[k + 1].lead if k + 1 < len(parts) else 0.0
        lines += [f"file {ffmpeg.concat_quote(str(part.path))}",
                  f"duration {part.duration + part.lead - after:.6f}"]
        lines += ["inpoint 0"] if keep_start else []
    return "\n".join(lines) + "\n"


def offset_args(parts: Sequence[Part]) -> list[str]:
    """Pure: input arguments that move a concat list's timeline back by its first file's lead, so
    that its first frame is at zero (its sound before it starts before zero)."""
    lead = parts[0].lead if parts else 0.0
    return ["-itsoffset", f"{-lead:.6f}"] if lead > 0 else []


def chunk_argv(job: Job, chunk: Chunk, profile: encoding.Profile, list_file: Path, out: Path,
               size: tuple[int, int] | None, frame_log: Path | None = None) -> list[str]:
    """Pure: the ffmpeg command that encodes one chunk's video into a plain MP4, writing the time
    of every frame it encodes to `frame_log`."""
    single = ["-threads", "1"] if profile.threads == 1 else []  # the decoder, too
    argv = [job.binary, *QUIET, *single, "-f", "concat", "-safe", "0", *offset_args(chunk.parts),
            "-i", str(list_file), "-map", "0:v:0", *_video_args(job, chunk, profile, size)]
    if profile.codec != "copy":
        # The encoder's default clock ticks once a frame: frames that a join shifts off that grid
        # would round onto the same tick and players drop one. Keep the input's 90 kHz clock.
        argv += ["-enc_time_base:v", "demux"]
        argv += _forced_keyframes(job, chunk, profile)
        argv += ["-stats_enc_pre", str(frame_log), *FRAME_LOG] if frame_log else []
    return argv + ["-fps_mode", "passthrough", "-video_track_timescale", str(TIMESCALE),
                   "-f", "mp4", *ffmpeg.progress_args(), str(out)]


def _video_args(job: Job, chunk: Chunk, profile: encoding.Profile,
                size: tuple[int, int] | None) -> list[str]:
    """Pure: the chunk's encoder arguments at its run's rate, its pictures brought to the day's
    one frame size `size` (runs.output_size), so that every chunk joins whatever the camera sent."""
    stream = chunk.parts[0].stream if chunk.parts else None
    args = encoding.video_args(profile, stream.fps if stream and stream.fps else job.fps)
    if profile.codec == "copy" or size is None:
        return args
    if stream is None or stream.size in (None, size):
        return args + ["-s", f"{size[0]}x{size[1]}"]
    return with_filter(args, runs.fit_filter(size))


def with_filter(args: list[str], extra: str) -> list[str]:
    """Pure: encoder arguments with a filter added at the end of their `-vf` chain."""
    if "-vf" not in args:
        return ["-vf", extra, *args]
    k = args.index("-vf")
    return [*args[:k + 1], f"{args[k + 1]},{extra}", *args[k + 2:]]


def _forced_keyframes(job: Job, chunk: Chunk, profile: encoding.Profile) -> list[str]:
    """Pure: keyframes at a chunk's breaks or, when still frames are dropped, every `keyint` s."""
    end = chunk.offset + chunk.duration
    inside = [b - chunk.offset for b in job.breaks if chunk.offset < b < end]
    if profile.decimate:
        # A GOP of frames would last as long as the scene stays still: count time instead. Breaks
        # start chunks in this mode (`plan`'s cuts), so none falls inside one.
        assert not inside, "a break inside a chunk whose still frames are dropped"
        times = f"expr:gte(t,n_forced*{profile.keyint})"
    elif inside:
        # A discontinuity starts a fragment, so each fragment's wall-clock time is exact.
        times = ",".join(f"{t:.3f}" for t in inside)
    else:
        return []
    # libx265 makes a forced keyframe a plain I frame unless told: MP4 needs a sync sample.
    return ["-force_key_frames", times] + (["-forced-idr", "1"] if profile.codec == "hevc" else [])


def join_argv(job: Job, chunk_list: Path, audio_list: Path | None, out: Path,
              frames: int | None = None) -> list[str]:
    """Pure: the ffmpeg command that joins the chunks (and the day's sound) into a fragmented MP4.

    With still frames dropped, the day's last frame may be long gone from the encode; the video's
    last frame (number `frames` - 1) is then made to last until the footage's end, so that the
    video spans the same time as its segments.
    """
    argv = [job.binary, *QUIET, "-f", "concat", "-safe", "0", "-i", str(chunk_list)]
    if audio_list is not None:
        # Moved as the chunks were, so the sound stays with its picture; the sound before the
        # day's first frame is cut (audio_args).
        argv += ["-f", "concat", "-safe", "0", *offset_args(job.parts), "-i", str(audio_list),
                 "-map", "0:v:0", "-map", "1:a:0?", *encoding.audio_args()]
    stamp = dt.datetime.fromtimestamp(job.creation, dt.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")
    if job.profile.decimate and frames:
        argv += ["-bsf:v", last_frame_until(frames - 1, sum(p.duration for p in job.parts))]
    return argv + ["-c:v", "copy", *encoding.tag_args(job.profile),
                   "-metadata", f"creation_time={stamp}", "-metadata", f"comment={job.comment}",
                   *FRAGMENTED, *ffmpeg.progress_args(), str(out)]


def last_frame_until(last: int, seconds: float) -> str:
    """Pure: a `setts` filter giving packet number `last` the duration that ends it `seconds`
    after the first packet (and every other packet its own)."""
    end = round(seconds * TIMESCALE)
    return f"setts=duration=if(eq(N\\,{last})\\,max(1\\,STARTPTS+{end}-PTS)\\,DURATION)"


Frames = list[array]  # per chunk, in order: the time (s) of each frame its encoder encoded


class ChunkError(Exception):
    """A chunk encoded elsewhere (a task on a queue) that cannot be had: retried too often, or
    the queue unreachable. The day fails as when an encoder fails here; its segments stay."""


def encode(job: Job, work: Path, out: Path, workers: int,
           on_progress: Callable[[float], None] = lambda s: None,
           on_start: Callable[[], None] = lambda: None,
           on_chunks_done: Callable[[], None] = lambda: None, tasks=None) -> Frames | None:
    """Encode the job into `out` through chunk files under `work`, which is removed after the join.
    With `tasks` (tasks/remote.py) the chunks are tasks that workers encode, wherever they are.

    Returns what the encoders took in, chunk by chunk (None when the video is copied, not encoded).
    """
    work = work.absolute()  # an ffconcat list reads relative paths from its own folder
    work.mkdir(exist_ok=True)
    copied = job.profile.codec == "copy"
    cuts = sorted({*(job.breaks if job.profile.decimate else []), *(() if copied else job.runs)})
    if tasks is not None and not copied:
        chunks = plan(job.parts, 2, target=tasks.chunk_seconds, cuts=cuts)
        outputs, logs = tasks.encode(job, chunks, work, on_progress, on_start)
    else:
        chunks = plan(job.parts, workers if not copied else 1, cuts=cuts)
        outputs, logs = _encode_chunks(job, chunks, work, workers, on_progress, on_start)
    frames = [read_frame_log(log) for log in logs] if logs else None
    on_chunks_done()
    _join(job, chunks, outputs, work, out, sum(len(f) for f in frames) if frames else None)
    shutil.rmtree(work, ignore_errors=True)
    return frames


def read_frame_log(path: Path) -> array:
    """The frame times (s) in an encoder's `-stats_enc_pre` file, one `PTS NUM/DEN` a line."""
    times = array("d")
    with open(path) as f:
        for line in f:
            pts, _, base = line.strip().partition(" ")
            if pts and base:
                times.append(float(int(pts) * Fraction(base)))
    return times


def frame_size(job: Job) -> tuple[int, int] | None:
    """The one frame size every chunk of the job is encoded at (runs.output_size), wherever the
    chunk is encoded: here, or by a worker."""
    return (runs.output_size([(p.stream, p.duration) for p in job.parts if p.stream])
            or decode.frame_size(job.parts[0].path))


def _encode_chunks(job: Job, chunks: list[Chunk], work: Path, workers: int,
                   on_progress: Callable[[float], None],
                   on_start: Callable[[], None]) -> tuple[list[Path], list[Path]]:
    """Every chunk into work/chunk-NNNNN.mp4, `workers` at a time; their paths in order, and
    those of their frame logs (none when the video is copied)."""
    # Several chunks run one thread each; a lone chunk gets the whole machine.
    profile = job.profile if len(chunks) == 1 else replace(job.profile, threads=1)
    progress = _Progress(len(chunks), on_progress)
    size = frame_size(job)
    outputs = [work / f"chunk-{k:05d}.mp4" for k in range(len(chunks))]
    logs = [] if job.profile.codec == "copy" else [o.with_suffix(".frames") for o in outputs]

    def run(k: int, cancel: threading.Event) -> None:
        if cancel.is_set():
            return
        list_file = work / f"chunk-{k:05d}.ffconcat"
        durable.write_atomic(list_file, ffconcat(_absolute(chunks[k].parts)).encode())
        argv = chunk_argv(job, chunks[k], profile, list_file, outputs[k], size,
                          logs[k] if logs else None)
        ffmpeg.run_job(argv, lambda s: progress(k, s), on_start=on_start if k == 0 else None,
                       cancel=cancel)

    _in_parallel(run, len(chunks), min(workers, len(chunks)))
    return outputs, logs


def _join(job: Job, chunks: list[Chunk], outputs: list[Path], work: Path, out: Path,
          frames: int | None) -> None:
    chunk_list = work / "chunks.ffconcat"
    # Every chunk's first frame is at zero (`offset_args`), so each lasts just its duration.
    made = [Part(o, c.duration) for o, c in zip(outputs, chunks)]
    durable.write_atomic(chunk_list, ffconcat(made, keep_start=True).encode())
    audio_list = None
    if job.audio:
        audio_list = work / "audio.ffconcat"
        durable.write_atomic(audio_list, ffconcat(_absolute(job.parts)).encode())
    ffmpeg.run_job(join_argv(job, chunk_list, audio_list, out, frames))


def _in_parallel(run: Callable[[int, threading.Event], None], count: int, workers: int) -> None:
    """run(0..count-1) on `workers` threads; the first failure (or Ctrl-C) stops all the others."""
    cancel = threading.Event()
    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="chunk") as pool:
        futures: list[Future] = [pool.submit(run, k, cancel) for k in range(count)]
        try:
            finished, _ = wait(futures, return_when=FIRST_EXCEPTION)
            for future in finished:
                future.result()  # raises the first failure
        except BaseException:
            cancel.set()
            for future in futures:
                future.cancel()
            wait(futures)
            raise


class _Progress:
    """Seconds encoded over all chunks: each chunk reports its own, the sum goes to the callback."""

    def __init__(self, count: int, report: Callable[[float], None]):
        self.done = [0.0] * count
        self.report = report
        self.lock = threading.Lock()

    def __call__(self, k: int, seconds: float) -> None:
        with self.lock:
            self.done[k] = seconds
            total = sum(self.done)
        self.report(total)


def _absolute(parts: Sequence[Part]) -> list[Part]:
    """The parts with absolute paths: a concat list reads relative ones from its own folder."""
    return [replace(p, path=p.path.absolute()) for p in parts]
