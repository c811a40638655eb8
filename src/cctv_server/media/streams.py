"""What a file's streams are, as an HLS multivariant playlist names them: RFC 6381 codecs, frame size and rate."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av

from . import mp4

AAC_OBJECT_TYPES = {"LC": 2, "HE-AAC": 5, "HE-AACv2": 29}


@dataclass(frozen=True)
class Streams:
    video: str  # RFC 6381, e.g. avc1.4d401f, hvc1.1.6.L93.90
    audio: str | None  # mp4a.40.2, or None without audio
    width: int
    height: int
    fps: float | None


def probe(path: Path) -> Streams | None:
    """The first video stream (and audio, if any) of a segment or a video; None when unreadable.
    Only the head of the file is read: a video's moov, a segment's first packets."""
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.video:
                return None
            stream = container.streams.video[0]
            ctx = stream.codec_context
            video = _video_codec(path, ctx.name, bytes(ctx.extradata or b""))
            audio = _audio_codec(container.streams.audio[0]) if container.streams.audio else None
            fps = float(stream.average_rate) if stream.average_rate else None
            return Streams(video, audio, ctx.width, ctx.height, fps)
    except (av.FFmpegError, OSError, ValueError, mp4.NotFragmented):
        return None


def _video_codec(path: Path, name: str, extradata: bytes) -> str:
    if path.suffix == ".mp4":  # its sample entry says it all: avc1/avc3, hvc1/hev1, av01
        found = mp4.codec_of(path)
        if found:
            return found
    if name == "h264":
        return avc1(extradata) or "avc1"
    return {"hevc": "hvc1", "av1": "av01"}.get(name, name)


def avc1(extradata: bytes) -> str | None:
    """Pure: `avc1.PPCCLL` (profile, constraint flags, level) from H.264 extradata: an avcC
    record (MP4) or Annex B NAL units (what ffmpeg reads from MPEG-TS), whose SPS holds them."""
    if len(extradata) >= 4 and extradata[0] == 1:
        return "avc1." + extradata[1:4].hex()
    i = 0
    while (i := extradata.find(b"\x00\x00\x01", i)) >= 0 and i + 6 < len(extradata):
        if extradata[i + 3] & 0x1F == 7:  # sequence parameter set
            return "avc1." + extradata[i + 4 : i + 7].hex()
        i += 3
    return None


def _audio_codec(stream) -> str | None:
    name = stream.codec_context.name
    if name == "aac":
        return f"mp4a.40.{AAC_OBJECT_TYPES.get(stream.codec_context.profile or '', 2)}"
    if name == "mp3":
        return "mp4a.40.34"
    return None  # no codec string HLS knows: the attribute leaves it out
