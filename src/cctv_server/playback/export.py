"""Making an export clip: footage from the catalog, keyframes from the files, the MP4 from ffmpeg."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import av

from ..config import Settings
from ..footage import timeline, videoindex
from ..footage.catalog import Catalog
from ..footage.timeline import Placed
from ..layout import Root
from ..media import ffmpeg, mp4
from . import exportplan
from .exportplan import Plan, Range, Source

# (day) -> the sources of that day's compacted videos, in order; none until a day is compacted.
VideoSources = Callable[[str], list[Source]]
SCAN_WHOLE = 32 << 20  # bytes: a segment is read through; a bigger file (a video) is seeked in
KEY_SEARCH = 120.0  # seconds past the cut to look for the next keyframe before giving up


def sources(catalog: Catalog, root: Root, days: list[str],
            videos: VideoSources | None = None) -> list[Source]:
    """Every stretch of footage in these days, in playback order: videos, then segments."""
    found: list[Source] = []
    prev: Placed | None = None
    for day in days:
        day_videos = videos(day) if videos else []
        found += day_videos
        prev = None if day_videos else prev
        placed = list(timeline.place(catalog.segments(day), prev))
        found += [_segment_source(root, p) for p in placed]
        prev = placed[-1] if placed else prev
    return found


def _segment_source(root: Root, p: Placed) -> Source:
    path = root.resolve(p.segment.day, p.segment.name)  # refuses anything outside the root
    media = p.segment.first_pts / timeline.CLOCK
    return Source(str(path), p.start, p.segment.duration, media)


class VideoFiles:
    """A day's compacted videos as sources: each fragment's wall clock from the video's index,
    and its own timestamp from its moof (plus the decoder delay, so it is a presentation time)."""

    def __init__(self, root: Root, catalog: Catalog):
        self.root = root
        self.catalog = catalog

    def __call__(self, day: str) -> list[Source]:
        found: list[Source] = []
        for name, size in self.catalog.videos(day).items():
            path = self.root.resolve(day, name)  # refuses anything outside the root
            found += _video_sources(path, videoindex.read(path.parent, name, size))
        return sorted(found, key=lambda s: s.start)


def _video_sources(path: Path, index: videoindex.VideoIndex) -> list[Source]:
    media = {f.offset: f.start for f in mp4.layout(path).fragments}
    delay = _decoder_delay(str(path))
    return [Source(str(path), f.wall, f.duration, media[f.offset] + delay, delay)
            for f in index.fragments if f.offset in media]


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
    with av.open(path) as container:
        stream = container.streams.video[0]
        if os.path.getsize(path) > SCAN_WHOLE:
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


def make_plan(catalog: Catalog, root: Root, rng: Range, tz: ZoneInfo,
              videos: VideoSources | None = None) -> Plan:
    """Which footage, cut where: NotFound when the range holds none."""
    chosen = exportplan.overlapping(sources(catalog, root, exportplan.days_touched(rng, tz), videos), rng)
    first, last = chosen[0], chosen[-1]
    return exportplan.plan(chosen, rng, keyframes(first.path, first.media(rng.start)),
                       keyframes(last.path, last.media(rng.end)))


def stream(binary: str, plan: Plan,
           on_progress: Callable[[float], None] | None = None) -> AsyncIterator[bytes]:
    """The clip's fragmented MP4 bytes, made by stream copy as they are read."""
    script = exportplan.concat_list(plan.cuts).encode()
    return ffmpeg.stream(exportplan.argv(binary), script, on_progress)


def plan_from_disk(settings: Settings, start: str, end: str) -> Plan:
    """The CLI's way in: bring the catalog up to date for the days touched, then plan."""
    assert settings.root is not None
    tz = settings.tz
    rng = exportplan.parse_range(start, end, tz, settings.export_max)
    catalog = Catalog(settings.catalog_path)
    for day in exportplan.days_touched(rng, tz):
        if (settings.root / day).is_dir():
            catalog.sync_day(settings.root, day, time.time(), settings.stable_seconds, tz)
    root = Root(settings.root)
    return make_plan(catalog, root, rng, tz, VideoFiles(root, catalog))


def write(settings: Settings, plan: Plan, output: Path,
          on_progress: Callable[[float], None] | None = None) -> None:
    """Write the clip to `output` through a temporary file, so a failure leaves no half clip."""
    binary = ffmpeg.locate(settings.ffmpeg)
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
