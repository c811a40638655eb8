"""Every command line in the README's shell blocks runs as written, against real footage and a real server."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from .conftest import UTC, free_port, wait_until

README = Path(__file__).resolve().parents[1] / "README.md"
BIN = Path(sys.executable).parent
# Lines of the shell blocks that are not cctv-server's to run here: the scripts (CI runs both;
# scripts/test is this suite) and a machine's own set-up (users, systemd, /etc).
NOT_OURS = ("scripts/demo", "scripts/test", "useradd", "chown", "cp", "printf", "systemctl",
            "journalctl")
LONG = {"serve", "compactor", "push", "worker"}  # run until stopped: started, seen working, stopped
PASSWORD = "a password long enough"


def shell_lines(text: str) -> list[str]:
    """The command lines of the ```sh blocks, continuation lines joined, comments and
    [--optional] parts dropped."""
    lines: list[str] = []
    for block in re.findall(r"^```sh\n(.*?)^```", text, flags=re.M | re.S):
        joined = re.sub(r"\\\n\s*", "", block)
        for line in joined.splitlines():
            line = re.sub(r"\s+#\s.*$", "", line).strip()
            line = re.sub(r"\s*\[--[^\]]*\]", "", line)
            if line:
                lines.append(line)
    return lines


def ours(line: str) -> bool:
    return line.split()[0] in ("cctv-server", ".venv/bin/cctv-server", "curl")


def test_every_shell_line_of_the_readme_is_run_here_or_named_as_someone_elses():
    others = {line.split()[0] for line in shell_lines(README.read_text()) if not ours(line)}
    assert others <= set(NOT_OURS), others - set(NOT_OURS)
    assert sum(map(ours, shell_lines(README.read_text()))) >= 20


def test_the_readme_names_every_apt_package_the_tests_install():
    setup = (README.parents[0] / "scripts" / "setup").read_text()
    wanted = set(re.findall(r"apt_packages\+=\(([^)]*)\)", setup))
    packages = {p for group in wanted for p in group.split()}
    assert packages, "scripts/setup names no apt package"
    for package in packages:
        assert f"`{package}`" in README.read_text(), package


class Site:
    """The README's /srv, /etc and /var/lib under a temporary folder, with footage on its
    dates, a server for the commands that talk to one, and an account in each state."""

    def __init__(self, tmp: Path, record):
        self.tmp = tmp
        self.port = free_port()
        self.env = os.environ | {"CCTV_TIMEZONE": "UTC", "CCTV_PORT": str(self.port),
                                 "CCTV_COMPACTOR": "false", "CCTV_UPLOAD_BACKLOG": "100000d",
                                 "CCTV_STABLE_SECONDS": "0.5", "PATH": f"{BIN}:{os.environ['PATH']}",
                                 # the archive's commands need a store: a folder is one
                                 "CCTV_ARCHIVE": f"file://{tmp}/store",
                                 # the worker's: a queue of this test's own on the local Redis
                                 "CCTV_BROKER_NAMESPACE": f"readme-{self.port}"}
        text = README.read_text()
        for day in sorted(set(re.findall(r"\b20\d\d-\d\d-\d\d\b", " ".join(shell_lines(text))))):
            start = dt.datetime.fromisoformat(day).replace(hour=14, tzinfo=UTC)
            for root in ("srv/cctv", "srv/cameras/porch", "srv/cameras/garden"):
                record(tmp / root, start, 4)
        toml = re.search(r"^```toml\n(.*?)^```", text, flags=re.M | re.S).group(1)
        (tmp / "etc").mkdir()
        (tmp / "store").mkdir()
        (tmp / "etc" / "cctv-server.toml").write_text(self.paths(toml))
        for where in ("--root srv/cctv", "--config etc/cctv-server.toml"):
            self.run(f"cctv-server user add admin0 --role admin --password-stdin {where}",
                     stdin=PASSWORD + "\n")
        made = self.run("cctv-server token add porch --config etc/cctv-server.toml").stdout
        (tmp / "etc" / "cctv-push.token").write_text(made.strip().splitlines()[-1] + "\n")
        made = self.run("cctv-server token add --worker readme --config etc/cctv-server.toml").stdout
        (tmp / "etc" / "cctv").mkdir()
        (tmp / "etc" / "cctv" / "worker.token").write_text(made.strip().splitlines()[-1] + "\n")
        segments = tmp / "var" / "lib" / "cctv-camera" / "segments"
        segments.mkdir(parents=True)
        some = sorted((tmp / "srv" / "cctv").glob("20*/*.ts"))[0]
        shutil.copy(some, segments / f"{int(time.time()) - 60}.ts")
        shutil.copy(some, tmp / "1795800112.ts")
        self.server = self.start(f"cctv-server serve --config etc/cctv-server.toml --port {free_port()}")
        self.url = self.wait_serving(self.server)

    def paths(self, line: str) -> str:
        for top in ("/srv/", "/etc/", "/var/lib/"):
            line = re.sub(rf"(?<![\w.]){top}", f"{self.tmp}{top}", line)
        return line

    def command(self, line: str) -> str:
        line = self.paths(line).replace(".venv/bin/cctv-server", "cctv-server")
        line = re.sub(r"--port 80\b", f"--port {self.port}", line)
        if hasattr(self, "url"):
            line = line.replace("https://cctv.example.org", self.url)
            line = line.replace("http://cctv-host:8080", self.url)
        line = line.replace("redis://cctv-host:6379/0", "redis://127.0.0.1:6379/0")
        return line

    def run(self, line: str, stdin: str = "") -> subprocess.CompletedProcess:
        done = subprocess.run(["bash", "-c", line], cwd=self.tmp, env=self.env, input=stdin,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{line}\n{done.stdout}{done.stderr}"
        return done

    def start(self, line: str) -> subprocess.Popen:
        log = self.tmp / f"long-{free_port()}.log"
        with open(log, "w") as out:
            proc = subprocess.Popen(["bash", "-c", f"exec {line}"], cwd=self.tmp, env=self.env,
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        proc.log = log  # type: ignore[attr-defined]
        return proc

    def wait_serving(self, proc: subprocess.Popen) -> str:
        def port() -> int | None:
            assert proc.poll() is None, output(proc)
            found = re.search(r"on https?://[^:]+:(\d+)/", output(proc))
            return int(found.group(1)) if found else None
        url = f"http://127.0.0.1:{wait_until(port, timeout=60)}"
        wait_until(lambda: answers(url + "/healthz"), timeout=60)
        return url

    def stop(self, proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(60)


def output(proc: subprocess.Popen) -> str:
    return proc.log.read_text()  # type: ignore[attr-defined]


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def site(tmp_path, record):
    found = Site(tmp_path, record)
    yield found
    found.stop(found.server)


@pytest.mark.slow
def test_every_cctv_server_command_line_of_the_readme_works_as_written(site):
    for line in filter(ours, shell_lines(README.read_text())):
        command = site.command(line)
        name = command.split()[1] if command.startswith("cctv-server") else "curl"
        if name not in LONG:
            site.run(command, stdin=f"{PASSWORD}\n{PASSWORD}\n")
            continue
        proc = site.start(command)
        try:
            if name == "serve":
                site.wait_serving(proc)
            elif name == "worker":
                wait_until(lambda: "taking chunks" in output(proc) or proc.poll() is not None, 60)
            elif name == "compactor":
                wait_until(lambda: "Compacting" in output(proc) or proc.poll() is not None, 60)
            else:  # push: the camera's segment reaches the server and leaves the camera
                folder = site.tmp / "var" / "lib" / "cctv-camera" / "segments"
                wait_until(lambda: not list(folder.glob("*.ts")) or proc.poll() is not None, 60)
            assert proc.poll() is None, f"{command}\n{output(proc)}"
        finally:
            site.stop(proc)
