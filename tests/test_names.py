"""Any file name on disk: skipped with one log line when no URI can carry it, else served
percent-encoded; never aborting a day, a later day, the compactor, an export or `doctor`."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import pytest

from cctv_server import config, layout
from cctv_server.cli import doctor
from cctv_server.errors import Forbidden, InvalidInput

from . import hlscheck
from .conftest import FPS, UTC, count_frames, wait_until

DAY, DAY2 = "2026-01-01", "2026-01-02"
NOON = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
BAD = [b"bad\xff.ts", b"two\nlines.ts", b"tab\there.ts", b"bell\x07.ts", b"line\xe2\x80\xa8sep.ts"]
# Names a URI carries once percent-encoded: each must be listed and fetch its own bytes.
ODD = ["a#b.ts", "q?x=1.ts", "p%41.ts", "sp ace.ts", "it's \"q\".ts", "café.ts", "back\\slash.ts",
       "+plus&amp;.ts", "x" * 240 + ".ts"]
ENV = {"CCTV_TIMEZONE": "UTC", "CCTV_STABLE_SECONDS": "0", "CCTV_MIN_FREE": "0",
       "CCTV_CODEC": "copy", "CCTV_QUALITY_SAMPLE": "false"}


def drop(day_dir: Path, name: bytes | str, source: Path) -> bytes:
    """Copy a segment into a day folder under any name the filesystem takes; its path as bytes."""
    target = os.fsencode(day_dir) + b"/" + (name if isinstance(name, bytes) else name.encode())
    shutil.copy2(source, target)
    return target


def playlist(srv, query: str) -> hlscheck.Media:
    response = srv.get(f"/playlist.php?{query}")
    assert response.status_code == 200, response.text
    return hlscheck.check(response.text)


def cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    command, *rest = args
    return subprocess.run(
        [sys.executable, "-m", "cctv_server.cli", command, "--root", str(root), *rest],
        env=os.environ | ENV, capture_output=True, text=True, timeout=120,
    )


# --- pure ----------------------------------------------------------------------------------

def test_the_unservable_characters_are_exactly_the_control_separator_and_surrogate_categories():
    every = "".join(map(chr, range(sys.maxunicode + 1)))
    assert set(layout.UNSERVABLE.findall(every)) == {
        ch for ch in every if unicodedata.category(ch) in {"Cc", "Cs", "Zl", "Zp"}}


@pytest.mark.parametrize("name", [os.fsdecode(n) for n in BAD] + ["a\rb.ts", "\x85.ts", "a\x7f.ts", "\ud800.ts"])
def test_a_name_no_uri_or_playlist_line_can_carry_is_named_as_such(name):
    assert layout.name_problem(name)
    shown = layout.printable(name)
    assert shown.isprintable() and shown.encode("utf-8")


@pytest.mark.parametrize("name", ODD + ["12-00-00.ts", "video.mp4", "日本.ts", "\u200bzw.ts"])
def test_every_other_name_is_servable(name):
    assert layout.name_problem(name) is None
    assert layout.printable(name) == name


def test_resolve_takes_a_percent_decoded_name_and_refuses_an_unservable_one(tmp_path, record):
    source = record(tmp_path / "root", NOON, 2)[0]
    root = layout.Root(tmp_path / "root")
    for name in ODD:
        drop(source.parent, name, source)
        assert root.resolve(DAY, name).read_bytes() == source.read_bytes()
    for name in BAD:
        drop(source.parent, name, source)
        with pytest.raises(InvalidInput):
            root.resolve(DAY, os.fsdecode(name))


def test_a_symlink_never_leads_into_the_state_folder_or_a_dot_named_path(tmp_path, record, server):
    rootdir = tmp_path / "root"
    record(rootdir, NOON, 2)
    record(rootdir, NOON + dt.timedelta(days=1), 2)
    day_dir = rootdir / DAY
    for folder in (".cctv", ".hidden"):
        (rootdir / folder).mkdir()
        (rootdir / folder / "catalog.sqlite3").write_bytes(b"SQLite format 3\0")
    (day_dir / ".compaction.json").write_text("{}")
    links = {"cat.ts": "../.cctv/catalog.sqlite3", "state.ts": "../state/catalog.sqlite3",
             "hidden.ts": "../.hidden/catalog.sqlite3", "journal.ts": ".compaction.json",
             "dotdir.ts": f"{rootdir}/.cctv/catalog.sqlite3"}
    for name, target in links.items():
        (day_dir / name).symlink_to(target)
    (day_dir / "other.ts").symlink_to(f"../{DAY2}/12-00-00.ts")
    root = layout.Root(rootdir)
    for name in links:
        with pytest.raises(Forbidden):
            root.resolve(DAY, name)
    assert root.resolve(DAY, "other.ts") == (rootdir / DAY2 / "12-00-00.ts").resolve()
    srv = server(rootdir, CCTV_STATE_DIR=str(rootdir / "state"))
    assert (rootdir / "state" / "catalog.sqlite3").stat().st_size > 16  # the live catalog
    for name in links:
        assert srv.get(f"/{DAY}/{name}").status_code == 403, name
    assert srv.get(f"/{DAY}/other.ts").content == (rootdir / DAY2 / "12-00-00.ts").read_bytes()


# --- the real server -----------------------------------------------------------------------

def test_a_name_that_cannot_be_served_is_skipped_once_and_no_other_file_or_day_suffers(
        tmp_path, record, server):
    root = tmp_path / "root"
    staged = record(tmp_path / "staging", NOON, 6)
    root.joinpath(DAY).mkdir(parents=True)
    for path in staged[:2]:
        shutil.copy2(path, root / DAY / path.name)
    record(root, NOON + dt.timedelta(days=1), 4)
    bad = [drop(root / DAY, name, staged[0]) for name in BAD]
    srv = server(root)
    assert [d for d in (DAY, DAY2) if f'id="day-{d}"' in srv.get("/").text] == [DAY, DAY2]
    assert playlist(srv, f"date={DAY}").uris == [f"{DAY}/12-00-00.ts", f"{DAY}/12-00-02.ts"]
    assert playlist(srv, f"date={DAY2}").uris == [f"{DAY2}/12-00-00.ts", f"{DAY2}/12-00-02.ts"]
    assert playlist(srv, f"date={DAY}&live=1").uris[-1] == f"{DAY2}/12-00-02.ts"
    assert hlscheck.check(srv.get("/live.m3u8").text).uris[-1] == f"{DAY2}/12-00-02.ts"
    assert srv.get("/playlist.php").headers["location"] == f"/playlist.php?date={DAY2}"
    # The day is listed again (a new segment arrives): each bad name was still logged only once.
    shutil.copy2(staged[2], root / DAY / staged[2].name)
    wait_until(lambda: len(playlist(srv, f"date={DAY}").uris) == 3)
    log = srv.log.read_text(errors="replace")
    for name in BAD:
        assert log.count(layout.printable(os.fsdecode(name))) == 1, name
    assert "Traceback" not in log
    assert all(os.path.exists(path) for path in bad)


def test_names_with_uri_characters_are_listed_percent_encoded_and_fetch_their_bytes(
        tmp_path, record, server):
    root = tmp_path / "root"
    staged = record(root, NOON, 2 * (len(ODD) + 1))
    for name, source in zip(ODD, staged[1:]):
        os.rename(source, root / DAY / name)
    srv = server(root)
    m = playlist(srv, f"date={DAY}")
    assert sorted(unquote(u) for u in m.uris) == sorted([f"{DAY}/12-00-00.ts"] + [f"{DAY}/{n}" for n in ODD])
    for uri in m.uris:
        assert uri.isascii() and "#" not in uri and "?" not in uri and " " not in uri
        response = srv.get("/" + uri)
        assert response.status_code == 200, uri
        assert response.content == (root / unquote(uri)).read_bytes()


def test_an_export_over_odd_and_skipped_names_holds_every_listed_frame(tmp_path, record, server,
                                                                         ffmpeg_bin):
    root = tmp_path / "root"
    paths = record(root, NOON, 8)
    os.rename(paths[1], root / DAY / "12-00-02 it's #1 ?%.ts")
    os.rename(paths[2], root / DAY / "12-00-04 café\\.ts")
    drop(root / DAY, b"12-00-03\nx.ts", paths[0])  # would sit mid-range in an export's list
    srv = server(root)
    response = srv.get(f"/export.mp4?from={DAY}T12:00:00&to={DAY}T12:00:08")
    assert response.status_code == 200, response.text
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(response.content)
    assert count_frames(ffmpeg_bin, clip) == 8 * FPS


# --- the compaction commands and doctor ------------------------------------------------------

def test_compact_compactor_status_verify_and_doctor_skip_a_bad_name_and_keep_it(tmp_path, record):
    root = tmp_path / "root"
    for day in (NOON, NOON + dt.timedelta(days=1)):
        paths = record(root, day, 4)
        drop(paths[0].parent, b"bad\xff.ts", paths[0])
        drop(paths[0].parent, b"new\nline.ts", paths[0])
    status = cli(root, "status")
    assert status.returncode == 0 and "Traceback" not in status.stderr, status.stderr
    assert f"{DAY}  " in status.stdout and f"{DAY2}  " in status.stdout
    compact = cli(root, "compact", "--settle", "0", "--quiet", "0", "--date", DAY)
    assert compact.returncode == 0 and "Traceback" not in compact.stderr, compact.stderr
    assert f"{DAY}: compacted" in compact.stdout
    daemon = subprocess.Popen(
        [sys.executable, "-m", "cctv_server.cli", "compactor", "--root", str(root), "--settle", "0",
         "--quiet", "0"], env=os.environ | ENV, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: (root / DAY2 / "video.mp4").exists(), timeout=60)
    finally:
        daemon.terminate()
        _, stderr = daemon.communicate(timeout=30)
    assert "Traceback" not in stderr, stderr
    for day in (DAY, DAY2):
        assert sorted(os.listdir(os.fsencode(root / day))) == sorted(
            [b"bad\xff.ts", b"new\nline.ts", b"video.mp4", b"video.mp4.sha512sum",
             b".video.mp4.json"])
    verify = cli(root, "verify")
    assert verify.returncode == 0 and "2 videos checked, 0 failed" in verify.stdout, verify.stderr
    found = cli(root, "doctor")
    assert found.returncode == 0, found.stderr
    lines = found.stdout.splitlines()
    assert lines[0].startswith("OK ") and "readable" in lines[0]
    assert sorted(line for line in lines if line.startswith("WARN")) == [
        f"WARN skipped {day}/{name}: {why}" for day in (DAY, DAY2) for name, why in (
            ("bad\\xff.ts", "the name is not valid UTF-8"),
            ("new\\nline.ts", "the name holds a control character or a line break"))]


def test_doctor_fails_on_a_root_it_cannot_read_and_counts_other_files(tmp_path):
    root = tmp_path / "root"
    (root / DAY).mkdir(parents=True)
    (root / DAY / "snapshot.jpg").write_bytes(b"jpeg")
    (root / "index.php").write_text("<?php")
    settings = config.load(env={}, flags={"root": str(root), "timezone": "UTC"})
    now = NOON.timestamp()
    assert [str(f) for f in doctor.run_checks(settings, now, [doctor.root_readable, doctor.skipped_names])] == [
        f"OK the root {root} is readable", "OK no recording is skipped",
        "OK 2 other names ignored (neither day folders nor segments)"]
    shutil.rmtree(root)
    found = doctor.run_checks(settings, now, [doctor.root_readable])
    assert [f.level for f in found] == ["FAIL"] and "cannot be read" in found[0].text
