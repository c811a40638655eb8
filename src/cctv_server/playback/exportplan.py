"""Pure: clip export decisions: the requested range, which footage, where to cut, ffmpeg's argv."""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from .. import format, layout
from ..errors import InvalidInput, NotFound, Unsupported
from ..media import ffmpeg, transcode

# Date, `T` or space, hours and minutes; seconds, a fraction and an offset are optional.
_INSTANT = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}(:?\d{2})?)?"
)
KEY_TOLERANCE = 0.001  # seconds: a keyframe this close to the requested time is at it
# A clip by stream copy, or re-encoded to H.264; AUTO (the default): a stream copy unless the
# range holds two codecs (an H.265 day and H.264 segments that came after it), which only a
# re-encode can join into one track.
COPY, H264, AUTO = "copy", "h264", "auto"
AUDIO = "aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo"
P = TypeVar("P")  # anything with a wall-clock start and end: a piece, or a source


@dataclass(frozen=True)
class Range:
    """A requested clock range, in Unix seconds."""

    start: float
    end: float


@dataclass(frozen=True)
class Source:
    """A stretch of footage in one file: its clock start, its length, and the file's own
    timestamp (seconds) of its first frame, which is what ffmpeg's cut points are written in.
    A fragment is a stretch of a video; a segment is a file of its own."""

    path: str
    start: float
    duration: float
    media_start: float
    delay: float = 0.0  # presentation minus decode time of a frame: B-frames reorder
    fragment: bool = False

    @property
    def end(self) -> float:
        return self.start + self.duration

    def media(self, clock: float) -> float:
        return self.media_start + (clock - self.start)

    def clock(self, media: float) -> float:
        return self.start + (media - self.media_start)


@dataclass(frozen=True)
class Cut:
    """One file of the concat list; `inpoint`/`outpoint` are in the file's own timestamps.

    A stretch of a video that other footage follows also says how long it plays (`duration`),
    so that what follows starts where its last frame ends: with B-frames the outpoint is a decode
    time, a frame or two before the presentation time ffmpeg would otherwise count to.
    """

    path: str
    inpoint: float | None = None
    outpoint: float | None = None
    duration: float | None = None


@dataclass(frozen=True)
class Plan:
    """What the clip will hold: the cuts, and the keyframe-aligned clock range they cover."""

    cuts: list[Cut]
    start: float
    end: float
    footage: float  # seconds of video in the clip (less than end - start when it spans gaps)
    audio: str | None = None  # the first source's sound codec, as ffmpeg names it
    codec: str = COPY  # how the clip is made: COPY or H264


def parse_instant(text: str | None, name: str, tz: ZoneInfo, today: dt.date) -> float:
    """ISO 8601 date and time, with an offset or else in the root's zone, on a day the server
    keeps (layout.out_of_range: the calendar's edges are far outside); InvalidInput if not."""
    if not text:
        raise InvalidInput(f"{name!r} is required, e.g. {name}=2024-05-01T14:32:00")
    if not _INSTANT.fullmatch(text):
        raise InvalidInput(f"{name}={text!r} is not an ISO 8601 date and time like 2024-05-01T14:32:00")
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{name}={text!r} is not a real date and time") from None
    why = layout.out_of_range(moment.date(), today)
    if why:
        raise InvalidInput(f"{name}={text!r} is {why}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.timestamp()


def parse_range(start: str | None, end: str | None, tz: ZoneInfo, limit: float,
                today: dt.date) -> Range:
    """The range `from`..`to` (`today`: the root's local date); InvalidInput when it runs
    backwards, is empty, is too long or lies outside the days the server keeps."""
    rng = Range(parse_instant(start, "from", tz, today), parse_instant(end, "to", tz, today))
    if rng.end <= rng.start:
        raise InvalidInput(f"'to' ({end}) must be after 'from' ({start})")
    if rng.end - rng.start > limit:
        raise InvalidInput(
            f"the range is {_hours(rng.end - rng.start)}, longer than the export limit of {_hours(limit)}"
        )
    return rng


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:g} h" if seconds >= 3600 else f"{seconds / 60:g} min"


def days_touched(rng: Range, tz: ZoneInfo) -> list[str]:
    """Day folders that may hold footage of the range: one before its first, for a segment
    that began before midnight and runs into it."""
    first = dt.datetime.fromtimestamp(rng.start, tz).date() - dt.timedelta(days=1)
    last = dt.datetime.fromtimestamp(rng.end, tz).date()
    return [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def overlapping(pieces: Sequence[P], rng: Range) -> list[P]:
    """The pieces (or sources) with footage inside the range, in order; NotFound when none."""
    found = [s for s in pieces if s.end > rng.start and s.start < rng.end]
    if not found:
        raise NotFound("no footage between the requested times")
    return found


def plan(sources: Sequence[Source], rng: Range, first_keys: Sequence[float],
         last_keys: Sequence[float]) -> Plan:
    """Cut `sources` (from `overlapping`) at the keyframe at or before `from` and the one at or
    after `to`, so the clip holds the whole range; keys are media times, sorted."""
    first, last = sources[0], sources[-1]
    inpoint = _key_at_or_before(first_keys, first.media(rng.start))
    outpoint = _key_at_or_after(last_keys, last.media(rng.end))
    if len(sources) == 1 and outpoint is not None and inpoint is not None and outpoint <= inpoint:
        outpoint = None  # the range sits between two keyframes of one file: take it whole
    runs = _runs(sources)
    bounds = [_bounds(run) for run in runs]  # presentation times; None: the file's own start/end
    if inpoint is not None:
        bounds[0] = (inpoint, bounds[0][1])
    if outpoint is not None:
        bounds[-1] = (bounds[-1][0], outpoint)
    cuts = [_cut(run, *b) for run, b in zip(runs, bounds)]
    start = first.clock(inpoint) if inpoint is not None else first.start
    end = last.clock(outpoint) if outpoint is not None else last.end
    footage = sum(s.duration for s in sources) - (start - first.start) - (last.end - end)
    return Plan(cuts, start, end, footage)


def _runs(sources: Sequence[Source]) -> list[list[Source]]:
    """Consecutive sources that ffmpeg reads as one stretch: back-to-back fragments of a video."""
    found: list[list[Source]] = []
    for s in sources:
        prev = found[-1][-1] if found else None
        if (prev is not None and s.fragment and prev.fragment and s.path == prev.path
                and abs(prev.media_start + prev.duration - s.media_start) <= KEY_TOLERANCE):
            found[-1].append(s)
        else:
            found.append([s])
    return found


def one_codec(sources: Sequence[Source], codec_of: Callable[[str], str | None]) -> None:
    """Unsupported when the sources are in more than one codec: a stream copy cannot join them
    into one track (an H.265 video and the H.264 segments that arrived after it, say). One file
    of each run of the same kind is asked: a camera does not change codec between segments."""
    found: dict[str, str] = {}
    asked = None
    for s in sources:
        group = s.path if s.fragment else "segments"
        if group == asked:
            continue  # the same video, or more segments: asked already
        asked = group
        codec = codec_of(s.path)
        if codec is not None:
            found.setdefault(codec, Path(s.path.split("?", 1)[0]).name)  # a URL's too
    if len(found) > 1:
        names = " and ".join(f"{codec} ({name})" for codec, name in found.items())
        raise Unsupported(f"the range holds footage in {names}, which one clip cannot join "
                          "by stream copy: leave codec out, or add codec=h264, to re-encode it "
                          "(plays anywhere), or export the parts on either side separately")


def choose_codec(asked: str, sources: Sequence[Source],
                 codec_of: Callable[[str], str | None]) -> str:
    """How the clip is made: H264 when asked, or for `auto` when the sources mix codecs; else
    COPY. Unsupported (from one_codec) when a stream copy was asked for and cannot join them."""
    if asked == H264:
        return H264
    try:
        one_codec(sources, codec_of)
    except Unsupported:
        if asked == COPY:
            raise
        return H264
    return COPY


def _bounds(run: list[Source]) -> tuple[float | None, float | None]:
    """A segment is taken whole; a stretch of a video runs from its first fragment's keyframe to
    the keyframe of the fragment after its last, so nothing else of the video slips in."""
    if not run[0].fragment:
        return None, None
    return run[0].media_start, run[-1].media_start + run[-1].duration


def _cut(run: list[Source], start: float | None, end: float | None) -> Cut:
    # ffmpeg stops at the first packet *decoded* at or after the outpoint: the keyframe's decode
    # time, or the frames just before it (shown later, B-frames) would slip in.
    delay = run[-1].delay
    outpoint = None if end is None else end - delay
    duration = end - start if run[0].fragment and None not in (start, end) else None
    return Cut(run[0].path, start, outpoint, duration)


def _key_at_or_before(keys: Sequence[float], media: float) -> float | None:
    i = bisect.bisect_right(keys, media + KEY_TOLERANCE)
    return keys[i - 1] if i else None  # none before: the file starts after `from`


def _key_at_or_after(keys: Sequence[float], media: float) -> float | None:
    i = bisect.bisect_left(keys, media - KEY_TOLERANCE)
    return keys[i] if i < len(keys) else None  # none after: to the end of the file


# What a concat list may open: files, the pipe it came on, and presigned URLs of the store.
PROTOCOLS = "file,pipe,http,https,tcp,tls,crypto"
SHORT_SEEK = 4 << 20  # bytes: a seek ahead of a URL's read position up to this is read through


def _is_url(path: str) -> bool:
    return path.startswith(("http://", "https://"))


def concat_list(cuts: Sequence[Cut]) -> str:
    """An ffconcat script; `file:` keeps paths from being read relative to the pipe it came on."""
    lines = ["ffconcat version 1.0"]
    for cut in cuts:
        where = cut.path if _is_url(cut.path) else "file:" + cut.path  # a URL: in the store
        lines.append("file " + ffmpeg.concat_quote(where))
        if _is_url(cut.path):  # read through the demuxer's short seeks (one a fragment), not a
            lines.append(f"option short_seek_size {SHORT_SEEK}")  # new request for each
        if cut.duration is not None:
            lines.append(f"duration {cut.duration:.6f}")
        if cut.inpoint is not None:
            # Rounded up: a cut a microsecond before the keyframe would seek to the one before.
            lines.append(f"inpoint {_ceil_us(cut.inpoint)}")
        if cut.outpoint is not None:
            lines.append(f"outpoint {_ceil_us(cut.outpoint)}")
    return "\n".join(lines) + "\n"


def _ceil_us(seconds: float) -> str:
    return f"{-(-round(seconds * 1e9) // 1000) / 1e6:.6f}"


def argv(binary: str, audio: str | None = None) -> list[str]:
    """ffmpeg reading the concat list on stdin, copying video (and audio, if any) without
    re-encoding into a fragmented MP4 on stdout, with progress lines on stderr."""
    # MPEG-TS carries AAC with ADTS headers, which MP4 does not take, and through a concat list
    # the muxer does not strip them itself (a video's AAC has none: the filter passes it on).
    adts = ["-bsf:a", "aac_adtstoasc"] if audio == "aac" else []
    return [
        binary, "-hide_banner", "-nostats", "-loglevel", "error",
        "-progress", "pipe:2",
        "-f", "concat", "-safe", "0", "-protocol_whitelist", PROTOCOLS, "-i", "pipe:0",
        "-map", "0:v:0", "-map", "0:a:0?", "-c", "copy", *adts,
        "-f", "mp4", "-movflags", ffmpeg.MOVFLAGS, "pipe:1",
    ]


def filename(camera: str, plan: Plan, tz: ZoneInfo) -> str:
    """`porch_2024-05-01_14-32-00_to_14-35-00.mp4`; the end carries its date when it differs."""
    first = dt.datetime.fromtimestamp(round(plan.start), tz)
    last = dt.datetime.fromtimestamp(round(plan.end), tz)
    end = last.strftime("%H-%M-%S" if last.date() == first.date() else "%Y-%m-%d_%H-%M-%S")
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", camera).strip("-.") or "camera"
    return f"{safe}_{first:%Y-%m-%d_%H-%M-%S}_to_{end}.mp4"


def headers(camera: str, plan: Plan, tz: ZoneInfo) -> dict[str, str]:
    """The download name, and the keyframe-aligned range the clip really covers."""
    return {
        "Content-Disposition": f'attachment; filename="{filename(camera, plan, tz)}"',
        "X-Clip-Start": format.iso(plan.start, tz),
        "X-Clip-End": format.iso(plan.end, tz),
        "X-Clip-Footage": f"{plan.footage:.3f}",
    }


# --- a clip re-encoded to H.264 (`codec=h264`): for phones, and for ranges of mixed codecs -----


def parse_codec(text: str | None) -> str:
    """`codec=` of an export: `auto` (the default), `copy` or `h264`; InvalidInput otherwise."""
    if text in (None, "", AUTO, COPY, H264):
        return text or AUTO
    raise InvalidInput(f"codec={text!r}: must be {AUTO} (the default: a stream copy unless the "
                       f"range mixes codecs), {COPY} or {H264}")


def codec_groups(cuts: Sequence[Cut], codec_of: Callable[[str], str | None]) -> list[list[Cut]]:
    """The cuts split where the codec changes, each group read by one concat demuxer (which
    cannot switch decoders midway). One file of each run of the same kind is asked, as in
    `one_codec`: a video, or consecutive segments (a camera does not change codec)."""
    groups: list[list[Cut]] = []
    codec, asked = None, None
    for cut in cuts:
        kind = cut.path if cut.path.endswith(".mp4") or _is_url(cut.path) else "segments"
        if kind != asked:
            asked, found = kind, codec_of(cut.path)
            if not groups or found != codec:
                groups.append([])
            codec = found
        groups[-1].append(cut)
    return groups


def reencode_argv(binary: str, lists: Sequence[str], t: transcode.Target, audio: bool,
                  output: str, threads: int = 0) -> list[str]:
    """ffmpeg reading each group's concat list, bringing every group to one frame size (letter-
    boxed where another camera's differs), joining them and encoding H.264 (and AAC when every
    group has audio) into an MP4 with its index at the front, as message apps and phones want."""
    inputs = []
    for path in lists:
        inputs += ["-f", "concat", "-safe", "0", "-protocol_whitelist", PROTOCOLS, "-i", path]
    return [binary, "-hide_banner", "-nostats", "-loglevel", "error", "-y", *inputs,
            "-filter_complex", reencode_filter(len(lists), t, audio), "-map", "[v]",
            *(["-map", "[a]", "-c:a", "aac", "-b:a", "96k"] if audio else []),
            *transcode.encoder_args(t, threads), "-movflags", "+faststart", "-f", "mp4", output]


def reencode_filter(groups: int, t: transcode.Target, audio: bool) -> str:
    """Pure: the filter graph of `reencode_argv`."""
    fit = (f"scale={t.width}:{t.height}:force_original_aspect_ratio=decrease:flags=bicubic,"
           f"pad={t.width}:{t.height}:(ow-iw)/2:(oh-ih)/2,setsar=1")
    parts, joined = [], ""
    for i in range(groups):
        parts.append(f"[{i}:v:0]{fit}[v{i}]")
        joined += f"[v{i}]"
        if audio:
            parts.append(f"[{i}:a:0]{AUDIO}[a{i}]")
            joined += f"[a{i}]"
    parts.append(f"{joined}concat=n={groups}:v=1:a={int(audio)}[v]" + ("[a]" if audio else ""))
    return ";".join(parts)
