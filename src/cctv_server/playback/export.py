"""Making an export clip: pieces from the footage model, keyframes from the files, the MP4 from ffmpeg."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import tempfile
import time
from collections import OrderedDict
from collections.abc import AsyncGenerator, Callable
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import av

from ..config import Settings
from ..errors import FFmpegError
from ..footage.catalog import Catalog
from ..footage.day import Piece
from ..footage.reader import Footage
from ..layout import Root
from ..media import decode, ffmpeg, streams, transcode
from ..storage import files
from . import exportplan
from .exportplan import Plan, Range, Source

SCAN_WHOLE = 32 << 20  # bytes: a segment is read through; a bigger file (a video) is seeked in
KEY_SEARCH = 120.0  # seconds past the cut to look for the next keyframe before giving up
SHORT_TOLERANCE = 0.5  # seconds a whole clip may come out shorter than planned (frame rounding)
SHORT_FRAMES = 3  # ... or this many frames, when that is longer


def sources(root: Root, pieces: list[Piece]) -> list[Source]:
    """The pieces as the files ffmpeg will read. A fragment's own timestamp is its decode time;
    plus the video's decoder delay (B-frames) it is the presentation time keyframes are found at."""
    delays: dict[Path, float] = {}
    sources: dict[Path, str] = {}  # the path, or a URL of the store signed once per export
    found = []
    for p in pieces:
        path = files.resolve(root, p.day, p.file)  # refuses anything outside the root
        if path not in sources:
            sources[path] = files.source(path)
            if sources[path] != str(path):  # a URL: probed from the head kept on the disk
                _remember_head(sources[path], files.head(path))
        if p.is_fragment and path not in delays:
            delays[path] = _decoder_delay(_probed(sources[path]))
        delay = delays.get(path, 0.0) if p.is_fragment else 0.0
        found.append(Source(sources[path], p.start, p.duration, p.media_start + delay, delay,
                            p.is_fragment))
    return found


_heads: OrderedDict[str, str] = OrderedDict()  # a store's URL -> the local head of its video
HEADS_KEPT = 64
URL_OPTIONS = {"short_seek_size": str(4 << 20)}  # read through a short seek, no new request


def _remember_head(url: str, head: Path) -> None:
    _heads[url] = str(head)
    while len(_heads) > HEADS_KEPT:
        _heads.popitem(last=False)


def _probed(path: str) -> str:
    """What to probe for a source's codecs and first packets: a URL's local head, else itself."""
    return _heads.get(path, path)


def _decoder_delay(path: str) -> float:
    """Seconds by which the first frame's presentation time trails its decode time (B-frames)."""
    with av.open(path) as container:
        stream = container.streams.video[0]
        for packet in container.demux(stream):
            if packet.pts is not None and packet.dts is not None:
                return float((packet.pts - packet.dts) * stream.time_base)
    return 0.0


def keyframes(path: str, media: float) -> list[float]:
    """Keyframe times (the file's own seconds) around `media`: the one at or before it and
    the first after it, at least. Packets are demuxed, never decoded."""
    with av.open(path, options=URL_OPTIONS if "://" in path else {}) as container:
        stream = container.streams.video[0]
        if "://" in path or os.path.getsize(path) > SCAN_WHOLE:  # a URL: a video in the store
            container.seek(int(media / stream.time_base), stream=stream, backward=True)
        keys = []
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            at = float(packet.pts * stream.time_base)
            if packet.is_keyframe:
                keys.append(at)
            if at > media + KEY_SEARCH or (keys and keys[-1] > media):
                break
        return sorted(keys)


def make_plan(footage: Footage, root: Root, rng: Range, tz: ZoneInfo,
              codec: str = exportplan.AUTO) -> Plan:
    """Which footage, cut where, and how (the plan's codec: `auto` becomes a stream copy, or
    H.264 when the range holds two codecs): NotFound when the range holds none; Unsupported
    when a stream copy was asked for and would have to join two codecs."""
    pieces = footage.run(exportplan.days_touched(rng, tz))
    chosen = sources(root, exportplan.overlapping(pieces, rng))
    codec = exportplan.choose_codec(codec, chosen, _codec)
    first, last = chosen[0], chosen[-1]
    plan = exportplan.plan(chosen, rng, keyframes(first.path, first.media(rng.start)),
                           keyframes(last.path, last.media(rng.end)))
    return replace(plan, audio=decode.codec_name(_probed(first.path), "audio"), codec=codec)


def _codec(path: str) -> str | None:
    return decode.codec_name(_probed(path))  # a URL's local head (Path would mangle a URL)


def stream(binary: str, plan: Plan,
           on_progress: Callable[[float], None] | None = None) -> AsyncGenerator[bytes, None]:
    """The clip's fragmented MP4 bytes, made by stream copy as they are read.

    FFmpegError, after the last bytes, when the clip came out shorter than planned: a source
    vanished or shrank while ffmpeg read it (compaction deletes segments; a camera may rewrite
    one), and a short clip must not pass for the range its headers name.
    """
    script = exportplan.concat_list(plan.cuts).encode()
    written = _Written(on_progress)
    chunks = ffmpeg.stream(exportplan.argv(binary, plan.audio), script, written.seconds_at,
                           on_frames=written.frames_at)
    return _checked(chunks, plan, written)


class _Written:
    """How much of the clip ffmpeg reports written, passing the seconds on to on_progress."""

    def __init__(self, on_progress: Callable[[float], None] | None):
        self.on_progress = on_progress
        self.seconds = 0.0
        self.frames = 0

    def seconds_at(self, seconds: float) -> None:
        self.seconds = seconds
        if self.on_progress:
            self.on_progress(seconds)

    def frames_at(self, frames: int) -> None:
        self.frames = frames


async def _checked(chunks: AsyncGenerator[bytes, None], plan: Plan,
                   written: _Written) -> AsyncGenerator[bytes, None]:
    async with contextlib.aclosing(chunks):  # closed with us: ffmpeg is killed at once
        async for data in chunks:
            yield data
    if short(plan, written.seconds, written.frames):
        raise FFmpegError(f"the clip holds {written.seconds:.1f} s of the {plan.footage:.1f} s "
                          f"planned: a source changed or vanished while it was read")


def short(plan: Plan, seconds: float, frames: int) -> bool:
    """Pure: does a clip of `seconds` (and `frames`) lack planned footage? A cut may lose a
    frame or two at its ends (B-frames), so a few frames' worth is allowed: at least
    SHORT_TOLERANCE, more for a camera of few frames per second."""
    frame = seconds / frames if frames else 0.0
    return plan.footage - seconds > max(SHORT_TOLERANCE, SHORT_FRAMES * frame)


async def reencode(binary: str, plan: Plan, folder: Path, threads: int = 0) -> Path:
    """Write the clip re-encoded to H.264 as `folder/clip.mp4` (folder: a fresh temporary one)
    and return its path. Each run of one codec is read by its own concat demuxer; the first
    file's frame size and rate decide the clip's."""
    groups = exportplan.codec_groups(plan.cuts, _codec)
    lists = []
    for i, group in enumerate(groups):
        lists.append(folder / f"part-{i}.ffconcat")
        lists[-1].write_text(exportplan.concat_list(group))
    found = [streams.probe(Path(_probed(group[0].path))) for group in groups]
    first = next((f for f in found if f is not None), None)
    target = transcode.target(first.width, first.height, first.fps) if first else \
        transcode.target(1280, 720, None)
    audio = all(f is not None and f.audio for f in found)
    output = folder / "clip.mp4"
    argv = exportplan.reencode_argv(binary, [str(p) for p in lists], target, audio, str(output),
                                    threads)
    async for _ in ffmpeg.stream(argv, b""):  # the clip goes to the file; stdout stays empty
        pass
    return output


def plan_from_disk(settings: Settings, start: str, end: str,
                   codec: str = exportplan.AUTO) -> Plan:
    """The CLI's way in: bring the catalog up to date for the days touched, then plan."""
    assert settings.root is not None
    tz = settings.tz
    rng = exportplan.parse_range(start, end, tz, settings.export_max, dt.datetime.now(tz).date())
    catalog = Catalog(settings.catalog_path)
    for day in exportplan.days_touched(rng, tz):
        if (settings.root / day).is_dir():
            catalog.sync_day(settings.root, day, time.time(), settings.stable_seconds, tz)
    return make_plan(Footage(settings.root, catalog), Root(settings.root), rng, tz, codec)


def write(settings: Settings, plan: Plan, output: Path,
          on_progress: Callable[[float], None] | None = None) -> None:
    """Write the clip to `output` through a temporary file, so a failure leaves no half clip."""
    binary = ffmpeg.locate(settings.ffmpeg)
    if plan.codec == exportplan.H264:
        with tempfile.TemporaryDirectory(prefix=".export-", dir=output.parent) as folder:
            os.replace(asyncio.run(reencode(binary, plan, Path(folder))), output)
        return
    partial = output.with_name(f".{output.name}.partial")

    async def copy() -> None:
        with open(partial, "wb") as out:
            async for data in stream(binary, plan, on_progress):
                out.write(data)

    try:
        asyncio.run(copy())
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
