"""Compaction profiles and the pure ffmpeg output arguments they stand for."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..errors import ConfigError
from . import noise as noise_rule
from . import still

CODECS = ("hevc", "av1", "h264", "copy")
X26X_PRESETS = (
    "ultrafast", "superfast", "veryfast", "faster", "fast",
    "medium", "slow", "slower", "veryslow", "placebo",
)
SVT_PRESETS = tuple(str(n) for n in range(0, 14))
CRF_MAX = {"hevc": 51, "h264": 51, "av1": 63, "copy": 63}
KEYINT_MAX = 60
# Used only when the caller cannot tell the frame rate; Pi cameras default to it.
ASSUMED_FPS = 25.0
# Temporal-heavy settings: CCTV noise flickers in time over a still scene, so averaging
# across frames removes it while a light spatial pass keeps edges and the clock legible.
DENOISERS = {
    "hqdn3d": "hqdn3d=luma_spatial=1.5:chroma_spatial=1.5:luma_tmp=6:chroma_tmp=6",
    "atadenoise": "atadenoise=s=9",
}
STILL_FRAMES = ("keep", "drop")
# The video's bitrate never exceeds this share of the camera's: on a noisy night x265's CRF alone
# can spend more than the camera did re-coding noise; a cap measured on the day holds the size.
# x265 overshoots a binding cap by up to a quarter, hence 0.40 for a goal of half the source. It
# was 0.35, which bound on the textured garage day and cost the scene what the budget had left.
SIZE_CAP = 0.40
# With still frames dropped, the cap is per frame kept: x265's rate control counts frames, not
# seconds, so a cap of 0.40 of the camera's bitrate gave each kept frame 0.40 of a camera frame's
# bits, and the frames of a crossing, most of what is kept, lost the scene (on the noisy garage
# scene SSIM 0.8417 against 0.8980 uncapped, the segments' 0.8980). A kept frame may cost what the
# camera spent on one: even with every frame kept the video is at most about the source's size.
STILL_SIZE_CAP = 1.0
CAP_WINDOW = 10.0  # seconds the encoder may average the cap over: one GOP
AAC_PRIMING = 1024  # samples FFmpeg's AAC encoder puts before the sound (its initial padding)


@dataclass(frozen=True)
class Profile:
    """How a day is compacted; keyint is in seconds so it holds for any frame rate."""

    codec: str
    preset: str
    crf: int
    keyint: int
    denoise: str | None = None
    threads: int = 0  # 0 = let the encoder pick
    decimate: str | None = None  # an mpdecimate filter: still frames are dropped (compaction/still.py)
    size_cap: float | None = None  # the share of the source's bitrate the video may not exceed
    maxrate: int | None = None  # that cap for one day, in bits a second (job.py sets it)
    nr: int | None = None  # the encoder's own noise reduction, for a noisy day (noise.py)
    crf_follows_noise: bool = False  # the profile's own CRF, raised on a very noisy day (noise.py)


PROFILES: dict[str, Profile] = {
    # crf 27: at 29 the textured garage day kept 0.013 less of the scene (SSIM against the clean
    # picture) than the camera's own segments, the clean day 0.010 less; at 27 both within 0.01.
    "hevc": Profile("hevc", "superfast", 27, 10),
    "av1": Profile("av1", "12", 55, 10),
    "h264": Profile("h264", "veryfast", 28, 10),
    "copy": Profile("copy", "", 0, 10),
}
DEFAULT = PROFILES["hevc"]


def profile_from(
    codec: str,
    preset: str | None = None,
    crf: int | None = None,
    keyint: int | None = None,
    denoise: str | None = None,
    threads: int = 0,
    decimate: str | None = None,
) -> Profile:
    """A validated Profile; unset values come from the codec's named profile."""
    if codec not in CODECS:
        raise ConfigError(f"setting 'codec': must be one of {', '.join(CODECS)}")
    base = PROFILES[codec]
    profile = replace(
        base,
        preset=base.preset if preset is None else str(preset),
        crf=base.crf if crf is None else crf,
        keyint=base.keyint if keyint is None else keyint,
        denoise=denoise or None,
        threads=threads,
        decimate=decimate or None,
    )
    _validate(profile)
    return profile


def _validate(p: Profile) -> None:
    if p.codec != "copy" and p.preset not in _presets(p.codec):
        raise ConfigError(f"setting 'preset': must be one of {', '.join(_presets(p.codec))}")
    if not isinstance(p.crf, int) or not 0 <= p.crf <= CRF_MAX[p.codec]:
        raise ConfigError(f"setting 'crf': must be 0..{CRF_MAX[p.codec]}")
    if not isinstance(p.keyint, int) or not 1 <= p.keyint <= KEYINT_MAX:
        raise ConfigError(f"setting 'keyint': must be 1..{KEYINT_MAX} seconds")
    if p.denoise is not None and p.denoise not in DENOISERS:
        raise ConfigError(f"setting 'denoise': must be one of {', '.join(DENOISERS)}")
    if p.denoise is not None and p.codec == "copy":
        raise ConfigError("setting 'denoise': needs re-encoding, not codec copy")
    if not isinstance(p.threads, int) or p.threads < 0:
        raise ConfigError("threads: must be 0 (auto) or more")
    if p.decimate is not None and p.codec == "copy":
        raise ConfigError("setting 'still_frames': dropping frames needs re-encoding, not codec copy")


def _presets(codec: str) -> tuple[str, ...]:
    return SVT_PRESETS if codec == "av1" else X26X_PRESETS


def keyint_frames(profile: Profile, fps: float | None) -> int:
    """The GOP length in frames: every keyframe starts an MP4 fragment and a seek point.

    With still frames dropped, keyframes are forced every `keyint` seconds instead (chunks.py),
    and the encoder's own limit lies beyond the frames those seconds can hold.
    """
    frames = max(1, round(profile.keyint * (fps or ASSUMED_FPS)))
    return 2 * frames if profile.decimate else frames


def video_args(profile: Profile, fps: float | None = None) -> list[str]:
    """Output-side ffmpeg arguments for the video stream."""
    if profile.codec == "copy":
        return ["-c:v", "copy"]
    builder = {"hevc": _hevc_args, "av1": _av1_args, "h264": _h264_args}[profile.codec]
    return (_filter_args(profile) + builder(profile, keyint_frames(profile, fps))
            + cap_args(profile.maxrate))


def _filter_args(profile: Profile) -> list[str]:
    # Denoised first, so that the still-frame test compares pictures with less noise in them.
    chain = [DENOISERS[profile.denoise]] if profile.denoise else []
    chain += [profile.decimate] if profile.decimate else []
    return ["-vf", ",".join(chain)] if chain else []


def cap_args(maxrate: int | None) -> list[str]:
    """A ceiling on the bitrate that CRF chooses (capped CRF): x265's and x264's VBV, SVT's mbr."""
    if not maxrate:
        return []
    return ["-maxrate", str(maxrate), "-bufsize", str(round(maxrate * CAP_WINDOW))]


def cap_for(profile: Profile, input_bytes: int, seconds: float) -> int | None:
    """Pure: the profile's size cap as a bitrate for footage of this size (None: no cap)."""
    if not profile.size_cap or seconds <= 0 or input_bytes <= 0:
        return None
    return round(input_bytes * 8 / seconds * profile.size_cap)


def _hevc_args(p: Profile, gop: int) -> list[str]:
    # A fixed GOP (min-keyint = keyint, no scene cuts) keeps fragments evenly sized and
    # closed GOPs let every fragment decode on its own. No B-frames: on a still scene they saved
    # nothing (P-frames of a static background are skips anyway) and chunks join more simply.
    # 64-px blocks (superfast uses 32): a still scene is mostly large skipped areas, coded in
    # fewer decisions; measured 10% less CPU and 10% smaller at 0.2 less VMAF.
    # No psycho-visual RDO: it spends effort and bits keeping the texture of noise, which a CCTV
    # picture has more of than detail. Without it, measured interleaved on the test days, x265
    # took 9% less CPU by day and 6% at night, and at crf 29 (rather than 30) the video was 5-8%
    # larger, with VMAF 0.6-0.7 higher.
    params = [
        f"keyint={gop}", f"min-keyint={gop}", "scenecut=0", "open-gop=0",
        "bframes=0", "rc-lookahead=5", "ctu=64", "psy-rd=0", "log-level=error",
    ]
    if p.nr:
        params.append(f"nr-inter={p.nr}")
    if p.threads == 1:
        # One thread per chunk encode; without wavefront rows the file was also ~20% smaller.
        params += ["pools=1", "frame-threads=1", "wpp=0"]
    elif p.threads:
        params.append(f"pools={p.threads}")
    return [
        "-c:v", "libx265", "-preset", p.preset, "-crf", str(p.crf),
        "-x265-params", ":".join(params), *tag_args(p), "-pix_fmt", "yuv420p",
    ]


def tag_args(profile: Profile) -> list[str]:
    """HEVC tagged `hvc1` (parameter sets in the header), the tag Apple's players require."""
    return ["-tag:v", "hvc1"] if profile.codec == "hevc" else []


def _av1_args(p: Profile, gop: int) -> list[str]:
    params = ["scd=0"] + ([f"lp={p.threads}"] if p.threads else [])
    return [
        "-c:v", "libsvtav1", "-preset", p.preset, "-crf", str(p.crf), "-g", str(gop),
        "-svtav1-params", ":".join(params), "-pix_fmt", "yuv420p",
    ]


def _h264_args(p: Profile, gop: int) -> list[str]:
    threads = ["-threads", str(p.threads)] if p.threads else []
    # With still frames dropped, x264's B-frames put frames seconds away from their times in the
    # MP4 (its decode times are derived from the gaps between frames); verification caught it.
    still = ["-bf", "0"] if p.decimate else []
    nr = ["-noise_reduction", str(p.nr)] if p.nr else []
    return [
        "-c:v", "libx264", "-preset", p.preset, "-crf", str(p.crf),
        "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0",
        *still, *nr, *threads, "-pix_fmt", "yuv420p",
    ]


def audio_args() -> list[str]:
    """Sound becomes a small AAC track, even when the video is copied: copied audio runs a little
    past each segment's video, so at every join its timestamps step back and the MP4 muxer stops.

    It starts at the video's first frame, less the encoder's priming: the AAC encoder dates its
    first packet AAC_PRIMING samples before its first sample, and a packet before zero makes the
    muxer move every stream later by that much, while a fragmented MP4 shows its first frame from
    zero; that frame then lasted the priming longer, and so did the video. Cut so, the first
    packet is at zero and the video's frames keep their times (the first 1024 samples of the
    day's sound, 64 ms at 16 kHz, are the priming's silence instead).
    """
    return ["-af", f"atrim=start=0,atrim=start_sample={AAC_PRIMING}", "-c:a", "aac", "-b:a", "64k"]


def workers_for(cores: int, jobs: int = 0) -> int:
    """Chunk encodes run at once: `jobs` when set, else one per core (each runs one thread)."""
    return jobs if jobs > 0 else max(1, cores)


def profile_for(settings) -> Profile:
    """The profile the settings ask for (`codec`, `preset`, `crf`, `keyint`, `denoise`,
    `still_frames`), validated; a bad one is a ConfigError naming its setting. Its threads follow
    the chunks (chunks.py); the still-frame filter's thresholds and the size cap are set per day
    (job.py)."""
    keyint = None if settings.keyint is None else round(settings.keyint)
    if settings.still_frames not in STILL_FRAMES:
        raise ConfigError(f"setting 'still_frames': must be one of {', '.join(STILL_FRAMES)}")
    decimate = still.filter_for(None) if settings.still_frames == "drop" else None
    profile = profile_from(settings.codec, settings.preset, settings.crf, keyint, settings.denoise,
                           decimate=decimate)
    # The size cap, and the CRF raised on a very noisy day, are for x265 at its profile's own CRF.
    # Only x265 keeps to a cap with CRF as it should: under a binding cap, measured on a 10-s
    # segment, x264 made a file 40% larger than without one and SVT-AV1 one 2.5 times larger. And
    # a CRF set by hand is a choice of quality that neither may overrule.
    own = settings.codec == "hevc" and settings.crf is None
    cap = STILL_SIZE_CAP if decimate else SIZE_CAP
    return replace(profile, size_cap=cap if own else None, crf_follows_noise=own)


def with_noise(profile: Profile, noise: float | None) -> Profile:
    """Pure: the profile for a day with this noise: the encoder's own noise reduction on a noisy
    one (noise.nr_for), unless a denoise filter was chosen by hand; AV1's encoder has none. And
    x265 at its own CRF takes a higher one on a very noisy day (noise.crf_for)."""
    if profile.crf_follows_noise:
        profile = replace(profile, crf=noise_rule.crf_for(noise, profile.crf))
    if profile.denoise or profile.codec not in ("hevc", "h264"):
        return profile
    return replace(profile, nr=noise_rule.nr_for(noise))
