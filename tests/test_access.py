"""Access control's parts on a real database in tmp_path: accounts, tokens, sessions, share links,
the sign-in limiter, the audit log, and the rules that join them."""

from __future__ import annotations

import json
import time
from zoneinfo import ZoneInfo

import pytest

from cctv_server.access import rules
from cctv_server.access.accounts import Accounts
from cctv_server.access.audit import AuditLog
from cctv_server.access.limiter import Limiter
from cctv_server.access.rules import ADMIN, EXPORT, UPLOAD, WATCH, Principal, allows
from cctv_server.access.sessions import Sessions
from cctv_server.access.shares import Shares
from cctv_server.access.store import Store
from cctv_server.access.tokens import Tokens
from cctv_server.errors import Forbidden, InvalidInput, NotFound

UTC = ZoneInfo("UTC")
T0 = 1_800_000_000.0


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "state")


def test_a_password_is_stored_as_an_argon2id_hash_and_checked(store, tmp_path):
    accounts = Accounts(store)
    accounts.add("alice", "admin", "correct horse")
    stored = store.db().execute("SELECT hash FROM account").fetchone()[0]
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert b"correct horse" not in (tmp_path / "state" / "access.sqlite3").read_bytes()
    assert accounts.authenticate("alice", "correct horse").is_admin
    assert accounts.authenticate("alice", "wrong horse") is None
    assert accounts.authenticate("nobody", "correct horse") is None


def test_an_unknown_account_costs_as_much_as_a_wrong_password(store):
    accounts = Accounts(store)
    accounts.add("alice", "viewer", "correct horse")

    def seconds(name):
        started = time.perf_counter()
        accounts.authenticate(name, "wrong password")
        return time.perf_counter() - started

    # Both run one Argon2id check (a third of a second); skipping it would take microseconds.
    assert seconds("nobody") > 0.2 * seconds("alice")


def test_a_changed_password_takes_effect_at_once_even_for_a_remembered_check(store):
    accounts = Accounts(store)
    accounts.add("alice", "viewer", "first password")
    assert accounts.authenticate("alice", "first password")
    Accounts(store).set_password("alice", "second password")  # as the CLI would, elsewhere
    assert accounts.authenticate("alice", "first password") is None
    assert accounts.authenticate("alice", "second password")


def test_accounts_refuse_bad_names_roles_short_passwords_and_duplicates(store):
    accounts = Accounts(store)
    for name, role, password in [("a b", "viewer", "long enough"), ("bob", "root", "long enough"),
                                 ("bob", "viewer", "short")]:
        with pytest.raises(InvalidInput):
            accounts.add(name, role, password)
    accounts.add("bob", "viewer", "long enough", cameras=("porch",))
    with pytest.raises(InvalidInput, match="exists"):
        accounts.add("bob", "admin", "long enough")
    assert accounts.get("bob").cameras == ("porch",)
    accounts.remove("bob")
    with pytest.raises(NotFound):
        accounts.remove("bob")
    assert not accounts.any()


def test_a_token_is_shown_once_kept_as_a_hash_and_checked(store):
    tokens = Tokens(store)
    token, secret = tokens.add("porch", name="pi-1", now=T0)
    assert secret.startswith(f"cctv_{token.id}_")
    assert secret.split("_", 2)[2] not in str(store.db().execute("SELECT * FROM token").fetchall())
    found = tokens.check(secret, now=T0 + 5)
    assert (found.camera, found.last_used) == ("porch", T0 + 5)
    assert tokens.check(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    assert tokens.check("cctv_ffffffff_" + secret.split("_", 2)[2]) is None
    tokens.revoke(token.id)
    assert tokens.check(secret) is None


def test_a_tokens_use_is_written_at_most_once_a_minute(store):
    tokens = Tokens(store)
    token, secret = tokens.add("porch", now=T0)
    for seconds in (5, 30, 64.9):  # a camera uploading all the while: one write, not three
        tokens.check(secret, now=T0 + seconds)
    tokens.check(secret, now=T0 + 65)
    assert [t.last_used for t in tokens.all()] == [T0 + 65]
    tokens.check(secret, now=T0 + 70)
    assert [t.last_used for t in tokens.all()] == [T0 + 65]


def test_a_session_expires_when_idle_or_old_and_ends_on_the_server(store):
    sessions = Sessions(store, idle=600, lifetime=3600)
    cookie = sessions.start("alice", now=T0)
    assert sessions.get(cookie, now=T0 + 500).account == "alice"
    assert sessions.get(cookie, now=T0 + 1000).account == "alice"  # used 500 s ago: not idle
    assert sessions.get(cookie, now=T0 + 1601) is None  # idle for more than 600 s
    cookie = sessions.start("alice", now=T0)
    for t in range(500, 3600, 500):
        assert sessions.get(cookie, now=T0 + t)
    assert sessions.get(cookie, now=T0 + 3601) is None  # older than an hour, however busy
    cookie = sessions.start("alice", now=T0)
    sessions.end(cookie)
    assert sessions.get(cookie, now=T0 + 1) is None
    assert sessions.get(cookie[:-2] + "xx", now=T0) is None  # a forged cookie


def test_a_csrf_token_belongs_to_its_session(store):
    sessions = Sessions(store, idle=600, lifetime=3600)
    a, b = sessions.start("alice"), sessions.start("bob")
    token = sessions.get(a).csrf
    assert sessions.csrf_ok(a, token)
    assert not sessions.csrf_ok(b, token) and not sessions.csrf_ok(a, "") and not sessions.csrf_ok(None, token)


def test_a_share_link_is_refused_when_altered_revoked_or_expired(store):
    shares = Shares(store)
    share, token = shares.add("porch", T0, T0 + 600, expires=T0 + 86400, created_by="alice", now=T0)
    assert shares.check(token, UTC, now=T0 + 10).camera == "porch"
    with pytest.raises(Forbidden, match="not valid"):
        shares.check(token[:-3] + "abc", UTC, now=T0)
    with pytest.raises(Forbidden, match="expired at 2027-01-16"):
        shares.check(token, UTC, now=T0 + 86400)
    shares.revoke(share.id)
    with pytest.raises(Forbidden, match="revoked"):
        shares.check(token, UTC, now=T0 + 10)
    with pytest.raises(InvalidInput):
        shares.add("porch", T0, T0 - 1, expires=T0 + 10, created_by="alice", now=T0)


def test_the_limiter_reserves_five_checks_a_minute_per_address_and_account_then_says_how_long():
    limiter = Limiter()
    keys = limiter.keys("10.0.0.1", "alice", known=False)
    for i in range(5):
        assert limiter.reserve(keys, T0 + i).wait == 0
    refused = limiter.reserve(keys, T0 + 5)
    assert refused.wait == pytest.approx(55) and refused.first
    assert not limiter.reserve(keys, T0 + 6).first  # audited once per key and window
    # alice from elsewhere, and bob from the same address, are not limited by it
    assert limiter.reserve(limiter.keys("10.0.0.2", "alice", known=False), T0 + 5).wait == 0
    assert limiter.reserve(limiter.keys("10.0.0.1", "bob", known=False), T0 + 5).wait == 0
    assert limiter.reserve(keys, T0 + 60.5).wait == 0  # the first check left the window


def test_a_check_given_back_after_a_right_password_does_not_count():
    limiter = Limiter()
    keys = limiter.keys("10.0.0.1", "alice", known=False)
    for i in range(20):
        assert limiter.reserve(keys, T0 + i).wait == 0
        limiter.release(keys, T0 + i)


def test_an_account_tried_from_many_addresses_is_limited_except_where_it_signed_in_before():
    limiter = Limiter(limit=1)  # 20 a minute for the account
    limiter.succeeded("alice", "10.0.0.1", T0)
    for n in range(20):
        assert limiter.reserve(limiter.keys(f"10.9.0.{n}", "alice", known=False), T0 + 1).wait == 0
    assert limiter.reserve(limiter.keys("10.8.0.1", "Alice", known=False), T0 + 1).wait > 0
    known = limiter.known("alice", "10.0.0.1", T0 + 1)
    assert known and limiter.reserve(limiter.keys("10.0.0.1", "alice", known), T0 + 1).wait == 0


def test_the_limiter_keeps_a_bounded_number_of_keys_each_short_and_forgets_old_ones():
    limiter = Limiter(max_keys=100)
    for n in range(1000):
        limiter.reserve(limiter.keys(f"10.0.{n // 250}.{n % 250}", f"{n}" + "x" * 100_000,
                                     known=False), T0)
    assert limiter.size() <= 100
    assert max(len(k) for k in limiter._windows) < 200
    limiter.reserve(limiter.keys("10.0.0.2", "bob", known=False), T0 + 3600)
    assert limiter.size() == 3  # the old windows, empty now, were swept


def test_the_audit_log_is_json_lines_without_secrets(tmp_path):
    log = AuditLog(tmp_path, UTC)
    log.write("sign-in", now=T0, account="alice", address="10.0.0.1")
    log.write("sign-in failed", now=T0 + 1, account="mallory", address="10.0.0.9")
    lines = (tmp_path / "audit.log").read_text().splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["sign-in", "sign-in failed"]
    assert log.read()[0] == {"time": "2027-01-15T08:00:00.000+00:00", "event": "sign-in",
                             "account": "alice", "address": "10.0.0.1"}


def test_the_rules(store):
    accounts = Accounts(store)
    admin = Principal("account", account=accounts.add("root", "admin", "long enough"))
    viewer = Principal("account", account=accounts.add("v", "viewer", "long enough", ("porch",)))
    token = Principal("token", token=Tokens(store).add("porch")[0])
    share = Principal("share", share=Shares(store).add("porch", T0, T0 + 600, T0 + 86400, "root",
                                                       now=T0)[0])
    assert allows(admin, ADMIN) is None and allows(admin, UPLOAD, "porch") is None
    assert allows(viewer, WATCH, "porch") is None and allows(viewer, EXPORT, "porch") is None
    assert "may not see" in allows(viewer, WATCH, "garden")
    assert "admin" in allows(viewer, ADMIN)
    assert allows(token, UPLOAD, "porch") is None
    assert allows(token, UPLOAD, "garden") and allows(token, WATCH, "porch")
    assert allows(share, WATCH, "porch") is None and allows(share, EXPORT, "porch") is None
    assert share.share.covers(T0 + 10, T0 + 20) and not share.share.covers(T0 + 590, T0 + 610)
    assert allows(share, WATCH, "garden") and allows(share, ADMIN)
    assert allows(rules.ANONYMOUS, WATCH, "porch") == "sign in first"
    assert allows(rules.OPEN, WATCH, "porch") is None and allows(rules.OPEN, UPLOAD, "porch")


def test_on_a_full_disk_the_store_has_no_accounts_until_it_can_be_made_and_then_sees_them(tmp_path):
    import subprocess

    from .conftest import tmpfs

    with tmpfs(tmp_path / "tiny", "512k") as mount:
        subprocess.run(["dd", "if=/dev/zero", f"of={mount / 'filler'}", "bs=4k"],
                       capture_output=True)  # fills it to the last block, then fails: full
        store = Store(mount / "state")
        server_side = Accounts(store)
        assert not server_side.any()  # the server starts, open on loopback, as with no accounts
        (mount / "filler").unlink()
        Accounts(Store(mount / "state")).add("alice", "admin", "long enough")  # the CLI, later
        store._missing_since -= Store.RETRY + 1  # as if the retry interval had passed
        assert server_side.any() and server_side.authenticate("alice", "long enough")
