"""Configuration: one file read once per command into one Config, env and flags over it."""

import re

import pytest
from click.testing import CliRunner

from escpos809 import config as config_mod
from escpos809.cli import cli
from escpos809.config import Config, load
from escpos809.errors import Escpos809Error


@pytest.fixture
def config_file(tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    path.write_text(
        'printer = "memory://cfg"\nprofile = "ocpp-809"\n[service]\nport = 9001\n'
        '[printers]\nfront = "memory://front"\n[ocpp]\ntimezone = "Europe/Berlin"\n'
    )
    monkeypatch.setenv("ESCPOS809_CONFIG", str(path))
    for name in ("ESCPOS809_PRINTER", "ESCPOS809_PROFILE", "ESCPOS809_SERVICE_PORT"):
        monkeypatch.delenv(name, raising=False)
    return path


@pytest.fixture
def reads(monkeypatch):
    """How many times a config file is read."""
    count = []
    real = config_mod.read_file
    monkeypatch.setattr(config_mod, "read_file", lambda path: count.append(path) or real(path))
    return count


def test_one_read_per_command(config_file, reads):
    res = CliRunner().invoke(cli, ["cut"])  # printer and profile both come from the file
    assert res.exit_code == 0 and "memory://cfg" in res.output
    assert reads == [config_file]


def test_ocpp_replay_reads_the_file_once(config_file, reads, tmp_path):
    log = tmp_path / "empty.jsonl"
    log.write_text("\n")
    res = CliRunner().invoke(cli, ["ocpp", "replay", str(log), "--dry-run"])
    assert res.exit_code == 0, res.output
    assert reads == [config_file]


def test_service_config_from_one_config_object(config_file, reads, monkeypatch):
    from escpos809_service.config import load_service_config

    cfg = load()
    monkeypatch.setenv("ESCPOS809_SERVICE_PORT", "9002")  # after the read: not seen
    svc = load_service_config(cfg, token=None)
    assert reads == [config_file]
    assert svc.port == 9001 and svc.printers == {"front": "memory://front"} and svc.profile == "ocpp-809"
    assert svc.ocpp.timezone == "Europe/Berlin"


def test_precedence_flag_env_file(config_file, monkeypatch):
    assert load().setting("printer") == "memory://cfg" and load().path == config_file
    monkeypatch.setenv("ESCPOS809_PRINTER", "memory://env")
    cfg = load()
    assert cfg.printer == "memory://env" and cfg.setting("printer", "memory://flag") == "memory://flag"
    assert cfg.profile == "ocpp-809"
    monkeypatch.setenv("ESCPOS809_SERVICE_PORT", "9003")
    assert load().env_table("service") == {"port": "9003"}


def test_no_file_and_system_paths(tmp_path, monkeypatch):
    monkeypatch.setenv("ESCPOS809_CONFIG", str(tmp_path / "missing.toml"))
    cfg = load()
    assert cfg.path is None and cfg.printer is None and cfg.table("service") == {}
    paths = config_mod.config_paths({"XDG_CONFIG_HOME": str(tmp_path)})
    assert paths == [tmp_path / "escpos809" / "config.toml", config_mod.SYSTEM_CONFIG]


def test_broken_file_and_wrong_table_are_one_line(tmp_path, monkeypatch):
    bad = tmp_path / "bad.toml"
    bad.write_text("printer = \n")
    monkeypatch.setenv("ESCPOS809_CONFIG", str(bad))
    with pytest.raises(Escpos809Error, match=f"config file {bad}: "):
        load()
    with pytest.raises(Escpos809Error, match=r"service must be a table \(\[service\]\)"):
        Config(bad, {"service": "yes"}).table("service")


@pytest.mark.parametrize(
    "content, says",
    [
        (b"x = " + b"[" * 100_000 + b"]" * 100_000 + b"\n", "nested too deeply"),
        (b"# " + b"x" * (2 * 1024**2) + b"\n", "larger than 1024 KiB"),
        (b'printer = "caf\xe9"\n', "not UTF-8 text (byte 14)"),
    ],
    ids=["nested", "huge", "latin-1"],
)
def test_hostile_config_file_is_one_line_error(tmp_path, monkeypatch, content, says):
    bad = tmp_path / "config.toml"
    bad.write_bytes(content)
    monkeypatch.setenv("ESCPOS809_CONFIG", str(bad))
    with pytest.raises(Escpos809Error, match=re.escape(f"config file {bad}: {says}")):
        load()
