"""Synthesise a CCTV-like test day: camera segments plus the clean scene they were made from."""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from skimage import data
from skimage.transform import resize

from cctv_server.media.ffmpeg import locate

VARIANTS = {"720p25": (1280, 720, 25), "1080p15": (1920, 1080, 15), "tiny": (160, 90, 10)}
# A variant may end in "-night": the same camera (same bitrate) in the dark, where the sensor's
# noise is strong enough that the camera's encode keeps much of it; or in "-garage": a night-like
# garage, fine texture (a brick wall over gravel) under strong noise, where an encoder that smooths
# loses what the camera kept. (light as a share of the day's, noise strength, backdrop)
# "-dusk" is that garage with less noise, where the camera keeps 0.93 of the scene (as on the day
# issue 27 measured): the noise there is below what compaction counts as very noisy.
SCENES = {"": (1.0, 4, "photo"), "night": (0.3, 18, "photo"), "garage": (0.55, 16, "garage"),
          "dusk": (0.55, 10, "garage")}
CLOCK_START = 12 * 3600  # the burned-in clock starts at noon
CROSSING_EVERY = 40.0  # seconds between objects entering the scene
CROSSING_TIME = 8.0  # seconds an object takes to cross


@dataclass(frozen=True)
class DaySpec:
    width: int
    height: int
    fps: int
    duration: float  # seconds of video
    segment: float = 10.0
    bitrate: str = "400k"
    vbv_buffer: str = "800k"  # two seconds of bitrate: one GOP
    light: float = 1.0  # scene brightness; night footage is dark and grey
    noise: int = 4  # strength of the temporal sensor noise (ffmpeg's noise filter)
    backdrop: str = "photo"  # the still scene: an outdoor photo, or a textured garage


# A 3x5 bitmap font of our own for the clock: "#" is lit.
GLYPHS = {
    "0": ["###", "#.#", "#.#", "#.#", "###"], "1": [".#.", "##.", ".#.", ".#.", "###"],
    "2": ["###", "..#", "###", "#..", "###"], "3": ["###", "..#", "###", "..#", "###"],
    "4": ["#.#", "#.#", "###", "..#", "..#"], "5": ["###", "#..", "###", "..#", "###"],
    "6": ["###", "#..", "###", "#.#", "###"], "7": ["###", "..#", ".#.", ".#.", ".#."],
    "8": ["###", "#.#", "###", "#.#", "###"], "9": ["###", "#.#", "###", "..#", "###"],
    ":": ["...", ".#.", "...", ".#.", "..."], "-": ["...", "...", "###", "...", "..."],
    " ": ["...", "...", "...", "...", "..."],
}


def rgb_to_yuv(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BT.601 limited-range planes (float32), chroma at full resolution."""
    r, g, b = (rgb[..., i].astype(np.float32) for i in range(3))
    y = 16 + 0.257 * r + 0.504 * g + 0.098 * b
    u = 128 - 0.148 * r - 0.291 * g + 0.439 * b
    v = 128 + 0.439 * r - 0.368 * g - 0.071 * b
    return y, u, v


def half(plane: np.ndarray) -> np.ndarray:
    """Average 2x2 blocks: 4:2:0 chroma subsampling."""
    h, w = plane.shape[0] // 2 * 2, plane.shape[1] // 2 * 2
    p = plane[:h, :w]
    return (p[0::2, 0::2] + p[1::2, 0::2] + p[0::2, 1::2] + p[1::2, 1::2]) / 4


def load_scene(width: int, height: int, backdrop: str = "photo") -> list[np.ndarray]:
    """The still scene scaled to the camera's frame, as Y, U, V planes."""
    rgb = garage(width, height) if backdrop == "garage" else data.rocket()
    rgb = resize(rgb, (height, width), anti_aliasing=True, preserve_range=True)
    y, u, v = rgb_to_yuv(rgb)
    return [y, half(u), half(v)]


def garage(width: int, height: int) -> np.ndarray:
    """A brick wall above a gravel floor, tiled at their own scale (fine texture is what a
    smoothing encoder loses first), tinted warm as under a sodium lamp."""
    wall, floor = data.brick(), data.gravel()
    rows = [np.tile(t, (-(-h // t.shape[0]), -(-width // t.shape[1])))[:h, :width]
            for t, h in ((wall, height * 2 // 3), (floor, height - height * 2 // 3))]
    grey = np.vstack(rows).astype(np.float32)
    return np.stack([grey * 1.0, grey * 0.85, grey * 0.6], axis=-1)


def load_objects(height: int) -> list[tuple[list[np.ndarray], list[np.ndarray]]]:
    """Cut-outs of other photos, each as (Y, U, V planes, alpha per plane)."""
    crops = [data.astronaut()[20:500, 120:400], data.chelsea()[20:300, 80:380], data.coffee()]
    return [_cutout(crop, max(4, int(height * 0.4)) // 2 * 2) for crop in crops]


def _cutout(rgb: np.ndarray, h: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    w = max(4, int(rgb.shape[1] * h / rgb.shape[0])) // 2 * 2
    y, u, v = rgb_to_yuv(resize(rgb, (h, w), anti_aliasing=True, preserve_range=True))
    yy, xx = np.mgrid[0:h, 0:w]
    r = ((yy - h / 2) / (h / 2)) ** 2 + ((xx - w / 2) / (w / 2)) ** 2
    alpha = np.clip((1 - r) * 4, 0, 1).astype(np.float32)  # an ellipse with a soft edge
    return [y, half(u), half(v)], [alpha, half(alpha), half(alpha)]


def clock_mask(text: str, scale: int) -> np.ndarray:
    """A boolean bitmap of `text` in GLYPHS, each font pixel scale x scale."""
    rows = [" ".join("".join(GLYPHS[c][r]) for c in text) for r in range(5)]
    bitmap = np.array([[ch == "#" for ch in row] for row in rows])
    return np.kron(bitmap, np.ones((scale, scale), dtype=bool))


def draw_clock(y: np.ndarray, seconds: float) -> None:
    s = int(CLOCK_START + seconds)
    text = f"2026-11-22 {s // 3600 % 24:02d}:{s // 60 % 60:02d}:{s % 60:02d}"
    mask = clock_mask(text, max(1, y.shape[0] // 120))
    h, w = min(mask.shape[0], y.shape[0] - 4), min(mask.shape[1], y.shape[1] - 4)
    box = y[2 : 2 + h + 2, 2 : 2 + w + 2]
    box[:] = 16  # a black box behind white digits, as camera overlays do
    box[1 : 1 + h, 1 : 1 + w][mask[:h, :w]] = 235


def paste(planes: list[np.ndarray], obj: tuple, x: int, ground: int) -> None:
    """Blend an object onto the planes with its left edge at x, bottom at row `ground`."""
    for i, (plane, src, alpha) in enumerate(zip(planes, obj[0], obj[1])):
        sub = 2 if i else 1
        ox, oy = x // sub, (ground - obj[0][0].shape[0]) // sub
        x0, x1 = max(0, ox), min(plane.shape[1], ox + src.shape[1])
        if x1 <= x0:
            return
        region = plane[oy : oy + src.shape[0], x0:x1]
        a = alpha[: region.shape[0], x0 - ox : x1 - ox]
        region[:] = region * (1 - a) + src[: region.shape[0], x0 - ox : x1 - ox] * a


def frame_at(spec: DaySpec, n: int, scene: list, objects: list) -> bytes:
    """The clean yuv420p frame n: drifting light, maybe a crossing object, the clock."""
    t = n / spec.fps
    gain = 1 + 0.15 * math.sin(2 * math.pi * t / max(spec.duration, 1))  # day light drifting
    planes = [16 + (scene[0] - 16) * gain, scene[1].copy(), scene[2].copy()]
    event, into = divmod(t, CROSSING_EVERY)
    if into < CROSSING_TIME:
        obj = objects[int(event) % len(objects)]
        width = obj[0][0].shape[1]
        x = int(-width + (spec.width + width) * into / CROSSING_TIME) // 2 * 2
        paste(planes, obj, x, spec.height - spec.height // 10)
    if spec.light != 1.0:
        planes = darken(planes, spec.light)
    draw_clock(planes[0], t)
    return b"".join(np.clip(p, 0, 255).round().astype(np.uint8).tobytes() for p in planes)


def darken(planes: list[np.ndarray], light: float) -> list[np.ndarray]:
    """Less light: luma towards black, and colour fading faster than brightness, as at night."""
    chroma = min(1.0, light * 2)
    return [16 + (planes[0] - 16) * light, 128 + (planes[1] - 128) * chroma,
            128 + (planes[2] - 128) * chroma]


def camera_argv(spec: DaySpec, out: Path) -> list[str]:
    """One ffmpeg: raw clean frames in; a lossless clean copy and noisy camera segments out."""
    gop = str(int(spec.fps * 2))  # a 2-second GOP, as the Pi camera apps default to
    return [
        locate(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{spec.width}x{spec.height}",
        "-r", str(spec.fps), "-i", "-",
        "-filter_complex", f"[0:v]split[clean][cam];[cam]{noise_filter(spec)}[noisy]",
        "-map", "[clean]", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0",
        str(out / "clean.mkv"),
        # superfast has no lookahead, like a camera's hardware encoder; with one (veryfast's
        # mb-tree) x264 undershoots 400k on noise and hands the bench an unrealistically clean day.
        "-map", "[noisy]", "-c:v", "libx264", "-profile:v", "main", "-preset", "superfast",
        "-bf", "0", "-g", gop, "-keyint_min", gop, "-sc_threshold", "0",
        "-b:v", spec.bitrate, "-maxrate", spec.bitrate, "-bufsize", spec.vbv_buffer,
        "-f", "segment", "-segment_time", str(spec.segment), "-segment_format", "mpegts",
        str(out / "segments" / "seg%05d.ts"),
    ]


def noise_filter(spec: DaySpec) -> str:
    """Pure: sensor noise that changes every frame (temporal), stronger in luma than in chroma."""
    chroma = max(1, spec.noise // 2)
    return f"noise=c0s={spec.noise}:c1s={chroma}:c2s={chroma}:allf=t"


def make_day(spec: DaySpec, out: Path) -> dict:
    """Write segments/*.ts, clean.mkv and day.json under out; return day.json's content."""
    (out / "segments").mkdir(parents=True, exist_ok=True)
    scene, objects = load_scene(spec.width, spec.height, spec.backdrop), load_objects(spec.height)
    proc = subprocess.Popen(camera_argv(spec, out), stdin=subprocess.PIPE)
    for n in range(int(spec.duration * spec.fps)):
        proc.stdin.write(frame_at(spec, n, scene, objects))
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError("ffmpeg failed while encoding the test day")
    segments = sorted((out / "segments").glob("*.ts"))
    info = {**asdict(spec), "segments": [p.name for p in segments],
            "source_bytes": sum(p.stat().st_size for p in segments)}
    (out / "day.json").write_text(json.dumps(info, indent=1))
    return info


def spec_for(variant: str, duration: float, **kw) -> DaySpec:
    """`720p25`, `720p25-night` ...: a frame size and rate from VARIANTS, a scene from SCENES."""
    size, _, scene = variant.partition("-")
    width, height, fps = VARIANTS[size]
    light, noise, backdrop = SCENES[scene]
    return DaySpec(width, height, fps, duration, light=light, noise=noise, backdrop=backdrop, **kw)


def variant_names() -> list[str]:
    return [f"{v}-{s}" if s else v for v in VARIANTS for s in SCENES]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--variant", choices=variant_names(), default="720p25")
    ap.add_argument("--duration", type=float, default=120, help="seconds of video")
    ap.add_argument("--segment", type=float, default=10.0, help="segment length, seconds")
    ap.add_argument("--out", type=Path, default=Path("bench/out/day-720p25"))
    args = ap.parse_args(argv)
    info = make_day(spec_for(args.variant, args.duration, segment=args.segment), args.out)
    kbps = info["source_bytes"] * 8 / args.duration / 1000
    print(f"{len(info['segments'])} segments, {kbps:.0f} kbit/s, in {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
