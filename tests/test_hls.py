"""Playlist text from entries, checked against the RFC 8216 rules."""

from zoneinfo import ZoneInfo

from cctv_server.playback import hls

from . import hlscheck

TZ = ZoneInfo("Europe/Berlin")
T0 = 1_800_000_000.0


def entries():
    return [
        hls.Entry("2027-01-15/a.ts", 10.04, T0, False),
        hls.Entry("2027-01-15/b.ts", 9.5, T0 + 10.04, False),
        hls.Entry("2027-01-15/c.ts", 10.6, T0 + 100, True),
    ]


def test_a_finished_day_is_a_vod_playlist_with_an_end():
    text = hls.render(entries(), TZ, playlist_type="VOD", ended=True)
    m = hlscheck.check(text)
    assert m.ended and m.playlist_type == "VOD"
    assert m.target == 11  # 10.6 rounds to 11
    assert m.durations == [10.04, 9.5, 10.6]
    assert m.discontinuities == [2]
    assert m.dates[0].isoformat() == "2027-01-15T09:00:00+01:00"
    assert m.dates[2].timestamp() == T0 + 100


def test_a_live_playlist_is_an_event_without_end():
    m = hlscheck.check(hls.render(entries(), TZ, playlist_type="EVENT", ended=False))
    assert not m.ended and m.playlist_type == "EVENT"


def test_byte_ranges_and_init_sections_raise_the_version():
    init = ("2027-01-15/video.mp4", 800, 0)
    items = [hls.Entry("2027-01-15/video.mp4", 24.0, T0, False, (5000, 800), init),
             hls.Entry("2027-01-15/video.mp4", 24.0, T0 + 24, False, (4000, 5800), init)]
    text = hls.render(items, TZ, playlist_type="VOD", ended=True)
    m = hlscheck.check(text)
    assert m.version == 7
    assert text.count("#EXT-X-MAP:") == 1
    assert m.byteranges == {0: "5000@800", 1: "4000@5800"}


def test_a_sliding_window_carries_its_sequence_numbers():
    text = hls.render(entries(), TZ, playlist_type=None, ended=False, media_sequence=42,
                      discontinuity_sequence=3)
    m = hlscheck.check(text)
    assert m.sequence == 42 and m.playlist_type is None
    assert "#EXT-X-DISCONTINUITY-SEQUENCE:3" in text
