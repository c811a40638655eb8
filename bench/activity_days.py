"""Test days for activity, with known ground truth, made by ffmpeg's own filters.

A still textured scene with a burned-in clock, as a camera records it (H.264, 2-s GOP, no
B-frames, 10-s MPEG-TS segments named by their clock time), and one of:
`figure` (a figure crossing every 30 s), `small` (a smaller one), `night` (the figure in the
dark, with strong sensor noise), `light` (no crossing; the light rising and falling by a third over two minutes),
`still` (nothing at all).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
EVERY = 30.0  # seconds from one crossing to the next
FIRST = 5.0  # the first crossing starts this far into the day
LIGHT_PERIOD = 120.0  # seconds, at least, of the light's rise and fall (real dusk: an hour)
KINDS = {  # figure height and width as shares of the picture, crossing seconds, light, noise
    "figure": (0.40, 0.12, 6.0, 1.0, 6),
    "small": (0.15, 0.05, 6.0, 1.0, 6),
    "night": (0.40, 0.12, 6.0, 0.35, 30),
    "light": (0.0, 0.0, 0.0, 1.0, 6),
    "still": (0.0, 0.0, 0.0, 1.0, 6),
}


@dataclass(frozen=True)
class Day:
    kind: str
    width: int
    height: int
    fps: int
    duration: float

    @property
    def crossings(self) -> list[tuple[float, float]]:
        """(start, end) seconds into the day of each crossing: the figure is in the picture."""
        height, _, seconds, _, _ = KINDS[self.kind]
        if not height:
            return []
        found, t = [], FIRST
        while t + seconds <= self.duration:
            found.append((t, t + seconds))
            t += EVERY
        return found


def scene_png(binary: str, out: Path, width: int, height: int) -> Path:
    """A still, textured scene (one frame of a formula: bands, blocks and a soft gradient)."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"scene-{width}x{height}.png"
    if not path.exists():
        lum = ("100+40*sin(X/17)*cos(Y/23)+30*gt(mod(floor(X/40)+floor(Y/30),3),1)"
               "+25*sin(hypot(X-W/3,Y-H/2)/30)")
        subprocess.run([binary, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
                        "-i", f"color=c=gray:s={width}x{height}:d=1",
                        "-vf", f"format=yuv420p,geq=lum='{lum}':cb=120:cr=136", "-frames:v", "1",
                        str(path)], check=True, timeout=120)
    return path


def filters(day: Day) -> str:
    """Pure: the filter graph from the scene (input 0) to the camera's picture."""
    height, width, seconds, light, noise = KINDS[day.kind]
    w, h = day.width, day.height
    graph = "[0:v]format=yuv420p"
    if height:
        fw, fh = max(2, int(w * width)) // 2 * 2, max(2, int(h * height)) // 2 * 2
        into = f"mod(t-{FIRST},{EVERY})"
        x = f"-{fw}+({w}+{fw})*{into}/{seconds}"
        graph += (f"[bg];color=c=0x402818:s={fw}x{fh}:r={day.fps}[fig];"
                  f"[bg][fig]overlay=x='{x}':y={h - fh - h // 12}"
                  f":enable='gte(t,{FIRST})*lt({into},{seconds})'")
    if day.kind == "light":  # the light rises and falls by a third over two minutes or more
        period = max(LIGHT_PERIOD, day.duration)
        graph += f",eq=brightness='0.18*sin(2*PI*t/{period})':eval=frame"
    if light != 1.0:
        graph += f",eq=contrast={light + 0.25:.2f}:brightness={(light - 1) / 3:.2f}"
    graph += f",noise=c0s={noise}:c1s={max(1, noise // 3)}:c2s={max(1, noise // 3)}:allf=t"
    size = max(8, h // 24)
    graph += (f",drawtext=fontfile={FONT}:text='%{{pts\\:hms}}':x=8:y=8:fontsize={size}"
              ":fontcolor=white:box=1:boxcolor=black")
    return graph + "[out]"


def make(binary: str, day: Day, root: Path, start: dt.datetime, bitrate: str = "1000k",
         segment: float = 10.0) -> list[Path]:
    """Record the day into root/DAY/HH-MM-SS.ts from `start`; the segments' paths."""
    scene = scene_png(binary, root.parent, day.width, day.height)
    tmp = root / f".make-{day.kind}"
    tmp.mkdir(parents=True, exist_ok=True)
    gop = str(day.fps * 2)
    subprocess.run([
        binary, "-hide_banner", "-loglevel", "error", "-y", "-loop", "1", "-framerate",
        str(day.fps), "-i", str(scene), "-filter_complex", filters(day), "-map", "[out]",
        "-t", str(day.duration), "-r", str(day.fps), "-c:v", "libx264", "-preset", "superfast",
        "-bf", "0", "-g", gop, "-keyint_min", gop, "-sc_threshold", "0", "-b:v", bitrate,
        "-maxrate", bitrate, "-bufsize", bitrate, "-f", "segment", "-segment_time",
        str(segment), "-segment_format", "mpegts", str(tmp / "%05d.ts")],
        check=True, timeout=1800)
    made = []
    for i, part in enumerate(sorted(tmp.iterdir())):
        begins = start + dt.timedelta(seconds=i * segment)
        folder = root / begins.date().isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / begins.strftime("%H-%M-%S.ts")
        os.replace(part, target)
        os.utime(target, (begins.timestamp() + segment,) * 2)
        made.append(target)
    tmp.rmdir()
    return made
