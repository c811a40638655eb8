"""Camera roots may not overlap: one inside another (or made so by a symlink) is refused at start-up, naming both."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cctv_server import cameras, config
from cctv_server.errors import ConfigError

from .conftest import UTC, free_port

OLD = (dt.datetime.now(UTC).date() - dt.timedelta(days=30)).isoformat()


def load(flags: list[str], **settings):
    return cameras.load(config.load(None, env={}, flags=settings), None, flags)


def fingerprint(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("inner", ["porch/garden", "porch/2026-01-01/garden"])
def test_a_root_inside_another_cameras_root_is_refused_naming_both(tmp_path, inner):
    with pytest.raises(ConfigError) as raised:
        load([f"porch={tmp_path / 'porch'}", f"garden={tmp_path / inner}"])
    text = str(raised.value)
    assert "camera garden's root" in text and "camera porch's root" in text
    assert "inside" in text


def test_a_symlink_that_puts_a_root_inside_another_is_refused_too(tmp_path):
    (tmp_path / "porch" / "sub").mkdir(parents=True)
    (tmp_path / "garden").symlink_to(tmp_path / "porch" / "sub")
    with pytest.raises(ConfigError, match="garden's root .* is inside camera porch's root"):
        load([f"porch={tmp_path / 'porch'}", f"garden={tmp_path / 'garden'}"])


def test_roots_side_by_side_or_sharing_a_prefix_are_fine(tmp_path):
    found = load([f"porch={tmp_path / 'porch'}", f"porch2={tmp_path / 'porch2'}"])
    assert [c.name for c in found] == ["porch", "porch2"]


def test_serve_refuses_overlapping_roots_with_a_clear_message_and_deletes_nothing(tmp_path):
    porch = tmp_path / "porch"
    for day in (OLD, "2026-01-01"):  # an old day that retention would otherwise take
        (porch / day).mkdir(parents=True)
        (porch / day / "1.ts").write_bytes(os.urandom(4096))
    (porch / "garden" / OLD).mkdir(parents=True)
    (porch / "garden" / OLD / "2.ts").write_bytes(os.urandom(4096))
    before = fingerprint(porch)
    done = subprocess.run(
        [sys.executable, "-m", "cctv_server.cli", "serve", "--camera", f"porch={porch}",
         "--camera", f"garden={porch / 'garden'}", "--port", str(free_port())],
        capture_output=True, text=True, timeout=60,
        env=os.environ | {"CCTV_TIMEZONE": "UTC", "CCTV_KEEP_DAYS": "2"})
    assert done.returncode != 0
    assert "camera garden's root" in done.stderr and "camera porch's root" in done.stderr
    assert "Traceback" not in done.stderr
    assert fingerprint(porch) == before
