"""The uploader's own decisions on real files: what is finished, in what order, what the backlog keeps."""

from __future__ import annotations

import os
import time

from cctv_server.upload import push
from cctv_server.upload.push import Pusher

from .conftest import UTC


def test_backoff_doubles_to_a_cap_with_jitter_of_half():
    assert [push.backoff(n, rand=lambda: 1.0) for n in (1, 2, 3, 10, 20)] == [1, 2, 4, 300, 300]
    assert push.backoff(3, rand=lambda: 0.0) == 2.0  # half of 4: never longer, at most half shorter


def test_a_segment_goes_to_its_folders_day_else_the_day_its_name_or_mtime_says(tmp_path):
    (tmp_path / "2026-11-20").mkdir()
    in_day = tmp_path / "2026-11-20" / "000123.ts"
    named = tmp_path / "cam_2026-11-21_23-59-50.ts"
    plain = tmp_path / "000124.ts"
    for path in (in_day, named, plain):
        path.write_bytes(b"x")
    os.utime(plain, (1795168800, 1795168800))  # 2026-11-20T10:00:00Z
    assert [push.day_of(p, UTC) for p in (in_day, named, plain)] == [
        "2026-11-20", "2026-11-21", "2026-11-20"]


def test_pending_is_oldest_first_skips_what_is_done_or_unfinished_and_drops_what_is_too_old(tmp_path):
    now = time.time()
    files = {"b.ts": now - 30, "a.ts": now - 20, "old.ts": now - 7200, "fresh.ts": now}
    for name, mtime in files.items():
        (tmp_path / name).write_bytes(b"x")
        os.utime(tmp_path / name, (mtime, mtime))
    pusher = Pusher(tmp_path, "http://127.0.0.1:9", "token", UTC, keep=3600, delete_after=False)
    pending = pusher.pending(now)
    assert [s.path.name for s in pending] == ["b.ts", "a.ts"]  # fresh.ts is still being written
    assert not (tmp_path / "old.ts").exists()  # past --keep: the card must not fill
    pusher._note(pending[0])
    again = Pusher(tmp_path, "http://127.0.0.1:9", "token", UTC, keep=3600, delete_after=False)
    assert [s.path.name for s in again.pending(now)] == ["a.ts"]  # a restart remembers


def test_a_server_that_is_away_is_retried_and_the_file_kept(tmp_path):
    (tmp_path / "a.ts").write_bytes(b"x")
    os.utime(tmp_path / "a.ts", (time.time() - 60,) * 2)
    pusher = Pusher(tmp_path, "http://127.0.0.1:9", "token", UTC, keep=0, delete_after=True)
    (seg,) = pusher.pending(time.time())
    assert pusher.upload(seg) is False and pusher.failures == 1
    assert (tmp_path / "a.ts").exists() and not pusher.done
