"""When a segment is complete: unchanged for a while, and held open for writing by no one."""

import os

from cctv_server.footage import arrival


def test_a_file_held_open_for_writing_is_not_complete(tmp_path):
    path = tmp_path / "a.ts"
    with open(path, "wb") as f:
        f.write(b"\x47" * 188)
        f.flush()
        old = path.stat().st_mtime - 60
        os.utime(path, (old, old))
        assert not arrival.is_complete(path, path.stat(), now=old + 60, stable_seconds=3)
    assert arrival.is_complete(path, path.stat(), now=old + 60, stable_seconds=3)


def test_a_file_changed_just_now_is_not_complete(tmp_path):
    path = tmp_path / "a.ts"
    path.write_bytes(b"x")
    st = path.stat()
    assert not arrival.is_complete(path, st, now=st.st_mtime + 1, stable_seconds=3)
    assert arrival.is_complete(path, st, now=st.st_mtime + 4, stable_seconds=3)
