"""Config validation: good files load, bad ones stop with one line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.config import ROOT, AppConfig, ConfigError, load_config, parse_config


def test_shipped_config_is_valid() -> None:
    cfg = load_config(ROOT / "config.yaml")
    assert cfg.locale in ("zh-CN", "en")
    assert cfg.web.port == 8050 and cfg.web.host == "127.0.0.1"
    assert cfg.geography.cells.is_absolute() and cfg.geography.cells.exists()


def test_defaults_without_file() -> None:
    assert parse_config({}) == AppConfig()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"locale": "fr"}, "locale: Input should be 'zh-CN' or 'en' (got 'fr')"),
        ({"web": {"port": 70000}}, "web.port: Input should be less than or equal to 65535 (got 70000)"),
        ({"web": {"prot": 1}}, "web.prot: unknown key (expected one of: host, port,"),
        ({"simulatr": {}}, "simulatr: unknown key (expected one of: locale, timezone, redis"),
        ({"simulator": {"speed": 0}}, "simulator.speed: Input should be greater than 0"),
        ({"simulator": {"speed": "fast"}}, "simulator.speed: Input should be a valid number"),
        (
            {"processor": {"batch_size": -1}},
            "processor.batch_size: Input should be greater than or equal to 1",
        ),
        ([1, 2], "expected a mapping of keys at the top level"),
    ],
)
def test_bad_values_name_the_key(data: object, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(data, "cfg.yaml")
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith("cfg.yaml: ")
    assert expected in msg


def test_bad_yaml_names_the_line(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("web:\n  port: [8050\nlocale: en\n")
    with pytest.raises(ConfigError, match=r"not valid YAML at line \d+"):
        load_config(p)


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.yaml")


def test_environment_values(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CB_TEST_PORT", "9001")
    monkeypatch.delenv("CB_UNSET", raising=False)
    p = tmp_path / "c.yaml"
    p.write_text("web:\n  port: ${CB_TEST_PORT}\n  host: ${CB_UNSET:-0.0.0.0}\n")
    cfg = load_config(p)
    assert cfg.web.port == 9001 and cfg.web.host == "0.0.0.0"
    p.write_text("redis:\n  url: ${CB_UNSET}\n")
    with pytest.raises(ConfigError, match=r"redis.url: environment variable CB_UNSET is not set"):
        load_config(p)


def test_redis_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert parse_config({}).redis_url() is None
    assert parse_config({"redis": {"url": "redis://h:1/0"}}).redis_url() == "redis://h:1/0"
    monkeypatch.setenv("REDIS_URL", "redis://env:2/0")
    assert parse_config({"redis": {"url": "redis://h:1/0"}}).redis_url() == "redis://env:2/0"


def test_relative_paths_follow_the_file(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("redis:\n  data_dir: state\n")
    assert load_config(p).redis.data_dir == tmp_path / "state"


def test_speed_scales_rule_durations_unless_time_scale_is_set(tmp_path: Path) -> None:
    """Issue 14: `run.py --scenario storm --speed 60` must raise its warnings within minutes."""
    import run

    assert run.configure(run.parse_args(["--speed", "60"])).alerts.time_scale == 60
    assert run.configure(run.parse_args(["--speed", "60", "--no-simulator"])).alerts.time_scale == 1
    explicit = tmp_path / "config.yaml"
    explicit.write_text("alerts:\n  time_scale: 1\n", encoding="utf-8")
    assert run.configure(run.parse_args(["--speed", "60", "--config", str(explicit)])).alerts.time_scale == 1
    sped = tmp_path / "sped.yaml"
    sped.write_text("simulator:\n  speed: 30\n", encoding="utf-8")
    assert run.configure(run.parse_args(["--config", str(sped)])).alerts.time_scale == 30
