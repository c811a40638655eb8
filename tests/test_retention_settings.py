"""Retention's settings: keep_free as a size or a percentage (the old min_free still read), keep_days, max_size, per camera."""

import pytest

from cctv_server import cameras, config
from cctv_server.config import FreeSpace
from cctv_server.errors import ConfigError

GB = 1 << 30


def test_keep_free_is_five_percent_unless_given_as_a_size_or_a_percentage():
    assert config.load(env={}).keep_free == FreeSpace(percent=5)
    assert config.load(env={}).keep_free.of(200 * GB) == 10 * GB
    assert config.load(env={"CCTV_KEEP_FREE": "20GB"}).keep_free.of(200 * GB) == 20 * GB
    assert config.load(env={"CCTV_KEEP_FREE": "12.5%"}).keep_free.of(8 * GB) == GB
    for bad in ("100%", "-1%", "five%", "lots"):
        with pytest.raises(ConfigError, match="'keep_free'"):
            config.load(env={"CCTV_KEEP_FREE": bad})


def test_min_free_is_read_as_keep_free_in_every_layer(tmp_path):
    toml = tmp_path / "cctv.toml"
    toml.write_text('min_free = "2GB"\n')
    assert config.load(toml, env={}).keep_free == FreeSpace(size=2 * GB)
    assert config.load(env={"CCTV_MIN_FREE": "0"}).keep_free == FreeSpace(size=0)
    assert config.load(env={}, flags={"min_free": "1GB"}).keep_free == FreeSpace(size=GB)
    both = config.load(env={"CCTV_MIN_FREE": "1GB", "CCTV_KEEP_FREE": "3%"})
    assert both.keep_free == FreeSpace(percent=3)  # the new name wins in one layer
    assert "keep_free" in config.explicit(env={"CCTV_MIN_FREE": "0"})


def test_keep_days_and_max_size_default_to_no_limit_and_refuse_nonsense():
    settings = config.load(env={"CCTV_KEEP_DAYS": "30d", "CCTV_MAX_SIZE": "2TB"})
    assert (settings.keep_days, settings.max_size) == (30, 2 * 1024 * GB)
    assert (config.load(env={}).keep_days, config.load(env={}).max_size) == (0, 0)
    with pytest.raises(ConfigError, match="'keep_days'"):
        config.load(env={"CCTV_KEEP_DAYS": "a month"})


def test_a_camera_overrides_the_retention_settings_and_the_environment_outranks_it(tmp_path):
    toml = tmp_path / "cctv.toml"
    toml.write_text('keep_days = 30\n[cameras.porch]\nroot = "/srv/porch"\nkeep_days = 7\n'
                    'max_size = "1GB"\nkeep_free = "10%"\n[cameras.garden]\nroot = "/srv/garden"\n')
    found = {c.name: c.settings for c in cameras.load(config.load(toml, env={}), toml)}
    assert (found["porch"].keep_days, found["porch"].max_size) == (7, GB)
    assert found["porch"].keep_free == FreeSpace(percent=10)
    assert found["garden"].keep_days == 30
    env = {"CCTV_KEEP_DAYS": "3"}
    found = {c.name: c.settings for c in cameras.load(config.load(toml, env=env), toml,
                                                      explicit=config.explicit(env))}
    assert found["porch"].keep_days == found["garden"].keep_days == 3
