"""The build hook: every wheel (and `pip install .`) carries hls.js, fetched from npm, pinned, checksum-checked.

The rest of the package is described in pyproject.toml. A built package without the player
library plays no compacted day in most browsers, so a build without npm fails with the reason
instead of leaving it out. Editable installs (`pip install -e`, scripts/setup) use the copy
scripts/vendor-js.sh puts in the source tree.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HLSJS = "hls.js@1.7.4"  # the version package-lock.json pins, and the tarball's SHA-512 there:
HLSJS_SHA512 = "3GlxGdPvT2YHvQYOt+yOzT/DEior/qJVNIylHA77kgeoBTdQQqi70GwefNEUmHQeNGyjC8U62+bruqW/Tpm+tg=="
FILES = {"package/dist/hls.min.js": "hls.min.js", "package/LICENSE": "hls.js.LICENSE"}
VENDOR = Path("cctv_server", "web", "static", "vendor")


def fetch_hlsjs(into: Path) -> None:
    """Put the pinned hls.js's minified build and licence in `into`; SystemExit with the
    reason when npm is missing, fails, or hands over other bytes than the pinned ones."""
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit(f"cctv-server's build needs npm to fetch the player library {HLSJS}"
                         " (without it no browser without H.265 plays a compacted day):"
                         " install Node.js/npm (Debian: apt-get install npm) and build again")
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run([npm, "pack", HLSJS, "--pack-destination", tmp, "--silent"],
                              capture_output=True, text=True)
        tarballs = list(Path(tmp).glob("*.tgz"))
        if done.returncode != 0 or len(tarballs) != 1:
            raise SystemExit(f"cctv-server's build: npm pack {HLSJS} failed:"
                             f" {(done.stderr or done.stdout).strip()[-500:]}")
        data = tarballs[0].read_bytes()
        digest = base64.b64encode(hashlib.sha512(data).digest()).decode()
        if digest != HLSJS_SHA512:
            raise SystemExit(f"cctv-server's build: npm handed over a {HLSJS} whose SHA-512 is"
                             f" {digest}, not the pinned {HLSJS_SHA512}; refusing it")
        into.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tarballs[0]) as archive:
            for member, name in FILES.items():
                source = archive.extractfile(member)
                if source is None:
                    raise SystemExit(f"cctv-server's build: {HLSJS} has no {member}")
                (into / name).write_bytes(source.read())


class BuildWithPlayer(build_py):
    """build_py, then hls.js into the built package's static/vendor/."""

    def run(self) -> None:
        super().run()
        if not getattr(self, "editable_mode", False):
            fetch_hlsjs(Path(self.build_lib) / VENDOR)


if __name__ == "__main__":  # setuptools runs this file as __main__; tests import it
    setup(cmdclass={"build_py": BuildWithPlayer})
