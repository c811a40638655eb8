"""Playlists of one container: where videos meet segments, video fragments are served as MPEG-TS.

A playlist may not change container midway: an EXT-X-MAP holds for every later segment, so
the `.ts` segments after a video's fMP4 fragments were handed its init section. ffmpeg's HLS
client then fetched no segment after the video (HTTP 416) and hls.js failed to parse them. So
a playlist that holds both serves each video fragment remuxed to MPEG-TS (stream copy); a
playlist of videos alone keeps its fMP4 byte ranges.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from . import hls

TS_URI = re.compile(r"(?P<video>video(-\d+)?\.mp4)/(?P<offset>\d+)-(?P<length>\d+)\.ts")


def single_format(entries: Sequence[hls.Entry]) -> list[hls.Entry]:
    """The entries, with video fragments as TS remux URIs when segments share the playlist."""
    if all(e.init for e in entries) or not any(e.init for e in entries):
        return list(entries)
    return [_as_ts(e) if e.init else e for e in _breaks_between_kinds(entries)]


def _breaks_between_kinds(entries: Sequence[hls.Entry]) -> list[hls.Entry]:
    """A segment after a video (or a video after a segment) starts a new timeline: mark it, as
    `Playlists.entries` does not when the video's day has no segments of its own."""
    marked = list(entries)
    for i in range(1, len(marked)):
        if bool(marked[i].init) != bool(marked[i - 1].init) and not marked[i].discontinuity:
            marked[i] = dataclasses.replace(marked[i], discontinuity=True)
    return marked


def _as_ts(entry: hls.Entry) -> hls.Entry:
    length, offset = entry.byterange
    video = entry.uri.split("?", 1)[0]  # DAY/video.mp4
    return hls.Entry(f"{video}/{offset}-{length}.ts", entry.duration, entry.start,
                     entry.discontinuity)


def fragment(entries: Sequence[hls.Entry], day: str, video: str, offset: int,
             length: int) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """((init offset, length), (fragment offset, length)) if the range is one of the video's
    fragments, so a request can only name a fragment the playlists would."""
    for e in entries:
        if e.init and e.uri.split("?", 1)[0] == f"{day}/{video}" and e.byterange == (length, offset):
            return (e.init[2], e.init[1]), (offset, length)
    return None


def argv(binary: str) -> list[str]:
    """ffmpeg: an init section and one fragment on stdin -> MPEG-TS on stdout, timestamps kept
    so that neighbouring fragments run on from each other."""
    return [binary, "-hide_banner", "-nostats", "-loglevel", "error", "-f", "mp4", "-i", "pipe:0",
            "-map", "0:v:0", "-map", "0:a:0?", "-c", "copy", "-copyts", "-f", "mpegts", "pipe:1"]
