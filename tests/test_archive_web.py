"""An archived day served like any other by the real server, from a real SeaweedFS."""

from __future__ import annotations

import json

import httpx
import pytest

from .conftest import count_frames, free_port, wait_until
from .test_access_web import add_user, basic
from .test_archive import DAY, KEYS, archive, archive_env

pytestmark = pytest.mark.slow


def moved(root, seaweed, bucket: str) -> bytes:
    original = (root / DAY / "video.mp4").read_bytes()
    done = archive(root, archive_env(seaweed, bucket))
    assert done.returncode == 0, done.stderr
    assert not (root / DAY / "video.mp4").exists()
    return original


def first_fragment(root) -> str:
    """The URL of the archived video's first fragment as MPEG-TS, from its kept sidecar."""
    first = json.loads((root / DAY / ".video.mp4.json").read_text())["fragments"][0]
    return f"/{DAY}/video.mp4/{first['offset']}-{first['length']}.ts"


def serve_env(seaweed, bucket: str, **more: str) -> dict[str, str]:
    env = archive_env(seaweed, bucket, **more)
    return {k: v for k, v in env.items() if k.startswith(("CCTV_", "AWS_"))}


def test_an_archived_day_plays_by_a_redirect_to_the_store_signed_at_the_request(
        archive_root, seaweed, server, ffmpeg_bin, tmp_path):
    root = archive_root
    bucket = seaweed.bucket()
    original = moved(root, seaweed, bucket)
    srv = server(root, **serve_env(seaweed, bucket))
    assert srv.get(f"/api/day/{DAY}").status_code == 200
    playlist = srv.get(f"/playlist.php?date={DAY}")
    assert playlist.status_code == 200 and "video.mp4" in playlist.text
    answer = srv.get(f"/{DAY}/video.mp4", headers={"Range": "bytes=100-199"})
    assert answer.status_code == 302 and answer.headers["cache-control"] == "no-store"
    assert answer.headers["location"].startswith(seaweed.endpoint + f"/{bucket}/")
    assert "X-Amz-Signature=" in answer.headers["location"]
    fetched = httpx.get(answer.headers["location"], headers={"Range": "bytes=100-199"})
    assert fetched.status_code == 206 and fetched.content == original[100:200]
    tampered = answer.headers["location"].replace("X-Amz-Signature=", "X-Amz-Signature=0")
    assert httpx.get(tampered).status_code == 403  # the store checks what we signed
    assert "in the archive" in srv.get("/").text  # the disk and the store counted apart
    # ffmpeg's HLS client plays the whole day through the redirects
    frames = count_frames(ffmpeg_bin, f"{srv.url}/playlist.php?date={DAY}")
    (tmp_path / "v.mp4").write_bytes(original)
    assert frames == count_frames(ffmpeg_bin, tmp_path / "v.mp4")


def test_stills_fragments_and_export_read_an_archived_day(archive_root, seaweed, server, ffmpeg_bin,
                                                          tmp_path):
    root = archive_root
    bucket = seaweed.bucket()
    moved(root, seaweed, bucket)
    srv = server(root, **serve_env(seaweed, bucket))
    poster = srv.get(f"/stills/{DAY}/poster.jpg")
    assert poster.status_code == 200 and poster.content[:2] == b"\xff\xd8"
    day = srv.get(f"/api/day/{DAY}").json()
    assert "video.mp4" in str(day)
    clip = srv.get(f"/export.mp4?from={DAY}T10:00:02&to={DAY}T10:00:08")
    assert clip.status_code == 200, clip.text
    (tmp_path / "clip.mp4").write_bytes(clip.content)
    assert count_frames(ffmpeg_bin, tmp_path / "clip.mp4") >= 60


def test_proxy_serves_ranges_through_the_server_and_a_missing_object_is_a_404_saying_so(
        archive_root, seaweed, server):
    root = archive_root
    bucket = seaweed.bucket()
    original = moved(root, seaweed, bucket)
    srv = server(root, **serve_env(seaweed, bucket, CCTV_ARCHIVE_SERVE="proxy"))
    answer = srv.get(f"/{DAY}/video.mp4", headers={"Range": "bytes=100-199"})
    assert answer.status_code == 206 and answer.content == original[100:200]
    assert answer.headers["content-range"] == f"bytes 100-199/{len(original)}"
    whole = srv.get(f"/{DAY}/video.mp4.sha512sum")
    assert whole.status_code == 200 and whole.text.endswith("  video.mp4\n")
    seaweed.client().delete_object(Bucket=bucket, Key=KEYS[1])  # behind our back
    gone = srv.get(f"/{DAY}/video.mp4", headers={"Range": "bytes=0-99"})
    assert gone.status_code == 404 and "missing from the store" in gone.text
    piece = srv.get(first_fragment(root))
    assert piece.status_code == 404 and "missing from the store" in piece.text


def test_a_redirect_is_never_given_for_an_object_missing_from_the_store(archive_root, seaweed,
                                                                         server):
    bucket = seaweed.bucket()
    moved(archive_root, seaweed, bucket)
    seaweed.client().delete_object(Bucket=bucket, Key=KEYS[1])
    srv = server(archive_root, **serve_env(seaweed, bucket))
    gone = srv.get(f"/{DAY}/video.mp4", headers={"Range": "bytes=0-99"})
    assert gone.status_code == 404 and "missing from the store" in gone.text


def test_access_is_checked_before_any_redirect_to_the_store(archive_root, seaweed, server):
    root = archive_root
    bucket = seaweed.bucket()
    moved(root, seaweed, bucket)
    add_user(root, "bob", "viewer")
    srv = server(root, **serve_env(seaweed, bucket))
    assert srv.get(f"/{DAY}/video.mp4").status_code == 401  # no URL to the store given out
    assert srv.get(f"/{DAY}/video.mp4", auth=basic("bob")).status_code == 302


def test_a_store_that_cannot_be_reached_makes_healthz_degraded_naming_it(archive_root, seaweed, server):
    root = archive_root
    bucket = seaweed.bucket()
    moved(root, seaweed, bucket)
    dead = f"http://127.0.0.1:{free_port()}"
    srv = server(root, **serve_env(seaweed, bucket, CCTV_ARCHIVE_ENDPOINT=dead))
    text = wait_until(lambda: (t := srv.get("/healthz").text).startswith("degraded") and t, 60)
    assert "archive" in text and "cannot be reached" in text
    assert srv.get("/healthz?strict=1").status_code == 503
    answer = srv.get(first_fragment(root))
    assert answer.status_code == 503 and "cannot be reached" in answer.text
