"""Configuration: one TOML file and the ``ESCPOS809_*`` environment, read once into one
:class:`Config` that is passed down (the CLI loads it once per command; the service once at
start). Flags override it where they are parsed.

The file is the first that exists of ``$ESCPOS809_CONFIG``, ``~/.config/escpos809/config.toml``
(or under ``$XDG_CONFIG_HOME``), ``/etc/escpos809/config.toml``. Top-level keys: ``printer``
(URI) and ``profile`` (name or path); the tables ``[service]``, ``[printers]`` and ``[ocpp]``
are typed and checked by the rooms that use them (escpos809_service.config, escpos809.ocpp.config).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .errors import Escpos809Error

SYSTEM_CONFIG = Path("/etc/escpos809/config.toml")
ENV_PREFIX = "ESCPOS809_"


def config_paths(environ: Mapping[str, str] | None = None) -> list[Path]:
    """The files looked at, in order (only the first that exists is read)."""
    env = os.environ if environ is None else environ
    if explicit := env.get("ESCPOS809_CONFIG"):
        return [Path(explicit)]
    xdg = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return [xdg / "escpos809" / "config.toml", SYSTEM_CONFIG]


@dataclass(frozen=True)
class Config:
    """The config file's content and the ``ESCPOS809_*`` environment, as read at one moment."""

    path: Path | None = None  # the file read; None: there was none
    file: Mapping[str, Any] = field(default_factory=dict)  # the file, parsed
    env: Mapping[str, str] = field(default_factory=dict)  # ESCPOS809_* variables

    def setting(self, name: str, flag: str | None = None) -> str | None:
        """A top-level setting by precedence: ``flag``, ``ESCPOS809_<NAME>``, the file."""
        if flag:
            return flag
        if value := self.env.get(f"{ENV_PREFIX}{name.upper()}"):
            return value
        value = self.file.get(name)
        return str(value) if value is not None else None

    @property
    def printer(self) -> str | None:
        """The default printer URI: ``ESCPOS809_PRINTER``, then ``printer`` in the file."""
        return self.setting("printer")

    @property
    def profile(self) -> str | None:
        """The model profile: ``ESCPOS809_PROFILE``, then ``profile`` in the file (None: built-in)."""
        return self.setting("profile")

    def table(self, name: str) -> dict[str, Any]:
        """A table of the file (``[service]``, ``[printers]``, ``[ocpp]``); ``{}`` when absent."""
        value = self.file.get(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            where = self.path or "the config file"
            raise Escpos809Error(f"{where}: {name} must be a table ([{name}]), not {value!r}")
        return dict(value)

    def env_table(self, name: str) -> dict[str, str]:
        """``ESCPOS809_<NAME>_<KEY>`` variables as ``{key: value}`` (key lower-cased)."""
        prefix = f"{ENV_PREFIX}{name.upper()}_"
        return {k[len(prefix) :].lower(): v for k, v in self.env.items() if k.startswith(prefix)}


def read_file(path: Path) -> dict[str, Any]:
    """One config file, parsed; a broken one is a one-line error naming it."""
    from .profile import read_small_text, tomllib  # only when there is a file: the parser costs every start

    try:
        return tomllib.loads(read_small_text(str(path), "config file", Escpos809Error))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise Escpos809Error(f"config file {path}: {exc}") from None
    except RecursionError:  # tomllib reads nested arrays and inline tables recursively
        raise Escpos809Error(f"config file {path}: nested too deeply") from None


def load(environ: Mapping[str, str] | None = None) -> Config:
    """Read the configuration once: the first config file that exists and the environment."""
    env = dict(os.environ if environ is None else environ)
    mine = MappingProxyType({k: v for k, v in env.items() if k.startswith(ENV_PREFIX)})
    for path in config_paths(env):
        if path.is_file():
            return Config(path, MappingProxyType(read_file(path)), mine)
    return Config(None, MappingProxyType({}), mine)


def state_path(name: str) -> Path:
    """A file in escpos809's state folder: systemd's StateDirectory= when run as a unit, else
    the user's XDG state folder."""
    if systemd := os.environ.get("STATE_DIRECTORY"):
        return Path(systemd.split(":")[0]) / name
    state = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(state) / "escpos809" / name
