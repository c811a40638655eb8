"""A camera's token cannot make the server delete anyone's footage: the flood of issue 21, on a real small disk.

Three cameras share one tmpfs (porch, garden, and gate, whose token attacks); the real server
on loopback takes the uploads and the real `retention` command is the emergency purge. Each
step of the fix has its own test: filler refused (422), the disk's `keep_free` kept (507), the
camera's daily quota (507, audited once), and the purge never deleting a camera's today.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from cctv_server import demo
from cctv_server.media import ffmpeg, tscensus

from .conftest import UTC, Server, tmpfs

TODAY = dt.datetime.now(UTC).date()
TOMORROW = (TODAY + dt.timedelta(days=1)).isoformat()
DAYS = [(TODAY - dt.timedelta(days=n)).isoformat() for n in (4, 3, 1, 0)]  # old ones, yesterday, today
NULL = b"\x47\x1f\xff\x10" + b"\xff" * 184  # a null packet
STRAY = b"\x47\x05\x55\x10" + b"\xaa" * 184  # a packet of a PID no table names


def record(root: Path, day: str, hour: int, seconds: float, size: str = "160x90") -> list[Path]:
    start = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=UTC)
    return demo.record(ffmpeg.locate(), root, start, seconds, segment=2.0, size=size, fps=10)


@pytest.fixture(scope="module")
def stock(tmp_path_factory) -> dict[str, list[Path]]:
    """Segments made once for the module: a camera's own 4 s, and bigger ones a token sends."""
    base = tmp_path_factory.mktemp("stock")
    return {size: record(base / size, TOMORROW, 0, seconds, size)
            for size, seconds in (("160x90", 4), ("320x180", 8), ("640x360", 4))}


def place(stock: list[Path], root: Path, day: str) -> None:
    """The stock segments as a day of a camera's, at their own names."""
    (root / day).mkdir(parents=True, exist_ok=True)
    for path in stock:
        shutil.copyfile(path, root / day / path.name)


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cctv_server.cli", *args], capture_output=True,
                          text=True, timeout=120, env=os.environ | {"CCTV_TIMEZONE": "UTC"} | env)


def fingerprint(root: Path) -> dict[str, str]:
    """Every file of a camera's days, by path and SHA-256."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.glob("[0-9]*/*")) if p.is_file()}


def padded(segment: Path, packet: bytes, size: int) -> bytes:
    """The attack's file: a real segment's head and tail, `size` bytes of `packet` in between."""
    data = segment.read_bytes()
    middle = (len(data) // 188 // 2) * 188
    return data[:middle] + packet * (size // 188) + data[middle:]


class Site:
    """Three cameras on a 16 MB tmpfs; the state (catalogs, accounts, audit) beside it."""

    def __init__(self, tmp: Path, disk: Path, env: dict[str, str], stock: list[Path]):
        self.tmp, self.disk = tmp, disk
        self.roots = {name: disk / name for name in ("porch", "garden", "gate")}
        self.env = {"CCTV_STATE_DIR": str(tmp / "state"), "CCTV_KEEP_FREE": "25%",
                    "CCTV_UPLOAD_MAX": "8MB"} | env
        for name in ("porch", "garden"):
            for day in DAYS:
                place(stock, self.roots[name], day)
        place(stock, self.roots["gate"], DAYS[2])
        self.flags = [a for n, r in self.roots.items() for a in ("--camera", f"{n}={r}")]
        self.before = {n: fingerprint(self.roots[n]) for n in ("porch", "garden")}
        self.tokens: dict[str, str] = {}
        self.srv = Server(self.roots, tmp, self.env)

    def start(self, *cameras: str) -> Site:
        """The server, with a token for each of these cameras (each a CLI run: only those needed)."""
        self.tokens = {name: self._token(name) for name in cameras}
        self.token = self.tokens.get("gate", "")
        self.srv.start()
        return self

    def _token(self, camera: str) -> str:
        made = cli("token", "add", *self.flags, camera, env=self.env)
        assert made.returncode == 0, made.stderr
        return made.stdout.strip().splitlines()[-1]

    def put(self, day: str, name: str, data: bytes, camera: str = "gate") -> httpx.Response:
        return httpx.put(f"{self.srv.url}/cam/{camera}/upload/{day}/{name}", content=data,
                         headers={"Authorization": f"Bearer {self.tokens[camera]}"}, timeout=60)

    def purge(self) -> subprocess.CompletedProcess:
        """The emergency purge, as the compactor's retention runs it: the same code, now."""
        return cli("retention", *self.flags, env=self.env)

    def intact(self) -> None:
        for name, before in self.before.items():
            assert fingerprint(self.roots[name]) == before, f"{name}'s footage changed"

    def free(self) -> int:
        st = os.statvfs(self.disk)
        return st.f_bavail * st.f_frsize

    def refusals(self) -> list[dict]:
        path = self.tmp / "state" / "audit.log"
        lines = path.read_text().splitlines() if path.exists() else []
        return [r for r in map(json.loads, lines) if r["event"] == "upload refused"]


@pytest.fixture
def site(tmp_path, request, stock):
    env = getattr(request, "param", {})
    with tmpfs(tmp_path / "disk", "16m") as disk:
        made = Site(tmp_path, disk, env, stock["160x90"])
        try:
            yield made
        finally:
            made.srv.stop()


def test_the_padding_attack_is_refused_and_every_other_cameras_days_stay_byte_for_byte(site, stock):
    site.start("gate")
    segment = stock["160x90"][0]
    answers = [site.put(TOMORROW, f"{n:04d}.ts", padded(segment, NULL, 2 << 20)) for n in range(10)]
    site.purge()  # what the compactor's retention does within a minute of a disk below keep_free
    site.intact()
    assert {a.status_code for a in answers} == {422}, answers[0].text
    assert "filler" in answers[0].text
    assert not (site.roots["gate"] / TOMORROW).exists() or not os.listdir(site.roots["gate"] / TOMORROW)
    records = site.refusals()
    assert [(r["camera"], r["reason"]) for r in records] == [("gate", "bitrate")]  # one, not ten
    assert records[0]["bytes"] > 2 << 20 and records[0]["token"]
    assert site.token not in (site.tmp / "state" / "audit.log").read_text()


def test_filler_of_a_pid_no_table_names_is_refused_and_real_footage_is_not(site, stock):
    site.start("gate")
    segment = stock["160x90"][0]
    stray = site.put(TOMORROW, "stray.ts", padded(segment, STRAY, 1 << 20))
    assert stray.status_code == 422 and "filler" in stray.text
    assert site.put(TOMORROW, "real.ts", segment.read_bytes()).status_code == 201
    assert os.listdir(site.roots["gate"] / TOMORROW) == ["real.ts"]


def test_an_upload_that_would_pass_keep_free_is_507_and_the_purge_then_deletes_nothing(site, stock):
    # real footage, sent under ever new names: no filler to find, and a new camera has no
    # recent days to set a quota by; only the disk's keep_free is left to stop it
    site.start("gate")
    segments = stock["640x360"]
    status, sent = 201, 0
    while status == 201 and sent < 2000:
        data = segments[sent % len(segments)].read_bytes()
        answer = site.put(TOMORROW, f"{sent:05d}.ts", data)
        status, sent = answer.status_code, sent + 1
    assert status == 507 and "keep_free" in answer.text and "nothing was kept" in answer.text
    assert site.free() >= 4 << 20  # keep_free, 25% of 16 MB, still free: no emergency
    done = site.purge()
    assert "nothing to delete" in done.stdout, done.stdout
    site.intact()
    assert ("gate", "disk") in [(r["camera"], r["reason"]) for r in site.refusals()]


@pytest.mark.parametrize("site", [{"CCTV_UPLOAD_QUOTA": "300KB"}], indirect=True)
def test_a_camera_over_its_daily_quota_is_507_audited_once_and_other_cameras_upload_on(site, stock):
    site.start("gate", "porch")
    segments = stock["320x180"]
    answers = [site.put(TOMORROW, f"{n:03d}.ts", segments[n % len(segments)].read_bytes())
               for n in range(40)]
    codes = [a.status_code for a in answers]
    assert 201 in codes and codes[-1] == 507, codes
    refused = next(a for a in answers if a.status_code == 507)
    assert "daily quota" in refused.text and "upload_quota" in refused.text
    kept = sum(p.stat().st_size for p in (site.roots["gate"] / TOMORROW).iterdir())
    assert kept <= 300 << 10
    assert [r["reason"] for r in site.refusals()] == ["quota"]  # once a minute, not per request
    # the quota is each camera's own: porch uploads on
    porch = site.put(TOMORROW, "porch.ts", segments[0].read_bytes(), camera="porch")
    assert porch.status_code == 201, porch.text
    (site.roots["porch"] / TOMORROW / "porch.ts").unlink()
    site.intact()


def test_the_emergency_purge_never_deletes_a_cameras_today_on_a_real_disk(site):
    # the disk short of keep_free however it came to be (here a file beside the roots): the
    # old days go, yesterday too, but no camera's today pays for it
    filler = site.disk / "filler"
    with open(filler, "wb") as f:
        f.write(b"\0" * (site.free() - (1 << 20)))
    done = site.purge()
    assert done.returncode == 1, done.stdout + done.stderr  # stuck: only today's footage is left
    for name in ("porch", "garden"):
        assert (site.roots[name] / DAYS[-1]).is_dir(), f"{name}'s today was deleted"
        today = {k: v for k, v in site.before[name].items() if k.startswith(DAYS[-1])}
        assert {k: v for k, v in fingerprint(site.roots[name]).items() if k in today} == today
        assert not (site.roots[name] / DAYS[0]).exists()  # the oldest went


def test_the_census_counts_a_real_segment_as_footage_and_padding_as_filler(tmp_path, stock):
    segment = stock["160x90"][0]
    real = tscensus.count(segment)
    assert real.packets == segment.stat().st_size // 188 and real.filler <= real.packets // 10
    bad = tmp_path / "bad.ts"
    bad.write_bytes(padded(segment, NULL, 1 << 20))
    found = tscensus.count(bad)
    assert found.footage == real.footage and found.filler - real.filler == (1 << 20) // 188
