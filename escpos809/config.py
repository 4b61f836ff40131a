"""Configuration: one TOML file, overridden by ``ESCPOS809_*`` environment variables and flags.

Looked up in order: ``$ESCPOS809_CONFIG``, ``~/.config/escpos809/config.toml`` (or
``$XDG_CONFIG_HOME``), ``/etc/escpos809/config.toml``. Keys: ``printer`` (URI), ``profile``
(name or path).
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import Escpos809Error
from .profile import tomllib

SYSTEM_CONFIG = Path("/etc/escpos809/config.toml")


def config_paths() -> list[Path]:
    if explicit := os.environ.get("ESCPOS809_CONFIG"):
        return [Path(explicit)]
    xdg = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return [xdg / "escpos809" / "config.toml", SYSTEM_CONFIG]


def load_config() -> dict:
    """The first config file that exists, parsed; ``{}`` when there is none."""
    for path in config_paths():
        if path.is_file():
            try:
                return tomllib.loads(path.read_text("utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise Escpos809Error(f"config file {path}: {exc}") from None
    return {}


def setting(name: str, flag: str | None = None) -> str | None:
    """A setting by precedence: flag, ``ESCPOS809_<NAME>``, config file."""
    if flag:
        return flag
    if env := os.environ.get(f"ESCPOS809_{name.upper()}"):
        return env
    value = load_config().get(name)
    return str(value) if value is not None else None


def state_path(name: str) -> Path:
    """A file in escpos809's state folder: systemd's StateDirectory= when run as a unit, else
    the user's XDG state folder."""
    if systemd := os.environ.get("STATE_DIRECTORY"):
        return Path(systemd.split(":")[0]) / name
    state = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(state) / "escpos809" / name
