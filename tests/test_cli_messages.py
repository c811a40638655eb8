"""The CLI's messages for a newcomer's usual mistakes say what is wrong and what to type instead."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cctv_server.cli import main


def cctv(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env={"CCTV_TIMEZONE": "UTC", **(env or {})})


def test_a_root_whose_folders_are_cameras_is_refused_naming_the_camera_options(tmp_path):
    for camera, day in (("porch", "2026-01-01"), ("garden", "2026-01-02")):
        (tmp_path / camera / day).mkdir(parents=True)
        (tmp_path / camera / day / "12-00-00.ts").write_bytes(b"")
    done = cctv("status", "--root", str(tmp_path))
    assert done.exit_code == 1
    assert f"--camera garden={tmp_path / 'garden'} --camera porch={tmp_path / 'porch'}" in done.output


def test_an_empty_root_is_a_new_camera_and_fine(tmp_path):
    done = cctv("status", "--root", str(tmp_path))
    assert done.exit_code == 0, done.output


def test_a_camera_without_a_root_explains_the_name_equals_root_form(tmp_path):
    done = cctv("status", "--camera", "porch")
    assert done.exit_code == 2
    assert "--camera porch=ROOT" in done.output and "no camera named 'porch'" in done.output


@pytest.mark.parametrize("text, said", [
    ("keep_day = 3", "unknown setting 'keep_day'; did you mean 'keep_days'?"),
    ("[cameras.porch]\nroot = 'R'\nkep_days = 3", "did you mean 'keep_days'?"),
    ("port = 8080.5", "setting 'port': takes a whole number, like 8, not the decimal number 8080.5"),
    ("port = 'eighty'", "setting 'port': takes a whole number, like 8, not the text 'eighty'"),
    ("settle = [1]", "setting 'settle': takes a duration, like 90s, 10m, 48h or 2d, not a list"),
    ("state_dir = 5", "setting 'state_dir': takes a path in quotes, not the whole number 5"),
    ("compactor = 3", "setting 'compactor': takes true or false, not the whole number 3"),
    ("allowed_hosts = 3", "setting 'allowed_hosts': takes a list of names"),
])
def test_a_bad_setting_in_the_file_is_named_with_what_it_should_be(tmp_path, text, said):
    config = tmp_path / "cctv.toml"
    config.write_text(text.replace("'R'", repr(str(tmp_path))))
    where = [] if "[cameras" in text else ["--root", str(tmp_path)]
    done = cctv("status", "--config", str(config), *where)
    assert done.exit_code == 1
    assert said in done.output


def test_an_unknown_environment_setting_suggests_the_nearest(tmp_path):
    done = cctv("status", "--root", str(tmp_path), env={"CCTV_KEEPDAYS": "3"})
    assert "CCTV_KEEPDAYS: unknown setting 'keepdays'; did you mean 'keep_days'?" in done.output


def test_a_toml_syntax_error_names_the_file_and_line_and_hints_at_quotes(tmp_path):
    config = tmp_path / "cctv.toml"
    config.write_text('codec = "hevc"\ntimezone = Europe/London\n')
    done = cctv("serve", "--config", str(config), "--root", str(tmp_path))
    assert done.exit_code == 1
    assert f"config file {config}, line 2:" in done.output
    assert 'text needs quotes (name = "value")' in done.output


def test_the_config_root_and_cameras_are_taken_after_the_command_name_too(tmp_path):
    config = tmp_path / "cctv.toml"
    config.write_text(f"[cameras.porch]\nroot = {str(tmp_path / 'p')!r}\n")
    (tmp_path / "p").mkdir()
    before = cctv("--config", str(config), "holds")
    after = cctv("holds", "--config", str(config), "--camera", "porch")
    assert before.exit_code == after.exit_code == 0, before.output + after.output
    assert before.output == after.output


def test_every_command_is_listed_under_its_module_and_loads_only_with_it():
    import importlib
    import subprocess
    import sys

    from cctv_server import cli
    for family, names in cli.FAMILIES.items():
        module = importlib.import_module(f"cctv_server.cli.{family}")
        assert sorted(c.name for c in module.COMMANDS) == sorted(names), family
    listed = cctv("--help").output
    assert all(f"  {name} " in listed for names in cli.FAMILIES.values() for name in names)
    # `compact` does not load the web server's or the other families' modules.
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys; from cctv_server.cli import main; "
         "main.get_command(None, 'compact'); print(' '.join(sys.modules))"],
        capture_output=True, text=True, check=True).stdout.split()
    assert "cctv_server.cli.compaction" in loaded
    assert not {"cctv_server.cli.serve", "cctv_server.cli.access", "starlette"} & set(loaded)
