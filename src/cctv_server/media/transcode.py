"""Pure: the H.264 re-encode that makes footage play anywhere: libx264's settings, its size, level, codec string and argv."""

from __future__ import annotations

import math
from dataclasses import dataclass

PRESET = "veryfast"  # 7-8x realtime a core for 720p25, half the bytes of superfast (bench/rendition.py)
CRF = 26  # SSIM 0.99 against the H.265 it is made from
PROFILE = "high"  # every phone and browser of the last decade decodes it
PROFILE_IDC = 100
MAX_HEIGHT = 1080  # taller footage is scaled down: 4K would not encode in realtime on a small box
MIN_LEVEL = 30  # 3.0: below it x264's bitrate limits get in the way, and every decoder has it
ASSUMED_FPS = 30.0  # when a file does not say
BITS_PER_PIXEL = 0.08  # the VBV cap: a busy night scene may take this much, a still one far less
MIN_MAXRATE = 200_000  # bits/s: a tiny frame still needs room for its keyframe
TS_PACKET_BITS = 188 * 8

# H.264 Table A-1: (level_idc, max macroblocks a frame, max macroblocks a second).
LEVELS = (
    (30, 1620, 40500), (31, 3600, 108000), (32, 5120, 216000), (40, 8192, 245760),
    (42, 8704, 522240), (50, 22080, 589824), (51, 36864, 983040), (52, 36864, 2073600),
)


@dataclass(frozen=True)
class Target:
    """What the re-encode makes of a source: its frame size and rate, its level and bitrate cap."""

    width: int
    height: int
    fps: float
    level: int
    maxrate: int  # bits/s

    @property
    def codec(self) -> str:
        """RFC 6381: High profile, no constraint flags (x264 sets none for High), the level."""
        return f"avc1.{PROFILE_IDC:02x}00{self.level:02x}"

    @property
    def bandwidth(self) -> int:
        """The peak bits/s of a segment as MPEG-TS: the VBV cap over a one-second buffer can be
        overshot by a tenth over a 10-s segment, and every frame ends in a part-filled packet."""
        return int(self.maxrate * 1.1 + self.fps * TS_PACKET_BITS * 2)


def target(width: int, height: int, fps: float | None) -> Target:
    """The re-encode of a `width`x`height` source at `fps` frames a second."""
    rate = fps if fps and fps > 0 else ASSUMED_FPS
    if height > MAX_HEIGHT:
        width, height = _even(width * MAX_HEIGHT / height), MAX_HEIGHT
    maxrate = max(MIN_MAXRATE, int(BITS_PER_PIXEL * width * height * rate))
    return Target(width, height, rate, level(width, height, rate), maxrate)


def _even(x: float) -> int:
    return max(2, int(round(x / 2)) * 2)


def level(width: int, height: int, fps: float) -> int:
    """The smallest level (Table A-1, from 3.0) whose frame size and macroblock rate fit."""
    frame = math.ceil(width / 16) * math.ceil(height / 16)
    for idc, max_frame, max_rate in LEVELS:
        if frame <= max_frame and frame * fps <= max_rate:
            return max(idc, MIN_LEVEL)
    return LEVELS[-1][0]


def scale(t: Target) -> str:
    """The filter that brings a frame to the target's size (a no-op at the same size)."""
    return f"scale={t.width}:{t.height}:flags=bicubic,setsar=1"


def encoder_args(t: Target, threads: int = 0) -> list[str]:
    """libx264 output options. No B-frames, so that decode and presentation times are equal and
    fragments made one by one run on from each other; frames passed through one for one, so
    the re-encode holds exactly the frames of its source."""
    return ["-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", PRESET, "-crf", str(CRF),
            "-maxrate", str(t.maxrate), "-bufsize", str(t.maxrate),
            "-profile:v", PROFILE, "-level:v", f"{t.level / 10:.1f}", "-bf", "0",
            "-threads", str(threads), "-fps_mode", "passthrough"]


def fragment_argv(binary: str, t: Target, threads: int = 0) -> list[str]:
    """ffmpeg: an init section and one fragment of a video on stdin -> that fragment in H.264 as
    MPEG-TS on stdout, its timestamps kept (like remux.argv), audio copied."""
    return [binary, "-hide_banner", "-nostats", "-loglevel", "error", "-f", "mp4", "-i", "pipe:0",
            "-map", "0:v:0", "-map", "0:a:0?", "-vf", scale(t), *encoder_args(t, threads),
            "-c:a", "copy",
            "-copyts", "-f", "mpegts", "pipe:1"]
