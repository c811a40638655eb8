"""The audit log is bounded (issue 21, item 4): fields cut short, the file rotated by size with
N kept, a share link's use recorded once per client a while, and read by kind and by page, from
the server and from `cctv-server audit`, across the rotated files."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from zoneinfo import ZoneInfo

import httpx

from cctv_server.access.audit import FIELD_MAX, AuditLog
from cctv_server.retention.run import AUDIT_EVENT
from cctv_server.web.metrics import Deletions

from .abuse import DAY, NOON, PASSWORD, add_user, cli, client_from, fingerprint

UTC = ZoneInfo("UTC")
T0 = 1_767_268_800.0


def test_the_log_rotates_at_its_size_keeps_n_files_and_reads_across_them_by_kind_and_page(tmp_path):
    log = AuditLog(tmp_path, UTC, max_bytes=8000, keep=2)
    for n in range(100):
        log.write("sign-in failed" if n % 2 else "sign-in", now=T0 + n, account=f"u{n}",
                  agent="A" * 10_000)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["audit.log", "audit.log.1", "audit.log.2"]
    assert all((tmp_path / f).stat().st_size <= 8000 for f in files)
    events = log.read(1000)
    assert [e["account"] for e in events] == [f"u{n}" for n in range(100 - len(events), 100)]
    assert all(len(e["agent"]) == FIELD_MAX + 1 for e in events)  # cut, and marked so
    failed = log.read(3, kind="sign-in failed")
    assert [e["account"] for e in failed] == ["u95", "u97", "u99"]
    before = log.read(3, kind="sign-in failed", skip=3)
    assert [e["account"] for e in before] == ["u89", "u91", "u93"]


def test_a_share_link_is_audited_once_per_client_and_the_log_stays_within_its_files(
        tmp_path, record, server):
    root = tmp_path / "root"
    record(root, NOON, 4)
    add_user(root, "alice", "admin")
    before = fingerprint(root)
    srv = server(root, CCTV_AUDIT_MAX="8KB", CCTV_AUDIT_KEEP="2")
    made = cli(root, "share", "--from", f"{DAY}T12:00:00", "--to", f"{DAY}T12:00:04")
    token = re.search(r"share=([^&\s]+)", made.stdout).group(1)
    agent = {"User-Agent": "Mozilla/5.0 " + "x" * 50_000}
    for address in ("127.0.0.1", "127.0.0.2"):
        with client_from(address, srv.url, headers=agent) as client:
            for _ in range(10):  # the page, its playlist and segments, again and again
                assert client.get(f"/day/{DAY}?share={token}").status_code == 200
                assert client.get(f"/playlist.php?date={DAY}&share={token}").status_code == 200
    log = root / ".cctv" / "audit.log"
    used = [e for e in map(json.loads, log.read_text().splitlines())
            if e["event"] == "share link used"]
    assert sorted(e["address"] for e in used) == ["127.0.0.1", "127.0.0.2"]
    assert all(len(e["agent"]) <= FIELD_MAX + 1 for e in used)

    def fail(n: int) -> int:  # a flood of failures with long names, from many addresses
        with client_from(f"127.0.5.{n // 4 + 1}", srv.url) as client:
            return client.post("/login", data={"name": f"{n}" + "m" * 5000,
                                               "password": "guess"}).status_code
    with ThreadPoolExecutor(4) as pool:
        assert set(pool.map(fail, range(120))) == {401}
    files = sorted(p.name for p in log.parent.iterdir() if p.name.startswith("audit.log"))
    assert files == ["audit.log", "audit.log.1", "audit.log.2"]
    assert all((log.parent / f).stat().st_size <= 8 * 1024 for f in files)

    admin = ("alice", PASSWORD["alice"])
    page = srv.get("/admin/audit?kind=sign-in%20failed&per=10&page=2", auth=admin)
    assert page.status_code == 200 and len(page.json()) == 10
    assert {e["event"] for e in page.json()} == {"sign-in failed"}
    assert 'rel="next"' in page.headers["link"] and "page=3" in page.headers["link"]
    newest = srv.get("/admin/audit?kind=sign-in%20failed&per=10", auth=admin).json()
    assert newest[0]["time"] >= page.json()[-1]["time"]
    assert srv.get("/admin/audit?page=zero", auth=admin).status_code == 400
    listed = cli(root, "audit", "--kind", "sign-in failed", "--last", "1000")
    assert listed.returncode == 0
    assert listed.stdout.count("sign-in failed") > len(log.read_text().splitlines())  # rotated too
    assert fingerprint(root) == before
    assert httpx.get(f"{srv.url}/healthz").status_code == 200


def test_retentions_deletions_are_counted_across_a_rotation_and_from_rotated_files(tmp_path):
    log = AuditLog(tmp_path, UTC, max_bytes=3000, keep=3)

    def delete(n: int) -> None:
        log.write(AUDIT_EVENT, now=T0 + n, camera="porch", day=f"2026-01-{n % 28 + 1:02d}",
                  reason="age", bytes=1000)
        log.write("sign-in failed", now=T0 + n, account="x" * 200, address="10.0.0.1")

    def counted(deletions: Deletions) -> tuple[float, float]:
        deletions.collect().__next__()
        return deletions.days[("porch", "age")], deletions.bytes[("porch", "age")]

    for n in range(10):
        delete(n)
    scraper = Deletions(tmp_path)
    assert counted(scraper) == (10, 10_000)
    for n in range(10, 30):  # the log rotates between scrapes
        delete(n)
        if n % 3 == 0:
            assert counted(scraper)[0] == n + 1
    assert counted(scraper) == (30, 30_000)
    kept = sum(1 for e in log.read(1000) if e["event"] == AUDIT_EVENT)
    assert counted(Deletions(tmp_path))[0] == kept  # a restarted server: the files still kept
