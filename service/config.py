"""The service's settings: the ``[service]`` and ``[printers]`` tables of the escpos809 config
file, then ``ESCPOS809_SERVICE_*`` environment variables, then command-line flags."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from escpos809.config import Config, load, state_path
from escpos809.errors import Escpos809Error

DEFAULT_PORT = 8809


if TYPE_CHECKING:
    from escpos809.everest.config import EverestConfig
    from escpos809.ocpp.config import OcppConfig


def default_database() -> Path:
    return state_path("jobs.db")


@dataclass
class ServiceConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    token: str | None = None
    database: Path = field(default_factory=default_database)
    printers: dict[str, str] = field(default_factory=dict)
    profile: str | None = None
    max_body_bytes: int = 8 * 1024 * 1024
    on_restart: str = "reprint"  # or "hold": a job cut short by a crash waits for a person
    zeroconf: bool = True
    poll_s: float = 2.0
    retry_max_s: float = 30.0
    threads: int = 16  # a request waiting for its commit's fsync holds one: enough keep the CPU busy meanwhile
    require_status: bool = True  # a printer that can answer status must, before a job is sent
    ocpp: OcppConfig | None = None  # [ocpp]: charging receipts from POST /api/v1/ocpp/frames
    everest: EverestConfig | None = None  # [everest]: charging receipts from an EVerest charger (MQTT)
    # web safety (service/websafety.py): browser origins (scheme://host[:port]) that may change
    # state and get CORS; Host names answered besides the bind address and localhost
    allowed_origins: list[str] = field(default_factory=list)
    server_names: list[str] = field(default_factory=list)
    # connections (service/httpserver.py): open at once; seconds for a request's line and
    # headers to arrive; seconds a connection may sit idle between requests
    connection_limit: int = 4000
    header_timeout_s: float = 15.0
    idle_timeout_s: float = 30.0

    @property
    def ocpp_printer(self) -> str:
        """The printer charging receipts go to: [ocpp] printer, else the first one."""
        return self.ocpp.printer if self.ocpp and self.ocpp.printer else next(iter(self.printers), "default")

    @property
    def everest_printer(self) -> str:
        """The printer EVerest receipts go to: [everest] printer, else the OCPP receipts' one."""
        return self.everest.printer if self.everest and self.everest.printer else self.ocpp_printer

    def check(self) -> None:
        """Refuse settings that would be unsafe or cannot work, with a message that says why."""
        if self.on_restart not in ("reprint", "hold"):
            raise Escpos809Error(f"service.on_restart must be 'reprint' or 'hold', not {self.on_restart!r}")
        if not 0 <= self.port <= 65535:
            raise Escpos809Error(f"service.port must be 0-65535, not {self.port}")
        if not self.loopback and not self.token:
            raise Escpos809Error(
                f"listening on {self.host} exposes the printers: set a token "
                "(service.token, ESCPOS809_SERVICE_TOKEN or --token)"
            )
        if self.token is not None and len(self.token) < 16:
            raise Escpos809Error("the service token must be at least 16 characters")
        if self.ocpp and self.ocpp.printer and self.ocpp.printer not in self.printers:
            raise Escpos809Error(
                f"[ocpp] printer {self.ocpp.printer!r} is not one of the [printers] ({', '.join(self.printers)})"
            )
        if self.everest and self.everest.printer and self.everest.printer not in self.printers:
            raise Escpos809Error(
                f"[everest] printer {self.everest.printer!r} is not one of the [printers] ({', '.join(self.printers)})"
            )
        from .websafety import BadSetting, check_server_name, normalize_origin

        for key, check in (("allowed_origins", normalize_origin), ("server_names", check_server_name)):
            try:
                setattr(self, key, [check(v) for v in getattr(self, key)])
            except BadSetting as exc:
                raise Escpos809Error(f"service.{key}: {exc}") from None
        if not 16 <= self.connection_limit <= 1_000_000:
            raise Escpos809Error(f"service.connection_limit must be 16-1000000, not {self.connection_limit}")
        for key in ("header_timeout_s", "idle_timeout_s"):
            if not 0.5 <= getattr(self, key) <= 3600:
                raise Escpos809Error(f"service.{key} must be 0.5-3600 seconds, not {getattr(self, key)}")
        for name in self.printers:
            if not name.replace("-", "").replace("_", "").isalnum() or len(name) > 40:
                raise Escpos809Error(f"printer name {name!r}: use letters, digits, '-' and '_' (at most 40)")

    @property
    def loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def _names(key: str, value: object) -> list[str]:
    """A list setting: a TOML array, or (environment) one string separated by commas or spaces."""
    if isinstance(value, str):
        return [v for v in value.replace(",", " ").split() if v]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise Escpos809Error(f"service.{key}: {value!r} is not a list of strings")


def load_service_config(config: Config | None = None, **flags: object) -> ServiceConfig:
    """Config file, then environment (both from ``config``, read now if not given), then the
    flags given (None = not given)."""
    config = load() if config is None else config
    file = config.file
    merged = {
        **config.table("service"),
        **config.env_table("service"),
        **{k: v for k, v in flags.items() if v is not None},
    }
    cfg = ServiceConfig()
    for key, conv in (
        ("host", str),
        ("port", int),
        ("token", str),
        ("database", Path),
        ("profile", str),
        ("max_body_bytes", int),
        ("on_restart", str),
        ("poll_s", float),
        ("retry_max_s", float),
        ("threads", int),
        ("connection_limit", int),
        ("header_timeout_s", float),
        ("idle_timeout_s", float),
    ):
        if key in merged:
            try:
                setattr(cfg, key, conv(merged[key]))
            except (TypeError, ValueError):
                raise Escpos809Error(f"service.{key}: {merged[key]!r} is not valid") from None
    if "token_file" in merged and not cfg.token:
        try:
            cfg.token = Path(merged["token_file"]).read_text("utf-8").strip()
        except OSError as exc:
            raise Escpos809Error(f"service.token_file: {exc}") from None
    for key in ("allowed_origins", "server_names"):
        if key in merged:
            setattr(cfg, key, _names(key, merged[key]))
    for key in ("zeroconf", "require_status"):
        if key in merged:
            z = merged[key]
            setattr(cfg, key, z if isinstance(z, bool) else str(z).lower() in ("1", "true", "yes", "on"))
    printers = config.table("printers") or ({"default": file["printer"]} if file.get("printer") else {})
    if env_printer := config.env.get("ESCPOS809_PRINTER"):
        printers = {"default": env_printer}
    cfg.printers = {str(k): str(v) for k, v in printers.items()} or {"default": "virtual://default"}
    from escpos809.ocpp.config import load_ocpp_config

    cfg.ocpp = load_ocpp_config(config.table("ocpp"))
    if config.table("everest"):
        from escpos809.everest.config import load_everest_config

        cfg.everest = load_everest_config(config.table("everest"))
    if cfg.profile is None and file.get("profile"):
        cfg.profile = str(file["profile"])
    cfg.check()
    return cfg
