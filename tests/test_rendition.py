"""The H.264 rendition of compacted days: its playlists, its fragments made on demand, the multivariant playlist."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import subprocess
import threading
from pathlib import Path

import av
import httpx
import pytest

from cctv_server.errors import Busy
from cctv_server.media import streams, transcode
from cctv_server.playback import hls, transcodes
from cctv_server.playback.filecache import FileCache
from cctv_server.playback.transcodes import Transcodes, Work

from . import hlscheck
from .conftest import FPS, UTC, Server, count_frames, frame_crcs
from .test_compactor import compact

DAY, NEXT = "2026-11-20", "2026-11-21"
T10 = dt.datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC)
SECONDS = 30  # three 10-s fragments once compacted


# --- pure parts ------------------------------------------------------------------------------

def test_the_level_is_the_smallest_that_holds_the_frame_size_and_rate():
    assert transcode.level(1280, 720, 25) == 31
    assert transcode.level(1920, 1080, 15) == 40
    assert transcode.level(1920, 1080, 60) == 42
    assert transcode.level(160, 90, 10) == 30  # never below 3.0
    assert transcode.target(1280, 720, 25).codec == "avc1.64001f"


def test_footage_taller_than_1080_lines_is_scaled_down_to_it_keeping_its_shape():
    t = transcode.target(3840, 2160, 20)
    assert (t.width, t.height, t.level) == (1920, 1080, 40)
    assert transcode.target(1280, 720, None).fps == transcode.ASSUMED_FPS


def test_the_avc1_string_is_read_from_an_avcc_record_or_from_annex_b_units():
    assert streams.avc1(bytes.fromhex("014d401fffe1")) == "avc1.4d401f"
    annex_b = bytes.fromhex("0000000109f0" "000001674d401fda0140" "0000000168ee3c80")
    assert streams.avc1(annex_b) == "avc1.4d401f"
    assert streams.avc1(bytes.fromhex("0000000168ee3c80")) is None


def test_a_multivariant_playlist_lists_each_variant_with_its_attributes():
    text = hls.render_multivariant([
        hls.Variant("playlist.m3u8?date=D", 96000, ("hvc1.1.6.L93.90",), (1280, 720), 25.0),
        hls.Variant("h264.m3u8?date=D", 2100000, ("avc1.64001f", "mp4a.40.2"), (1280, 720)),
    ], start=0.0)
    assert text.splitlines() == [
        "#EXTM3U", "#EXT-X-INDEPENDENT-SEGMENTS", "#EXT-X-START:TIME-OFFSET=0",
        '#EXT-X-STREAM-INF:BANDWIDTH=96000,CODECS="hvc1.1.6.L93.90",RESOLUTION=1280x720,'
        "FRAME-RATE=25.000",
        "playlist.m3u8?date=D",
        '#EXT-X-STREAM-INF:BANDWIDTH=2100000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720',
        "h264.m3u8?date=D",
    ]


# --- the scheduler, with jobs the test holds open --------------------------------------------

def work(n: int, tmp: Path) -> Work:
    return Work(tmp / "video.mp4", DAY, "video.mp4", 1000, (0, 10), (10 + n, 1), 10.0,
                transcode.target(160, 90, 10))


class Jobs:
    """`make` for Transcodes whose jobs finish when the test says; counts what was made."""

    def __init__(self):
        self.started: list[str] = []
        self.release: dict[str, asyncio.Event] = {}

    async def make(self, w: Work) -> bytes:
        self.started.append(w.name)
        await self.release.setdefault(w.name, asyncio.Event()).wait()
        return w.name.encode()

    def finish(self, w: Work) -> None:
        self.release.setdefault(w.name, asyncio.Event()).set()


def run(coro):
    return asyncio.run(coro)


def test_two_requests_for_one_fragment_at_once_make_it_once(tmp_path):
    async def scenario():
        jobs = Jobs()
        t = Transcodes(FileCache(tmp_path / "cache", 1 << 20), 1, jobs.make)
        first = asyncio.create_task(t.get(work(0, tmp_path)))
        second = asyncio.create_task(t.get(work(0, tmp_path)))
        await asyncio.sleep(0.01)
        jobs.finish(work(0, tmp_path))
        results = await asyncio.gather(first, second)
        third = await t.get(work(0, tmp_path))
        return jobs.started, results, third

    started, results, third = run(scenario())
    assert started == [work(0, tmp_path).name]
    assert sorted(how for _, how in results) == ["joined", "made"]
    assert third == (work(0, tmp_path).name.encode(), "cached")


def test_a_request_beyond_the_slots_is_refused_with_a_time_to_retry_not_queued(tmp_path):
    async def scenario():
        jobs = Jobs()
        t = Transcodes(FileCache(tmp_path / "cache", 1 << 20), 1, jobs.make, retry_after=3)
        first = asyncio.create_task(t.get(work(0, tmp_path)))
        await asyncio.sleep(0.01)
        with pytest.raises(Busy) as refused:
            await t.get(work(1, tmp_path))
        jobs.finish(work(0, tmp_path))
        await first
        jobs.finish(work(1, tmp_path))
        return refused.value, await t.get(work(1, tmp_path)), jobs.started

    refused, after, started = run(scenario())
    assert refused.retry_after == 3 and "busy" in str(refused)
    assert after[1] == "made" and len(started) == 2  # once a slot is free, it is made


def test_fragments_are_made_ahead_in_free_slots_and_a_request_takes_the_slot_of_one(tmp_path):
    async def scenario():
        jobs = Jobs()
        t = Transcodes(FileCache(tmp_path / "cache", 1 << 20), 1, jobs.make)
        jobs.finish(work(0, tmp_path))
        await t.get(work(0, tmp_path), [work(1, tmp_path), work(2, tmp_path)])
        await asyncio.sleep(0.01)
        ahead = list(jobs.started)  # 1 is being made ahead, 2 waits for the slot
        jobs.finish(work(5, tmp_path))
        jumped = await t.get(work(5, tmp_path))  # a seek: takes 1's slot
        jobs.finish(work(1, tmp_path))
        jobs.finish(work(2, tmp_path))
        wanted = await t.get(work(1, tmp_path))  # made again, as it was dropped
        return ahead, jumped, wanted, jobs.started

    ahead, jumped, wanted, started = run(scenario())
    names = [work(i, tmp_path).name for i in range(6)]
    assert ahead == [names[0], names[1]]
    assert jumped[1] == "made"
    assert wanted[1] in ("made", "joined")
    assert started[:3] == [names[0], names[1], names[5]]


def test_the_cache_keeps_the_most_recently_used_files_under_its_size(tmp_path):
    cache = FileCache(tmp_path / "cache", 250)
    for name in "abc":
        assert cache.put(name, name.encode() * 100)
    assert cache.names() == ["b", "c"] and cache.size == 200
    assert cache.read("b") == b"b" * 100  # b is now the most recent
    cache.put("d", b"d" * 100)
    assert cache.names() == ["b", "d"]
    assert not cache.put("huge", b"x" * 251)  # larger than the whole cache: not kept
    (tmp_path / "cache" / "x.partial").write_bytes(b"half")
    again = FileCache(tmp_path / "cache", 250)  # a restart: the order survives, partials go
    assert again.names() == ["b", "d"] and not (tmp_path / "cache" / "x.partial").exists()


# --- the real server -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def compacted(tmp_path_factory, ffmpeg_bin):
    """A day of 30 s compacted with the default profile (H.265), then a day of segments."""
    from cctv_server import demo

    tmp = tmp_path_factory.mktemp("rendition")
    root = tmp / "root"
    kw = {"segment": 2.0, "size": "160x90", "fps": FPS}
    demo.record(ffmpeg_bin, root, T10, SECONDS, **kw)
    done = compact(root)
    assert done.returncode == 0, done.stderr
    demo.record(ffmpeg_bin, root, T10 + dt.timedelta(days=1), 6, **kw)
    return root


@pytest.fixture(scope="module")
def site(compacted, tmp_path_factory):
    srv = Server(compacted, tmp_path_factory.mktemp("rendition-server")).start()
    yield srv
    srv.stop()


def variants_of(text: str) -> dict[str, dict[str, str]]:
    """uri -> EXT-X-STREAM-INF attributes."""
    lines = text.splitlines()
    assert lines[0] == "#EXTM3U"
    found = {}
    for tag, uri in zip(lines, lines[1:]):
        if tag.startswith("#EXT-X-STREAM-INF:"):
            attrs = re.findall(r'([A-Z-]+)=("[^"]*"|[^,]*)', tag.split(":", 1)[1])
            found[uri] = {k: v.strip('"') for k, v in attrs}
    return found


def ffmpeg_hls_codecs(ffmpeg_bin: str, source, tmp: Path) -> str:
    """The CODECS that ffmpeg's own HLS muxer writes for a file's video (H.264 only)."""
    out = tmp / f"hls-{abs(hash(str(source)))}"
    out.mkdir()
    subprocess.run([ffmpeg_bin, "-hide_banner", "-loglevel", "error", "-i", str(source),
                    "-map", "0:v:0", "-c", "copy", "-f", "hls", "-master_pl_name", "main.m3u8",
                    str(out / "media.m3u8")], check=True, timeout=60)
    return variants_of((out / "main.m3u8").read_text())["media.m3u8"]["CODECS"]


def fragment_uris(srv: Server, query: str) -> list[str]:
    return hlscheck.check(srv.get(f"/h264.m3u8?{query}").text).uris


def test_the_multivariant_playlist_offers_the_original_and_the_rendition_with_the_codecs_ffmpeg_reports(
        site, compacted, ffmpeg_bin, tmp_path):
    day = variants_of(site.get(f"/variants.m3u8?date={DAY}").text)
    assert list(day) == [f"playlist.m3u8?date={DAY}", f"h264.m3u8?date={DAY}"]
    original, h264 = day.values()
    with av.open(str(compacted / DAY / "video.mp4")) as container:  # what ffmpeg's libs say
        ctx = container.streams.video[0].codec_context
        tag, profile, level = container.streams.video[0].codec_tag, ctx.profile, ctx.level
    kind, profile_idc, _, tier_level, *_ = original["CODECS"].split(".")
    assert (kind, profile, tier_level) == (tag, "Main", f"L{level}") and profile_idc == "1"
    fragment = tmp_path / "fragment.ts"
    fragment.write_bytes(site.get("/" + fragment_uris(site, f"date={DAY}")[0]).content)
    assert h264["CODECS"] == ffmpeg_hls_codecs(ffmpeg_bin, fragment, tmp_path)
    assert original["RESOLUTION"] == h264["RESOLUTION"] == "160x90"
    assert int(h264["BANDWIDTH"]) * 10 / 8 >= fragment.stat().st_size  # a 10-s fragment fits

    live = variants_of(site.get(f"/variants.m3u8?date={DAY}&live=1").text)
    assert list(live) == [f"playlist.m3u8?date={DAY}&live=1", f"h264.m3u8?date={DAY}&live=1"]
    camera = ffmpeg_hls_codecs(ffmpeg_bin, sorted((compacted / NEXT).glob("*.ts"))[0], tmp_path)
    original_live, h264_live = live.values()
    assert original_live["CODECS"] == f"{original['CODECS']},{camera}"
    assert h264_live["CODECS"] == ",".join(dict.fromkeys([h264["CODECS"], camera]))


def test_a_day_of_segments_alone_is_offered_as_it_is(site):
    only = variants_of(site.get(f"/variants.m3u8?date={NEXT}").text)
    assert list(only) == [f"playlist.m3u8?date={NEXT}"]


def test_the_rendition_keeps_the_originals_times_and_breaks_and_holds_every_frame(
        site, compacted, ffmpeg_bin):
    original = hlscheck.check(site.get(f"/playlist.php?date={DAY}").text)
    rendition = hlscheck.check(site.get(f"/h264.m3u8?date={DAY}").text)
    assert rendition.durations == original.durations and rendition.dates == original.dates
    assert rendition.uris == [f"{DAY}/video.mp4/h264/{r.split('@')[1]}-{r.split('@')[0]}.ts"
                              for r in original.byteranges.values()]
    want = count_frames(ffmpeg_bin, compacted / DAY / "video.mp4")
    assert want == SECONDS * FPS
    assert count_frames(ffmpeg_bin, f"{site.url}/h264.m3u8?date={DAY}") == want
    live = hlscheck.check(site.get(f"/h264.m3u8?date={DAY}&live=1").text)
    assert live.uris[: len(rendition.uris)] == rendition.uris
    assert live.uris[len(rendition.uris):] == [f"{NEXT}/10-00-{s:02d}.ts" for s in (0, 2, 4)]
    assert live.discontinuities == [len(rendition.uris)]
    frames = frame_crcs(ffmpeg_bin, f"{site.url}/h264.m3u8?date={DAY}&live=1",
                        "-live_start_index", "0", "-m3u8_hold_counters", "2",
                        output_args=("-fps_mode", "passthrough"))
    assert len(frames) == want + 6 * FPS  # across the break into the next day's segments


def test_playlists_of_a_day_start_at_the_day_for_players_that_honour_ext_x_start(site):
    for query in (f"date={DAY}", f"date={DAY}&live=1"):
        for path in ("playlist.php", "h264.m3u8", "variants.m3u8"):
            assert "#EXT-X-START:TIME-OFFSET=0\n" in site.get(f"/{path}?{query}").text
    assert "EXT-X-START" not in site.get("/live.m3u8").text  # that one is for now


def test_a_fragment_no_playlist_lists_is_not_made(site):
    uri = fragment_uris(site, f"date={DAY}")[0]
    offset, length = map(int, uri.rsplit("/", 1)[1].removesuffix(".ts").split("-"))
    assert site.get(f"/{DAY}/video.mp4/h264/{offset + 1}-{length}.ts").status_code == 404
    assert site.get(f"/{DAY}/../video.mp4/h264/{offset}-{length}.ts").status_code in (400, 404)


def server_with(compacted: Path, tmp: Path, name: str, **env: str) -> Server:
    """Another server on the same root with its own state folder, so its own rendition cache."""
    return Server(compacted, tmp, {"CCTV_STATE_DIR": str(tmp / name), **env}).start()


def test_two_viewers_asking_for_one_fragment_at_once_cause_one_transcode(compacted, tmp_path):
    srv = server_with(compacted, tmp_path, "two-viewers")
    try:
        uri = fragment_uris(srv, f"date={DAY}")[1]
        barrier, answers = threading.Barrier(2), []

        def viewer():
            barrier.wait()
            answers.append(httpx.get(f"{srv.url}/{uri}", timeout=60))

        threads = [threading.Thread(target=viewer) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert [a.status_code for a in answers] == [200, 200]
        assert answers[0].content == answers[1].content
        assert sorted(a.headers["x-transcode"] for a in answers) in (
            ["joined", "made"], ["cached", "made"])
        label = f"video.mp4 {uri.rsplit('/', 1)[1].removesuffix('.ts')} ("
        made = [line for line in srv.log.read_text().splitlines()
                if "h264 rendition:" in line and label in line]
        assert len(made) == 1, made
    finally:
        srv.stop()


def test_a_full_cache_evicts_the_least_recently_used_fragment(site, compacted, tmp_path):
    uris = fragment_uris(site, f"date={DAY}")
    last, before = uris[-1], uris[-2]  # the last has nothing after it to make ahead
    sizes = [len(site.get("/" + u).content) for u in (last, before)]
    limit = max(sizes) + 1  # room for either of the two, never for both
    srv = server_with(compacted, tmp_path, "small-cache", CCTV_TRANSCODE_CACHE=str(limit))
    cache = tmp_path / "small-cache" / "h264"
    try:
        def ask(uri: str) -> str:
            response = srv.get("/" + uri)
            assert response.status_code == 200
            return response.headers["x-transcode"]

        def made(uri: str) -> int:
            label = f"video.mp4 {uri.rsplit('/', 1)[1].removesuffix('.ts')} ("
            return sum(1 for line in srv.log.read_text().splitlines()
                       if "h264 rendition:" in line and label in line)

        assert ask(last) == "made"
        assert ask(last) == "cached"
        assert ask(before) == "made"  # kept, so the last was evicted, and is made again ahead
        assert ask(last) in ("joined", "cached")  # (cached once the job made ahead is done)
        assert made(last) == 2
        assert ask(last) == "cached"
        kept = list(cache.iterdir())
        assert len(kept) == 1 and kept[0].stat().st_size <= limit
    finally:
        srv.stop()


def test_busy_is_a_503_with_the_time_to_retry_in_its_header():
    from cctv_server.web import routes

    response = asyncio.run(routes.error(None, Busy("all 1 transcoding slots are busy", 3)))
    assert response.status_code == 503 and response.headers["retry-after"] == "3"
    assert response.body == b"all 1 transcoding slots are busy\n"


def test_the_transcoding_jobs_default_to_half_the_cores():
    assert transcodes.default_jobs(2) == 1 and transcodes.default_jobs(8) == 4
    assert transcodes.default_jobs(1) == 1
    assert transcodes.threads_per_job(1, 2) == 2 and transcodes.threads_per_job(4, 8) == 2


def test_a_day_without_playable_pieces_still_gets_a_multivariant_playlist():
    from cctv_server.playback import rendition

    assert rendition.variants([], DAY, False) == [hls.Variant(f"playlist.m3u8?date={DAY}", 0, ())]
    text = hls.render_multivariant(rendition.variants([], DAY, True))
    assert f"#EXT-X-STREAM-INF:BANDWIDTH=1\nplaylist.m3u8?date={DAY}&live=1\n" in text
