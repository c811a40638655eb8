"""Access control on the real server: accounts made with the real CLI, credentials over real HTTP."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import time

import httpx
import pytest

from . import hlscheck
from .conftest import FPS, UTC, Server, count_frames, wait_until

DAY = "2026-01-01"
NOON = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
ENV = {"CCTV_TIMEZONE": "UTC"}
PASSWORD = {"alice": "alice's long password", "bob": "bob's long password"}
FOOTAGE = ["/", "/index.php", f"/playlist.php?date={DAY}", "/live.m3u8", f"/day/{DAY}",
           f"/api/day/{DAY}", f"/{DAY}/12-00-00.ts", "/still.jpg",
           f"/export.mp4?from={DAY}T12:00:00&to={DAY}T12:00:02", "/admin/audit"]


def cli(*args: str, stdin: str = "", cameras=None) -> subprocess.CompletedProcess:
    where = (["--root", str(cameras)] if not isinstance(cameras, dict)
             else [a for n, r in cameras.items() for a in ("--camera", f"{n}={r}")])
    command, *rest = args
    # `user`/`token` take the cameras after their subcommand; `share` (a command that also
    # has subcommands) before it
    sub = rest[:1] if command in ("user", "token") and rest[:1] else []
    rest = rest[len(sub):]
    return subprocess.run([sys.executable, "-m", "cctv_server.cli", command, *sub, *where, *rest],
                          input=stdin, capture_output=True, text=True, timeout=60,
                          env=os.environ | ENV)


def add_user(root, name: str, role: str, *extra: str) -> None:
    done = cli("user", "add", name, "--role", role, "--password-stdin", *extra,
               stdin=PASSWORD[name] + "\n", cameras=root)
    assert done.returncode == 0, done.stderr


@pytest.fixture
def site(tmp_path, record, server):
    """One camera with 6 s of footage at noon; alice is an admin, bob a viewer."""
    root = tmp_path / "root"
    record(root, NOON, 6)
    add_user(root, "alice", "admin")
    add_user(root, "bob", "viewer")
    return root, server(root)


def basic(name: str) -> tuple[str, str]:
    return name, PASSWORD[name]


def test_without_a_credential_nothing_that_shows_footage_answers(site):
    _, srv = site
    for path in FOOTAGE:
        plain = srv.get(path, follow_redirects=False)
        assert plain.status_code == 401, path
        assert plain.headers["www-authenticate"].startswith("Basic") and plain.text.count("\n") == 1
        page = srv.get(path, headers={"Accept": "text/html"}, follow_redirects=False)
        assert page.status_code == 302 and page.headers["location"].startswith("/login?next=")
    for path in ("/healthz", "/login", "/static/player.css"):
        assert srv.get(path).status_code == 200, path


def test_each_role_gets_what_it_may(site):
    _, srv = site
    for path in FOOTAGE[:-1]:
        assert srv.get(path, auth=basic("alice")).status_code == 200, path
        assert srv.get(path, auth=basic("bob")).status_code == 200, path
    assert srv.get("/admin/audit", auth=basic("alice")).status_code == 200
    refused = srv.get("/admin/audit", auth=basic("bob"))
    assert refused.status_code == 403 and "viewer" in refused.text
    held = httpx.post(f"{srv.url}/cam/camera/admin/hold", data={"day": DAY, "reason": "x"},
                      auth=basic("bob"))
    assert held.status_code == 403


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer_and_count_towards_429(site):
    root, srv = site
    wrong = srv.get("/", auth=("alice", "not her password"))
    unknown = srv.get("/", auth=("mallory", "not her password"))
    assert (wrong.status_code, wrong.text) == (unknown.status_code, unknown.text) == (
        401, "wrong name or password\n")
    for _ in range(4):
        assert srv.get("/", auth=("alice", "guess")).status_code == 401
    limited = srv.get("/", auth=("alice", "guess"))
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    # the form is limited by the same count, for the same address and account ...
    form = httpx.post(f"{srv.url}/login", data={"name": "alice", "password": "x"})
    assert form.status_code == 429
    # ... and not for another account (an address is limited at four times as many)
    other = httpx.post(f"{srv.url}/login", data={"name": "carol", "password": "x"})
    assert other.status_code == 401
    audit = cli("audit", cameras=root).stdout
    assert audit.count("sign-in failed") >= 6 and "guess" not in audit and "password" not in audit
    assert audit.count("sign-in limited") == 1  # once per limited key and window


def test_signing_in_with_the_form_gives_a_session_that_sign_out_ends_on_the_server(site):
    _, srv = site
    client = httpx.Client(base_url=srv.url)
    page = client.post("/login", data={"name": "bob", "password": PASSWORD["bob"],
                                       "next": f"/day/{DAY}"})
    assert page.status_code == 303 and page.headers["location"] == f"/day/{DAY}"
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    stolen = client.cookies.get("cctv_session")
    index = client.get("/")
    assert index.status_code == 200 and 'id="whoami">bob<' in index.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', index.text).group(1)
    assert client.post("/logout", data={"csrf": "forged"}).status_code == 403
    assert client.post("/logout", data={"csrf": csrf}).status_code == 303
    again = httpx.get(f"{srv.url}/", cookies={"cctv_session": stolen}, follow_redirects=False)
    assert again.status_code == 401  # the old cookie is worth nothing, even replayed
    assert client.post("/login", data={"name": "x", "password": "y", "next": "//evil.example/"}
                       ).status_code == 401


def test_a_change_needs_the_sessions_csrf_token_and_this_sites_origin(site):
    root, srv = site
    client = httpx.Client(base_url=srv.url)
    client.post("/login", data={"name": "alice", "password": PASSWORD["alice"]})
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text).group(1)
    assert client.post("/cam/camera/admin/hold", data={"day": DAY, "reason": "x"}).status_code == 403
    foreign = client.post("/cam/camera/admin/hold", data={"day": DAY, "reason": "x", "csrf": csrf},
                          headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403 and "another site" in foreign.text
    held = client.post("/cam/camera/admin/hold", data={"day": DAY, "reason": "break-in", "csrf": csrf},
                       headers={"Origin": srv.url})
    assert held.status_code == 200 and (root / DAY / ".hold.json").exists()
    assert any(e["event"] == "hold" and e["by"] == "alice"
               for e in client.get("/admin/audit").json())


def test_ffmpeg_plays_a_day_through_http_basic(site, ffmpeg_bin):
    _, srv = site
    url = f"http://alice:{PASSWORD['alice'].replace(' ', '%20').replace(chr(39), '%27')}@127.0.0.1:{srv.port}"
    assert count_frames(ffmpeg_bin, f"{url}/playlist.php?date={DAY}") == 6 * FPS


def test_a_share_link_shows_its_range_only_until_revoked(site, ffmpeg_bin):
    root, srv = site
    made = cli("share", "--from", f"{DAY}T12:00:02", "--to", f"{DAY}T12:00:03.5", cameras=root)
    assert made.returncode == 0, made.stderr
    link = made.stdout.strip().splitlines()[-1]
    path = link.split(str(srv.port), 1)[-1] if str(srv.port) in link else link.split("8080", 1)[1]
    token = re.search(r"share=([^&]+)", path).group(1)
    client = httpx.Client(base_url=srv.url)
    player = client.get(path)
    assert player.status_code == 200 and "cctv_share=" in player.headers["set-cookie"]
    playlist = client.get(f"/cam/camera/playlist.php?date={DAY}")  # the cookie carries it now
    m = hlscheck.check(playlist.text)
    assert [u.split("?")[0] for u in m.uris] == [f"{DAY}/12-00-02.ts"]
    assert all(f"share={token}" in u for u in m.uris)
    assert count_frames(ffmpeg_bin, f"{srv.url}/cam/camera/playlist.php?date={DAY}&share={token}") == 2 * FPS
    assert client.get(f"/cam/camera/{DAY}/12-00-04.ts").status_code == 403  # outside the range
    assert client.get("/cam/camera/").status_code == 403
    assert client.get(f"/cam/camera/{DAY}/12-00-02.ts").status_code == 200
    tampered = httpx.get(f"{srv.url}/cam/camera/day/{DAY}?share={token[:-4]}AAAA")
    assert tampered.status_code == 403 and "not valid" in tampered.text
    share_id = cli("share", "list", cameras=root).stdout.split()[0]
    assert cli("share", "revoke", share_id, cameras=root).returncode == 0
    revoked = httpx.get(f"{srv.url}{path}")
    assert revoked.status_code == 403 and "revoked" in revoked.text


def test_an_expired_share_link_says_so(site):
    root, srv = site
    made = cli("share", "--from", f"{DAY}T12:00:00", "--to", f"{DAY}T12:00:02", "--expires", "1s",
               cameras=root)
    token = re.search(r"share=([^&\s]+)", made.stdout).group(1)
    time.sleep(1.2)
    expired = srv.get(f"/cam/camera/day/{DAY}?share={token}")
    assert expired.status_code == 403 and "expired" in expired.text


def test_a_viewer_sees_only_the_cameras_it_is_given(tmp_path, record, server):
    cams = {"porch": tmp_path / "porch", "garden": tmp_path / "garden"}
    for root in cams.values():
        record(root, NOON, 2)
    add_user(cams, "alice", "admin")
    add_user(cams, "bob", "viewer", "--cameras", "porch")
    srv = server(cams)
    assert srv.get(f"/cam/porch/playlist.php?date={DAY}", auth=basic("bob")).status_code == 200
    refused = srv.get(f"/cam/garden/playlist.php?date={DAY}", auth=basic("bob"))
    assert refused.status_code == 403 and "garden" in refused.text
    overview = srv.get("/", auth=basic("bob")).text
    assert 'id="camera-porch"' in overview and 'id="camera-garden"' not in overview
    assert 'id="camera-garden"' in srv.get("/", auth=basic("alice")).text


def test_a_camera_token_reads_nothing(site):
    root, srv = site
    made = cli("token", "add", "camera", "--name", "pi", cameras=root)
    secret = made.stdout.strip().splitlines()[-1]
    assert secret.startswith("cctv_")
    got = srv.get(f"/playlist.php?date={DAY}", headers={"Authorization": f"Bearer {secret}"})
    assert got.status_code == 403 and "only upload" in got.text
    assert srv.get("/", headers={"Authorization": "Bearer cctv_0000_nothing"}).status_code == 401
    assert "pi" in cli("token", "list", cameras=root).stdout


def test_every_answer_carries_the_security_headers(site):
    _, srv = site
    for response in (srv.get("/login"), srv.get("/"), srv.get("/", auth=basic("alice"))):
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"


def test_an_account_made_while_the_server_runs_closes_it_within_seconds(tmp_path, record, server):
    root = tmp_path / "root"
    record(root, NOON, 2)
    srv = server(root)
    assert srv.get("/").status_code == 200  # no account: open, as it always was
    add_user(root, "alice", "admin")
    wait_until(lambda: srv.get("/").status_code == 401, timeout=5)
    assert srv.get("/", auth=basic("alice")).status_code == 200


def test_listening_beyond_loopback_without_an_account_is_refused_unless_auth_is_none(tmp_path, record):
    root = tmp_path / "root"
    record(root, NOON, 2)
    refused = subprocess.run(
        [sys.executable, "-m", "cctv_server.cli", "serve", "--root", str(root), "--host", "0.0.0.0",
         "--port", "0", "--no-compactor"], capture_output=True, text=True, timeout=30,
        env=os.environ | ENV)
    assert refused.returncode != 0 and "cctv-server user add" in refused.stderr
    srv = Server(root, tmp_path, {"CCTV_AUTH": "none", "CCTV_HOST": "0.0.0.0"}).start()
    try:
        page = srv.get("/")
        assert page.status_code == 200 and "auth = none" in page.text
        assert "auth = none" in srv.log.read_text()
    finally:
        srv.stop()


def test_a_browser_signs_in_through_the_form_and_the_player_plays(site):
    import tempfile

    from playwright.sync_api import sync_playwright

    from .test_player import CHROMIUM, CHROMIUM_ARGS, POLL

    _, srv = site
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        browser = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{srv.url}/day/{DAY}")  # sent to the sign-in form, and back after it
        assert "/login" in page.url
        page.fill("input[name=name]", "bob")
        page.fill("input[name=password]", PASSWORD["bob"])
        page.click("button[type=submit]")
        page.wait_for_function("() => document.getElementById('video') &&"
                               " document.getElementById('video').currentTime > 1",
                               polling=POLL, timeout=30000)
        assert page.url.endswith(f"/day/{DAY}") and page.text_content("#whoami") == "bob"
        browser.close()


def test_an_admin_shares_a_clip_and_holds_the_day_from_the_player(site):
    import tempfile

    from playwright.sync_api import sync_playwright

    from .test_player import CHROMIUM, CHROMIUM_ARGS, POLL

    root, srv = site
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        browser = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{srv.url}/login?next=/day/{DAY}")
        page.fill("input[name=name]", "alice")
        page.fill("input[name=password]", PASSWORD["alice"])
        page.click("button[type=submit]")
        page.wait_for_selector("#share")
        page.fill("#sel-from", "12:00:02")
        page.fill("#sel-to", "12:00:04")
        page.click("#share")
        page.wait_for_function("() => !document.getElementById('share-url').hidden", polling=POLL)
        link = page.input_value("#share-url")
        page.fill("#hold-reason", "a parcel went missing")
        page.click("#hold")
        page.wait_for_function("() => !document.getElementById('release').hidden", polling=POLL)
        assert "a parcel went missing" in (root / DAY / ".hold.json").read_text()
        page.click("#release")
        page.wait_for_function("() => document.getElementById('release').hidden", polling=POLL)
        browser.close()
        # Whoever is sent the link opens it in a browser of their own, and the clip plays
        stranger = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = stranger.new_page()
        page.goto(link)
        page.wait_for_function("() => document.getElementById('video') &&"
                               " document.getElementById('video').currentTime > 0.5",
                               polling=POLL, timeout=30000)
        stranger.close()
    assert not (root / DAY / ".hold.json").exists()
    shared = httpx.Client()  # someone else, who has only the link
    assert shared.get(link).status_code == 200
    playlist = hlscheck.check(shared.get(f"{srv.url}/cam/camera/playlist.php?date={DAY}").text)
    assert [u.split("?")[0] for u in playlist.uris] == [f"{DAY}/12-00-02.ts"]
