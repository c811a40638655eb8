"""Compact one day: segments -> temp fMP4 -> verify -> checksum -> rename -> delete inputs, journaled.

The order of operations and why a crash at each step is safe are in docs/compaction.md. In one
line: no segment is deleted before a verified video holding it has its final name, and a video
gets its final name only after it, its checksum and its index are on disk and the journal says so.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from .. import durable, layout
from ..config import Settings
from ..errors import CctvError, FFmpegError
from ..footage import arrival
from ..footage.catalog import Catalog
from ..footage.day import DayFiles, of_day
from ..footage.videoindex import Span, build, dump
from ..media import decode, mp4
from ..retention import holds, space
from ..storage import home
from . import chunks, encoding, noise, quality, runs, schedule, still
from .inputs import Input, make_input, quarantine, spans_of
from .journal import Journal, commit, day_lock, days_with_journals, recover, rollback
from .phases import Phases
from .verify import VerifyError, verify_video, write_checksum

log = logging.getLogger(__name__)

# Output size as a share of the input, for the free-disk check: generous on purpose, since
# running out mid-encode costs the hours already spent (a day of H.265 is ~10% of its input).
# The chunks and the joined video are on disk together for a moment, so twice this is needed.
SIZE_ESTIMATE = {"hevc": 0.25, "av1": 0.25, "h264": 0.5, "copy": 1.05}
PROGRESS_EVERY = 1.0  # seconds between progress rows written to the catalog


def disk_need(input_bytes: int, codec: str) -> int:
    """Bytes a compaction of this many input bytes needs free (chunks and video together)."""
    return 2 * int(input_bytes * SIZE_ESTIMATE.get(codec, SIZE_ESTIMATE["copy"]))


@dataclass
class Outcome:
    day: str
    status: str  # "compacted", "recovered", "skipped", "failed", "nothing"
    message: str = ""
    stats: dict = field(default_factory=dict)
    more: int = 0  # segments left for another video of the day (copied runs that cannot join)


ProgressFn = Callable[[str, float, float], None]  # (day, seconds done, seconds in all)


class Compactor:
    """Compaction of the days of one root, with its state kept in the catalog."""

    def __init__(self, settings: Settings, catalog: Catalog, profile: encoding.Profile,
                 binary: str, on_progress: ProgressFn | None = None, tasks=None):
        assert settings.root is not None
        self.root = Path(settings.root).absolute()  # ffconcat reads paths from its own folder
        self.settings = settings
        self.catalog = catalog
        self.profile = profile
        self.binary = binary
        self.workers = encoding.workers_for(os.cpu_count() or 1, settings.jobs)
        self.on_progress = on_progress or (lambda day, done, total: None)
        # With a broker (tasks/remote.py): each chunk a task that workers encode, none here.
        self.tasks = tasks

    # --- one day ---------------------------------------------------------------------------

    def compact_day(self, day: str) -> Outcome:
        day_dir = self.root / day
        if not day_dir.is_dir():
            return Outcome(day, "nothing", "no such day folder")
        with day_lock(day_dir) as locked:
            if not locked:
                return Outcome(day, "skipped", "another compactor is working on this day")
            durable.checkpoint("locked")
            self._recover_locked(day)
            return self._compact_videos(day, day_dir)

    def _compact_videos(self, day: str, day_dir: Path) -> Outcome:
        """The day's segments into a video, and into the next while some are left that could
        not join it (runs.first_video): each video is a whole job of its own, journaled alone."""
        made: list[str] = []
        while True:
            outcome = self._compact_locked(day, day_dir)
            if outcome.status != "compacted" or not outcome.more:
                break
            made.append(outcome.message)
        if made:
            message = "; ".join([*made, outcome.message])
            status = outcome.status if outcome.status in ("failed", "skipped") else "compacted"
            return Outcome(day, status, message, outcome.stats)
        return outcome

    def recover_all(self) -> dict[str, str]:
        """Finish or undo interrupted jobs in every day that no other process is working on."""
        done = {}
        for day in days_with_journals(self.root):
            with day_lock(self.root / day) as locked:
                what = self._recover_locked(day) if locked else None
            if what:
                done[day] = what
        self._settle_stale_rows()
        return done

    def _settle_stale_rows(self) -> None:
        """A "compacting" row whose day no process holds was left by a killed job: correct it."""
        for day, row in self.catalog.compactions().items():
            if row.get("state") != "compacting" or not (self.root / day).is_dir():
                continue
            with day_lock(self.root / day) as locked:
                if locked:
                    segments, videos = layout.list_day(self.root / day)
                    done = videos and not segments
                    self.record(day, state="compacted" if done else "waiting",
                                percent=100.0 if done else None, updated=time.time())

    def _recover_locked(self, day: str) -> str | None:
        found = recover(self.root / day)
        if found is None:
            return None
        what, stats = found
        self.sync(day)
        if stats:
            self._succeeded(day, stats)
        else:
            self.record(day, state="waiting", percent=None, updated=time.time())
        return what

    def _compact_locked(self, day: str, day_dir: Path) -> Outcome:
        segments, videos = layout.list_day(day_dir)
        if not segments:
            self.sync(day)
            if videos and (self.catalog.compaction(day) or {}).get("state") != "compacted":
                self.record(day, state="compacted", percent=100.0, updated=time.time())
            return Outcome(day, "nothing", "no segments")
        now = time.time()
        busy = [n for n, st in segments.items()
                if not arrival.is_complete(day_dir / n, st, now, self.settings.stable_seconds)]
        if busy:
            return Outcome(day, "skipped", f"{busy[0]} is still being written")
        if not holds.allow_compaction(self.root, day):  # asked again under the day's lock
            return Outcome(day, "skipped", "held: its segments are kept as they are")
        phases = Phases()
        phases.begin("probe")
        inputs = self._inputs(day, day_dir, segments)
        if not inputs:
            self.sync(day)
            return Outcome(day, "nothing", "no decodable segments (all quarantined)")
        streams, copied = [i.stream for i in inputs], self.profile.codec == "copy"
        if (needed := runs.videos_needed(streams, copied)) > runs.MAX_VIDEOS:
            return self._failed(day, f"copied, its changes of codec or size would make {needed}"
                                     f" videos, more than {runs.MAX_VIDEOS}; a codec that "
                                     "re-encodes joins them")
        take = runs.first_video(streams, copied)
        inputs, more = inputs[:take], len(inputs) - take
        short = self._disk_short(day_dir, inputs)
        if short:
            log.warning("%s: skipped, %s; will retry", day, short)
            self.record(day, state="waiting", reason=short, updated=time.time())
            return Outcome(day, "skipped", short)
        profile = self._profile_for(day, day_dir, inputs)
        phases.end()
        # a video moved to the store keeps its name: a later one is video-2.mp4 (storage/home.py)
        video = layout.next_video_name(set(os.listdir(day_dir)) | home.names(day_dir))
        return replace(self._run_job(day, day_dir, video, inputs, profile, phases), more=more)

    def _inputs(self, day: str, day_dir: Path, segments: dict) -> list[Input]:
        """Probe every segment in catalog order; quarantine those with no frame that decodes."""
        self.sync(day)
        # The day's segments in the footage model's order and placement; videos are no input.
        placed = {p.file: p for p in of_day(DayFiles(day, self.catalog.segments(day)))}
        inputs: list[Input] = []
        for name in sorted(segments, key=layout.natural_key):
            st = segments[name]
            found = decode.probe(day_dir / name)
            if not found.frames:
                quarantine(day_dir, name, found.error or "no video frames")
                continue
            if found.error:
                log.warning("%s/%s: damaged after %d frames (%s); its frames go in",
                            day, name, found.frames, found.error)
            inputs.append(make_input(name, st, found, placed.get(name), inputs[-1] if inputs else None,
                                     durable.sha256(day_dir / name)))
        if len(inputs) != len(segments):
            durable.checkpoint("quarantined")
        return inputs

    def _profile_for(self, day: str, day_dir: Path, inputs: list[Input]) -> encoding.Profile:
        """The settings' profile with what this day's footage decides: the size cap from its
        bitrate, and from its noise the encoder's noise reduction and, when still frames are
        dropped, their thresholds."""
        footage = sum(i.duration for i in inputs)
        cap = encoding.cap_for(self.profile, sum(i.size for i in inputs), footage)
        profile = replace(self.profile, maxrate=cap)
        if profile.codec == "copy":
            return profile
        found = noise.measure(self.binary, [day_dir / i.name for i in inputs])
        profile = encoding.with_noise(profile, found)
        if profile.decimate:
            gop = encoding.keyint_frames(replace(profile, decimate=None), _fps(inputs))
            profile = replace(profile, decimate=still.filter_for(found, most=gop))
        log.info("%s: noise %s: crf %d, %s%s", day, "unmeasured" if found is None else f"{found:.3f}",
                 profile.crf, f"noise reduction {profile.nr}" if profile.nr else "no noise reduction",
                 f", dropping still frames with {profile.decimate}" if profile.decimate else "")
        return profile

    def _disk_short(self, day_dir: Path, inputs: list[Input]) -> str | None:
        """Why the disk cannot take this compaction now: its output must fit and still leave
        `keep_free`, the very figure retention keeps free (so that the two never disagree)."""
        need = disk_need(sum(i.size for i in inputs), self.profile.codec)
        found = space.disk(day_dir, self.settings.keep_free)
        if found.free >= need + found.keep_free:
            return None
        return (f"not enough disk: the video needs about {need} bytes plus {found.keep_free} kept"
                f" free (keep_free {self.settings.keep_free}), and {found.free} are free")

    def _run_job(self, day: str, day_dir: Path, video: str, inputs: list[Input],
                 profile: encoding.Profile, phases: Phases) -> Outcome:
        journal = Journal("encode", video, inputs, time.time())
        durable.write_atomic(day_dir / layout.JOURNAL, journal.dumps())
        durable.checkpoint("journal-written")
        self.record(day, state="compacting", percent=0.0, reason=None, ssim=None, phases=None,
                    updated=time.time(), **({"workers": None} if self.tasks else {}))  # no earlier video's report may stand for this one
        try:
            stats = self._encode_and_verify(day, day_dir, journal, profile, phases)
            self.record(day, **stats)  # kept should we be killed before the end
            if not holds.allow_compaction(self.root, day):  # held while it was being made
                rollback(day_dir, journal)
                self.sync(day)
                self.record(day, state="waiting", percent=None, updated=time.time())
                return Outcome(day, "skipped", "held while it was compacted: rolled back, "
                                               "its segments kept")
            commit(day_dir, journal)
        except (FFmpegError, VerifyError, OSError, mp4.NotFragmented, chunks.ChunkError) as err:
            _clean_up(day_dir)
            self.sync(day)
            return self._failed(day, _why(err))
        except BaseException:  # stopped (SIGTERM, Ctrl-C): leave the folder as it was
            _clean_up(day_dir)
            raise
        self.sync(day)
        durable.checkpoint("catalog-synced")
        self._succeeded(day, stats)
        return Outcome(day, "compacted", f"{video} from {len(inputs)} segments", stats)

    def _encode_and_verify(self, day: str, day_dir: Path, journal: Journal,
                           profile: encoding.Profile, phases: Phases) -> dict:
        """Steps 4 to 10a of docs/compaction.md: the video made, verified, indexed, hashed,
        journaled as verified, and its quality sampled; its stats for the catalog."""
        temp = day_dir / layout.temp_name(journal.video)
        spans = spans_of(journal.inputs)
        encoded = self._encode(day, day_dir, journal.video, journal.inputs, spans, profile, phases)
        durable.checkpoint("encoded")
        durable.fsync_file(temp)
        durable.checkpoint("temp-synced")
        phases.end()  # the join's phase ends once its output is on disk
        self._seal(day, day_dir, journal, spans, encoded, profile, phases)
        # Measured once the video is safe (a crash from here rolls forward) but its segments,
        # the reference, are still there. A kept frame stands for at most a GOP's worth of
        # dropped ones (still.filter_for).
        phases.begin("quality")
        ssim = self._quality(day_dir, temp, journal.inputs,
                             profile.keyint + 1 if profile.decimate else 0)
        phases.end()
        log.info("%s: %s", day, phases.text())
        return journal.stats | {"ssim": ssim, "phases": phases.dumps()}

    def _seal(self, day: str, day_dir: Path, journal: Journal, spans: list[Span],
              encoded: chunks.Frames | None, profile: encoding.Profile, phases: Phases) -> None:
        """Verify the temp video, write its index and checksum, and journal it as verified."""
        temp = day_dir / layout.temp_name(journal.video)
        phases.begin("verify")
        frags = verify_video(temp, journal.inputs, encoded, decimated=profile.decimate is not None)
        durable.checkpoint("verified")
        phases.begin("index")
        size = temp.stat().st_size
        index = build(journal.video, size, frags, spans)
        digests = {i.name: i.sha256 for i in journal.inputs if i.sha256}
        durable.write_atomic(day_dir / layout.sidecar_name(journal.video),
                             dump(index, spans, day=day, sha256=digests))
        durable.checkpoint("index-written")
        phases.begin("checksum")
        journal.sha512 = write_checksum(day_dir, journal.video, temp)
        durable.checkpoint("checksum-written")
        phases.end()
        journal.phase = "verified"
        seconds = phases.seconds("encode") + phases.seconds("join")
        journal.stats = _stats(journal.inputs, size, seconds) | {
            "mode": "drop" if profile.decimate else "keep", "phases": phases.dumps()}
        durable.write_atomic(day_dir / layout.JOURNAL, journal.dumps())
        durable.checkpoint("journal-verified")

    def _quality(self, day_dir: Path, video: Path, inputs: list[Input],
                 before: float) -> float | None:
        """SSIM of a sample of the new video against its segments; None when off or unmeasurable."""
        if not self.settings.quality_sample:
            return None
        started = time.monotonic()
        windows = quality.sample_windows(inputs)
        ssim = quality.measure(self.binary, video, day_dir, inputs[0].name, windows, before)
        log.info("%s: SSIM %s from %d windows in %.1f s", day_dir.name,
                 "unknown" if ssim is None else f"{ssim:.4f}", len(windows),
                 time.monotonic() - started)
        durable.checkpoint("measured")
        return ssim

    def _encode(self, day: str, day_dir: Path, video: str, inputs: list[Input], spans: list[Span],
                profile: encoding.Profile, phases: Phases) -> chunks.Frames | None:
        """Encode the chunks, then join them (each its own phase, the join's left running for the
        caller's fsync); what the encoders took in."""
        total = sum(i.duration for i in inputs)
        job = chunks.Job(
            self.binary, [chunks.Part(day_dir / i.name, i.duration, i.lead, i.stream)
                          for i in inputs], profile,
            fps=_fps(inputs),
            breaks=[s.offset for s, i in zip(spans, inputs) if i.discontinuity and s.offset],
            audio=any(i.audio for i in inputs), creation=inputs[0].wall,
            comment=f"cctv-server {day}, first segment {inputs[0].name}",
            runs=tuple(s.offset for s in spans if s.new_run))
        report = _Throttled(lambda done: self._progress(day, done, total))

        def chunks_done() -> None:
            durable.checkpoint("chunks-encoded")
            phases.begin("join")

        phases.begin("encode")
        remote = self._remote(day, video, inputs)
        encoded = chunks.encode(job, day_dir / layout.work_name(video),
                                day_dir / layout.temp_name(video), self.workers, report,
                                on_start=lambda: durable.checkpoint("encoding"),
                                on_chunks_done=chunks_done, tasks=remote)
        self._progress(day, total, total)
        if remote is not None:
            self.record(day, workers=len(remote.workers))
        return encoded

    def _remote(self, day: str, video: str, inputs: list[Input]):
        """The day's chunks as tasks (a broker is set), their state noted for `status`; else None."""
        if self.tasks is None:
            return None
        return self.tasks.for_day(self.settings.camera, day, video,
                                  {i.name: i.sha256 for i in inputs},
                                  lambda why: self.record(day, reason=why, updated=time.time()))

    def _progress(self, day: str, done: float, total: float) -> None:
        percent = min(100.0, 100.0 * done / total) if total else 0.0
        self.record(day, state="compacting", percent=percent, updated=time.time())
        self.on_progress(day, done, total)

    def _failed(self, day: str, reason: str) -> Outcome:
        row = self.catalog.compaction(day) or {}
        failures = (row.get("failures") or 0) + 1
        retry: float | None = time.time() + schedule.backoff(failures)
        failed = {"state": "failed", "failures": failures}
        if schedule.given_up(failed, self.settings.compaction_retries):
            retry = None
            log.error("%s: compaction failed (%s), %d times now: no longer retried, its "
                      "segments are kept (cctv-server compact --date %s tries again)",
                      day, reason, failures, day)
        else:
            log.error("%s: compaction failed (%s); segments kept, retry in %.0f s",
                      day, reason, retry - time.time())
        self.record(day, **failed, reason=reason, retry_at=retry, percent=None,
                    updated=time.time())
        return Outcome(day, "failed", reason)

    def _succeeded(self, day: str, stats: dict) -> None:
        self.record(day, state="compacted", reason=None, failures=0,
                                    retry_at=None, percent=100.0, updated=time.time(), **stats)
        durable.checkpoint("state-recorded")

    def record(self, day: str, **fields) -> None:
        """Note a day's state for the page; a full disk or a busy catalog must not stop the job."""
        try:
            self.catalog.set_compaction(day, **fields)
        except sqlite3.Error as err:
            log.warning("%s: cannot record the compaction state (%s)", day, err)

    def sync(self, day: str) -> None:
        """Bring the catalog up to date; it is a cache of the disk, so failing here loses nothing."""
        try:
            self.catalog.sync_day(self.root, day, time.time(), self.settings.stable_seconds,
                                  self.settings.tz)
        except sqlite3.Error as err:
            log.warning("%s: cannot update the catalog (%s); the next scan will", day, err)


class _Throttled:
    """Calls through at most once a second, so a long encode does not hammer the catalog."""

    def __init__(self, fn: Callable[[float], None]):
        self.fn, self.last = fn, 0.0

    def __call__(self, done: float) -> None:
        now = time.monotonic()
        if now - self.last >= PROGRESS_EVERY:
            self.last = now
            self.fn(done)


def _clean_up(day_dir: Path) -> None:
    """After a job failed or was stopped, what recovery would do at the next start, now: roll it
    back, unless its video already stands verified (then finishing it keeps the hours of encoding,
    and is as safe: the hash is checked again first)."""
    try:
        recover(day_dir)
    except (OSError, CctvError) as err:  # the journal stays: the next start tries again
        log.error("%s: cleaning up after a failed compaction failed too: %s", day_dir.name, err)


def _fps(inputs: list[Input]) -> float | None:
    """The camera's frame rate, from the first segment that lasts."""
    return next((i.frames / i.duration for i in inputs if i.duration), None)


def _stats(inputs: list[Input], size: int, seconds: float) -> dict:
    input_size = sum(i.size for i in inputs)
    footage = sum(i.duration for i in inputs)
    return {
        "input_size": input_size, "output_size": size,
        "ratio": input_size / size if size else None,
        "realtime": footage / seconds if seconds else None, "seconds": seconds,
    }


def _why(err: Exception) -> str:
    """One line for the state row: an OSError's reason, or ffmpeg's first line naming an error."""
    if isinstance(err, OSError):
        return f"{err.strerror or err} ({getattr(err, 'filename', '') or ''})".replace(" ()", "")
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    if not lines:
        return type(err).__name__
    # A full disk says so on a later line than the muxer's generic "Error muxing a packet".
    named = ([line for line in lines[1:] if "No space" in line]
             or [line for line in lines[1:] if "rror" in line])
    return (lines[0] if not named else f"{lines[0].split(':')[0]}: {named[0]}")[:500]
