"""Sign-in under a crowd, against the real server (issue 21, item 3): a hundred guesses at once
get no more checks than the limit; Argon2 runs a few at a time, so sixty at once do not take
gigabytes; a million unique names cost nothing that stays; and an attacker elsewhere does not
lock out a user signing in from an address it used before."""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from .abuse import (
    DAY,
    NOON,
    PASSWORD,
    add_user,
    cli,
    client_from,
    fingerprint,
    rss,
)

MB = 1024 * 1024


@pytest.fixture
def site(tmp_path, record, server):
    root = tmp_path / "root"
    record(root, NOON, 4)
    add_user(root, "alice", "admin")
    before = fingerprint(root)

    def start(**env):
        return server(root, **env)
    yield root, start
    assert fingerprint(root) == before  # the footage, byte for byte


def audit_events(root, kind: str) -> list[dict]:
    lines = (root / ".cctv" / "audit.log").read_text().splitlines()
    return [e for e in map(json.loads, lines) if e["event"] == kind]


def test_a_hundred_guesses_at_once_get_no_more_password_checks_than_the_limit(site):
    root, start = site
    srv = start()
    guesses = [f"guess {n}" for n in range(100)]
    guesses[97] = PASSWORD["alice"]  # the 98th holds the right password

    def sign_in(password: str) -> int:
        return httpx.get(f"{srv.url}/playlist.php?date={DAY}", auth=("alice", password),
                         timeout=60).status_code

    with ThreadPoolExecutor(100) as pool:
        statuses = list(pool.map(sign_in, guesses))
    checked = statuses.count(401) + statuses.count(200)
    assert checked <= 5 and statuses.count(429) + statuses.count(503) >= 95, statuses
    assert set(statuses) <= {200, 401, 429, 503}  # 503: the checks were busy, try again later
    assert len(audit_events(root, "sign-in failed")) == statuses.count(401)
    limited = audit_events(root, "sign-in limited")
    assert len(limited) == 1 and limited[0]["account"] == "alice" and limited[0]["retry_after"] > 0


def test_password_checks_run_a_few_at_once_so_a_crowd_takes_no_gigabytes(site):
    root, start = site
    srv = start(CCTV_SIGN_IN_JOBS="2")
    assert srv.get("/", auth=("nobody", "warm up")).status_code == 401  # one check: a baseline
    before, _ = rss(srv.proc.pid)

    def sign_in(n: int) -> httpx.Response:
        with client_from(f"127.0.0.{2 + n % 6}", srv.url) as client:
            return client.get("/", auth=(f"user{n}", "some guess"))

    with ThreadPoolExecutor(24) as pool:
        answers = list(pool.map(sign_in, range(24)))
    _, peak = rss(srv.proc.pid)
    print(f"24 checks at once: {(peak - before) / MB:.0f} MB more at the peak")
    assert {a.status_code for a in answers} <= {401, 503}
    assert all(int(a.headers["retry-after"]) > 0 for a in answers if a.status_code == 503)
    # 24 checks at once would take 24 x 64 MiB; two at a time take two
    assert peak - before < 400 * MB, f"{(peak - before) / MB:.0f} MB more at the peak"
    assert srv.get("/", auth=basic_alice()).status_code == 200  # the real user is still let in


def basic_alice() -> tuple[str, str]:
    return "alice", PASSWORD["alice"]


def test_unique_huge_names_leave_no_memory_behind_and_the_log_stays_small(site):
    root, start = site
    srv = start()
    srv.get("/", auth=("nobody", "warm up"))
    before, _ = rss(srv.proc.pid)

    def huge_basic(n: int) -> int:
        name = f"{n:04d}" + "n" * MB  # a unique 1 MB name in an Authorization header
        credential = base64.b64encode(f"{name}:guess".encode()).decode()
        with client_from(f"127.0.{1 + n // 200}.{n % 200 + 1}", srv.url) as client:
            return client.get("/", headers={"Authorization": f"Basic {credential}"}).status_code

    def long_form(n: int) -> int:  # a unique 60 kB name in the sign-in form
        with client_from(f"127.0.9.{n + 1}", srv.url) as client:
            return client.post("/login", data={"name": f"{n:04d}" + "f" * 60_000,
                                               "password": "guess"}).status_code

    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(huge_basic, range(100))) + list(pool.map(long_form, range(40)))
    assert set(statuses) == {401}
    after, _ = rss(srv.proc.pid)
    print(f"140 unique long names: {(after - before) / MB:.0f} MB more after")  # before: 217
    assert after - before < 120 * MB, f"{(after - before) / MB:.0f} MB more after the burst"
    log = root / ".cctv" / "audit.log"
    assert log.stat().st_size < 100_000
    assert max(len(line) for line in log.read_text().splitlines()) < 1000
    listed = cli(root, "audit", "--last", "1000")
    assert listed.returncode == 0 and listed.stdout.count("sign-in failed") == 41  # and nobody's


def test_an_attacker_elsewhere_cannot_lock_out_a_user_signing_in_from_a_known_address(site):
    root, start = site
    srv = start(CCTV_SIGN_IN_LIMIT="1", CCTV_SIGN_IN_WAIT="2m")  # 20 a minute for an account
    home = client_from("127.0.0.1", srv.url)
    assert home.post("/login", data={"name": "alice", "password": PASSWORD["alice"]}
                     ).status_code == 303  # alice signs in from home: the address is known
    new = "alice's new password"  # so that no remembered check lets her in below
    assert cli(root, "user", "passwd", "alice", "--password-stdin", stdin=new + "\n").returncode == 0

    def attack(n: int) -> int:
        with client_from(f"127.0.3.{n + 1}", srv.url) as client:
            return client.get("/", auth=("alice", f"guess {n}")).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(attack, range(30)))  # 30 addresses, one guess each
    assert statuses.count(401) == 20 and statuses.count(429) == 10, statuses
    with client_from("127.0.4.1", srv.url) as elsewhere:  # a place alice never signed in from
        assert elsewhere.get("/", auth=("alice", new)).status_code == 429
    fresh = client_from("127.0.0.1", srv.url)  # home again, no cookie: still let in
    assert fresh.get(f"/playlist.php?date={DAY}", auth=("alice", new)).status_code == 200
    assert fresh.post("/login", data={"name": "alice", "password": new}).status_code == 303
