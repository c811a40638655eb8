"""The README's configuration table lists exactly the settings the code knows."""

import re
from pathlib import Path

from cctv_server import config

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_setting_is_documented_in_the_readme_and_nothing_else():
    table = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", table, flags=re.M))
    assert documented == {s.name for s in config.SETTINGS}
