"""Video fragments served as MPEG-TS, for playlists where videos meet segments.

A playlist may not change container midway: an EXT-X-MAP holds for every later segment, so
the `.ts` segments after a video's fMP4 fragments were handed its init section. ffmpeg's HLS
client then fetched no segment after the video (HTTP 416) and hls.js failed to parse them. So
a playlist that holds both serves each video fragment remuxed to MPEG-TS (stream copy); a
playlist of videos alone keeps its fMP4 byte ranges.
"""

from __future__ import annotations


def uri(day: str, video: str, offset: int, length: int) -> str:
    """The URI under which a fragment of a video is served as MPEG-TS (routes: fragment_ts)."""
    return f"{day}/{video}/{offset}-{length}.ts"


def argv(binary: str) -> list[str]:
    """ffmpeg: an init section and one fragment on stdin -> MPEG-TS on stdout, timestamps kept
    so that neighbouring fragments run on from each other."""
    return [binary, "-hide_banner", "-nostats", "-loglevel", "error", "-f", "mp4", "-i", "pipe:0",
            "-map", "0:v:0", "-map", "0:a:0?", "-c", "copy", "-copyts", "-f", "mpegts", "pipe:1"]
