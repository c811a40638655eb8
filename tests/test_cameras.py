"""Cameras from the config file and the command line: names, roots and per-camera overrides."""

from pathlib import Path

import pytest

from cctv_server import cameras, config
from cctv_server.errors import ConfigError


def load(tmp_path, toml: str = "", flags=(), **settings):
    path = None
    if toml:
        path = tmp_path / "cctv.toml"
        path.write_text(toml)
    return cameras.load(config.load(path, env={}, flags=settings), path, flags)


def test_a_root_alone_is_one_camera_named_by_the_camera_setting(tmp_path):
    (one,) = load(tmp_path, root=tmp_path, camera="porch")
    assert (one.name, one.root, one.settings.camera) == ("porch", tmp_path, "porch")
    assert load(tmp_path) == []


def test_tables_give_each_camera_its_root_and_its_overrides(tmp_path):
    found = load(tmp_path, 'codec = "av1"\nsettle = "2d"\n'
                 '[cameras.porch]\nroot = "/srv/porch"\ncrf = 40\n'
                 '[cameras.garden]\nroot = "/srv/garden"\ntimezone = "Europe/London"\n')
    by_name = {c.name: c.settings for c in found}
    assert list(by_name) == ["garden", "porch"]
    assert by_name["porch"].root == Path("/srv/porch") and by_name["porch"].crf == 40
    assert by_name["garden"].crf is None and by_name["garden"].timezone == "Europe/London"
    assert by_name["porch"].codec == by_name["garden"].codec == "av1"  # the server's default
    assert by_name["porch"].settle == 2 * 86400 and by_name["porch"].camera == "porch"


def test_a_flag_adds_a_camera_or_moves_one_from_the_file(tmp_path):
    found = load(tmp_path, '[cameras.porch]\nroot = "/srv/porch"\nquiet = "2h"\n',
                 flags=["porch=/mnt/porch", "drive=/mnt/drive"])
    assert {c.name: str(c.root) for c in found} == {"drive": "/mnt/drive", "porch": "/mnt/porch"}
    assert [c.settings.quiet for c in found if c.name == "porch"] == [7200]


@pytest.mark.parametrize("toml, flags, key", [
    ('[cameras.Porch]\nroot = "/a"\n', (), "'Porch'"),
    ('[cameras.porch]\nroot = "/a"\nport = 81\n', (), "'cameras.porch.port'"),
    ('[cameras.porch]\nroot = "/a"\ncrf = "lots"\n', (), "'cameras.porch.crf'"),
    ('[cameras.porch]\nquiet = "1h"\n', (), "'cameras.porch.root'"),
    ("", ["../etc=/a"], "'../etc'"),
    ("", ["porch"], "NAME=ROOT"),
    ('[cameras.a]\nroot = "/x"\n[cameras.b]\nroot = "/x/"\n', (), "same root"),
    ('root = "/srv"\n[cameras.a]\nroot = "/x"\n', (), "'root'"),
])
def test_a_bad_camera_is_refused_naming_its_key(tmp_path, toml, flags, key):
    with pytest.raises(ConfigError, match=key.replace("(", r"\(").replace(".", r"\.")):
        load(tmp_path, toml, flags)


def test_the_servers_state_lives_beside_its_cameras_unless_state_dir_says(tmp_path):
    def state(flags, **settings):
        server = config.load(env={}, flags=settings)
        found = cameras.load(server, None, flags)
        return cameras.server_state_dir(server, found), found

    assert state([], root=tmp_path / "porch")[0] == tmp_path / "porch" / ".cctv"
    two = [f"a={tmp_path}/a", f"b={tmp_path}/b"]
    assert state(two)[0] == tmp_path / ".cctv"
    where, found = state(two, state_dir=tmp_path / "s")
    assert where == tmp_path / "s"
    assert {c.settings.catalog_path for c in found} == {tmp_path / "s" / "a" / "catalog.sqlite3",
                                                        tmp_path / "s" / "b" / "catalog.sqlite3"}
