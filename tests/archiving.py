"""Fixtures of the archive's tests: a compacted day to move, copied into each test's own root."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from cctv_server import demo

START = dt.datetime(2026, 11, 20, 10, 0, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="session")
def compacted_day(tmp_path_factory, ffmpeg_bin):
    """One day of 12 s compacted (stream copy: fast), 2026-11-20 from 10:00 UTC."""
    from .test_compactor import compact

    root = tmp_path_factory.mktemp("compacted") / "root"
    demo.record(ffmpeg_bin, root, START, 12, segment=2.0, size="160x90", fps=10)
    done = compact(root, CCTV_CODEC="copy")
    assert done.returncode == 0, done.stderr
    return root


@pytest.fixture
def archive_root(compacted_day, tmp_path):
    """A copy of the compacted day in this test's own root."""
    found = tmp_path / "root"
    shutil.copytree(compacted_day, found)
    return found
