"""The app's icon, drawn here (a camera lens with a red recording dot), and its web app manifest: favicon, home-screen icons."""

from __future__ import annotations

import functools
import json
import math
import struct
import zlib

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SIZES = (32, 180, 192, 512)  # the favicon, Apple's touch icon, the manifest's two
BACKGROUND = (26, 58, 110)  # #1a3a6e
LENS = (240, 244, 250)
DOT = (220, 40, 40)
CACHE = "public, max-age=86400"

# The same drawing as SVG, for browsers that take it (sharp at any size).
SVG = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">
<rect width="100" height="100" rx="22" fill="#1a3a6e"/>
<circle cx="50" cy="52" r="27" fill="none" stroke="#f0f4fa" stroke-width="9"/>
<circle cx="50" cy="52" r="9" fill="#f0f4fa"/>
<circle cx="79" cy="21" r="9" fill="#dc2828"/>
</svg>
"""


def _coverage(distance: float, scale: float) -> float:
    """How much of a pixel a shape covers, from its signed distance (negative inside) in pixels."""
    return max(0.0, min(1.0, 0.5 - distance * scale))


def _pixel(x: float, y: float, px: float) -> tuple[int, int, int, int]:
    """The colour at (x, y) in a 100x100 drawing, `px` drawing units a pixel."""
    s = 1 / px
    # the rounded square
    qx, qy = max(abs(x - 50) - 28, 0), max(abs(y - 50) - 28, 0)
    alpha = _coverage(math.hypot(qx, qy) - 22, s)
    colour = BACKGROUND
    r = math.hypot(x - 50, y - 52)
    ring = _coverage(abs(r - 27) - 4.5, s)
    pupil = _coverage(r - 9, s)
    dot = _coverage(math.hypot(x - 79, y - 21) - 9, s)
    for layer, amount in ((LENS, max(ring, pupil)), (DOT, dot)):
        colour = tuple(round(c + (t - c) * amount) for c, t in zip(colour, layer))
    return (*colour, round(255 * alpha))


# Every edge of the drawing, as circles (centre x, centre y, radius) in its 100x100 units: the
# lens ring's two edges, the pupil, the dot, and the rounded square's four corners.
EDGES = [(50, 52, 31.5), (50, 52, 22.5), (50, 52, 9), (79, 21, 9),
         (22, 22, 22), (78, 22, 22), (22, 78, 22), (78, 78, 22)]


def _row(y: float, size: int, px: float) -> bytes:
    """One row of pixels. The colour is flat between edges, so only the pixels near an edge are
    worked out one by one; each flat run takes the colour of its middle."""
    near: set[int] = {0, size - 1}
    for cx, cy, r in EDGES:
        dy = abs(y - cy)
        if dy > r + 2 * px:
            continue
        inner = math.sqrt(max(0.0, (r - 2 * px) ** 2 - dy * dy)) if dy < r - 2 * px else 0.0
        outer = math.sqrt((r + 2 * px) ** 2 - dy * dy)
        for lo, hi in ((cx - outer, cx - inner), (cx + inner, cx + outer)):
            near.update(range(max(0, int(lo / px) - 1), min(size, int(hi / px) + 2)))
    out = bytearray()
    i = 0
    while i < size:
        if i in near:
            out.extend(_pixel((i + 0.5) * px, y, px))
            i += 1
            continue
        j = i
        while j < size and j not in near:
            j += 1
        out.extend(bytes(_pixel(((i + j) / 2) * px, y, px)) * (j - i))
        i = j
    return bytes(out)


@functools.lru_cache(maxsize=len(SIZES))
def png(size: int) -> bytes:
    """The icon as a `size`-pixel square PNG (RGBA)."""
    px = 100 / size
    rows = bytearray()
    for j in range(size):
        rows.append(0)  # no filter
        rows.extend(_row((j + 0.5) * px, size, px))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    head = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head) + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
            + chunk(b"IEND", b""))


def _exact(size: int) -> bytes:
    """Every pixel worked out one by one: what `_row` must equal (for the tests)."""
    px = 100 / size
    return b"".join(bytes(_pixel((i + 0.5) * px, (j + 0.5) * px, px))
                    for j in range(size) for i in range(size))


def manifest() -> dict:
    """The web app manifest: installable to a home screen. No service worker: nothing of the
    footage is cached on the phone."""
    icons = [{"src": "/static/icon.svg", "sizes": "any", "type": "image/svg+xml"}]
    icons += [{"src": f"/static/icon-{n}.png", "sizes": f"{n}x{n}", "type": "image/png",
               "purpose": "any"} for n in (192, 512)]
    return {"name": "CCTV recordings", "short_name": "CCTV", "start_url": "/", "scope": "/",
            "display": "standalone", "background_color": "#ffffff",
            "theme_color": "#1a3a6e", "icons": icons}


async def favicon(request: Request) -> Response:
    return Response(png(32), media_type="image/png", headers={"Cache-Control": CACHE})


async def icon_png(request: Request) -> Response:
    size = request.path_params["size"]
    if size not in SIZES:
        return Response(f"no icon of {size} pixels (there are {', '.join(map(str, SIZES))})\n",
                        status_code=404, media_type="text/plain")
    return Response(png(size), media_type="image/png", headers={"Cache-Control": CACHE})


async def icon_svg(request: Request) -> Response:
    return Response(SVG, media_type="image/svg+xml", headers={"Cache-Control": CACHE})


async def manifest_file(request: Request) -> Response:
    return Response(json.dumps(manifest(), indent=1), media_type="application/manifest+json",
                    headers={"Cache-Control": CACHE})


# Served by the server before any camera (public, like static files): they name no camera.
ROUTES = [
    Route("/favicon.ico", favicon),
    Route("/static/icon.svg", icon_svg),
    Route("/static/icon-{size:int}.png", icon_png),
    Route("/static/manifest.webmanifest", manifest_file),
]
