"""Settings: layers in order of precedence, and a bad value named at start-up."""

import os
import subprocess
import sys

import pytest

from cctv_server import config
from cctv_server.errors import ConfigError


def test_defaults_listen_on_loopback_only():
    settings = config.load(env={})
    assert settings.host == "127.0.0.1"
    assert settings.settle == 48 * 3600


def test_flags_beat_environment_which_beats_the_file(tmp_path):
    toml = tmp_path / "cctv.toml"
    toml.write_text('port = 9000\nsettle = "2d"\n[server]\nhost = "0.0.0.0"\n')
    settings = config.load(toml, env={"CCTV_PORT": "9100", "CCTV_SETTLE": "90m"}, flags={"port": 9200})
    assert settings.port == 9200
    assert settings.settle == 90 * 60
    assert settings.host == "0.0.0.0"


def test_an_unknown_key_in_the_file_is_named(tmp_path):
    toml = tmp_path / "cctv.toml"
    toml.write_text("prot = 9000\n")
    with pytest.raises(ConfigError, match="'prot'"):
        config.load(toml, env={})


def test_a_malformed_value_names_its_key():
    with pytest.raises(ConfigError, match="'settle'"):
        config.load(env={"CCTV_SETTLE": "two days"})
    with pytest.raises(ConfigError, match="'timezone'"):
        config.load(env={"CCTV_TIMEZONE": "Mars/Olympus"})
    with pytest.raises(ConfigError, match="'port'"):
        config.load(env={}, flags={"port": 70000})


def test_an_unknown_environment_variable_is_named():
    with pytest.raises(ConfigError, match="CCTV_SETLE"):
        config.load(env={"CCTV_SETLE": "1h"})


@pytest.mark.parametrize("text,seconds", [("0", 0), ("45", 45), ("90m", 5400), ("2d", 172800),
                                          ("1h30m", 5400), ("48h", 172800), ("1.5s", 1.5)])
def test_durations(text, seconds):
    assert config.parse_duration(text) == seconds


@pytest.mark.parametrize("text,size", [("0", 0), ("500MB", 500 * 2**20), ("1GB", 2**30), ("2GiB", 2 * 2**30)])
def test_sizes(text, size):
    assert config.parse_size(text) == size


def test_an_unreadable_config_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="config file"):
        config.load(tmp_path / "missing.toml", env={})
    bad = tmp_path / "bad.toml"
    bad.write_text("port = = 1")
    with pytest.raises(ConfigError, match="config file"):
        config.load(bad, env={})


@pytest.mark.parametrize("command", ["serve", "compact", "status", "compactor"])
@pytest.mark.parametrize("env, key", [({"CCTV_CODEC": "vp9"}, "'codec'"),
                                      ({"CCTV_CODEC": "av1", "CCTV_CRF": "70"}, "'crf'"),
                                      ({"CCTV_PRESET": "fastest"}, "'preset'")])
def test_every_command_refuses_a_bad_codec_setting_before_it_starts(tmp_path, command, env, key):
    proc = subprocess.run([sys.executable, "-m", "cctv_server.cli", command, "--root", str(tmp_path)],
                          env=os.environ | env, capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0
    assert f"setting {key}" in proc.stderr and "Traceback" not in proc.stderr
    assert "Serving" not in proc.stderr  # refused before listening
