"""The ``[everest]`` table: which MQTT broker, how to log in, which topics, how sure the
energy must be. What the receipt says (operator, time zone, tariff, VAT) comes from ``[ocpp]``:
one station, one receipt layout, one tariff."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ..errors import Escpos809Error


class EverestConfigError(Escpos809Error):
    """A ``[everest]`` setting or ``escpos809 everest`` option that cannot work."""

    exit_code = 7


@dataclass(frozen=True)
class EverestConfig:
    broker: str = ""  # mqtt://host:port or mqtts://host:port
    prefix: str = "everest_api"  # the API module's topic prefix
    events_prefix: str = "everest/"  # the framework's prefix for evse_manager session_event ("" = off)
    username: str = ""
    password: str = ""
    password_file: str = ""
    ca: str = ""  # CA bundle for mqtts:// (default: the system's)
    cert: str = ""  # client certificate (PEM) for mqtts://
    key: str = ""  # its key
    client_id: str = ""  # "" = escpos809-everest-<host>
    keepalive_s: int = 30
    reconnect_max_s: float = 30.0  # back-off doubles from 1 s up to this
    settle_s: float = 2.0  # wait after the end for the last meter reading and the session event
    tolerance_wh: Decimal = Decimal(10)  # EVerest's energy and the register may differ by this …
    tolerance_percent: Decimal = Decimal("0.5")  # … or by this share of it, whichever is larger
    printer: str = ""  # printer URI (CLI) or printer name (service); "" = [ocpp] printer, then default
    database: str = ""  # CLI: SQLite file (default: the state dir's everest.db)

    @property
    def tls(self) -> bool:
        return urlsplit(self.broker).scheme == "mqtts"

    @property
    def host(self) -> str:
        return urlsplit(self.broker).hostname or ""

    @property
    def port(self) -> int:
        port = urlsplit(self.broker).port
        return port if port is not None else (8883 if self.tls else 1883)

    def credentials(self) -> tuple[str, str | None] | None:
        """(username, password) for the broker, or None; the file wins over the text."""
        user = self.username or unquote(urlsplit(self.broker).username or "")
        if not user:
            return None
        if self.password_file:
            try:
                return user, Path(self.password_file).read_text("utf-8").strip()
            except OSError as exc:
                raise EverestConfigError(f"[everest] password_file: {exc.strerror or exc}") from None
        return user, self.password or unquote(urlsplit(self.broker).password or "") or None

    def check(self) -> EverestConfig:
        """Refuse what cannot work, before anything connects."""
        try:
            parts = urlsplit(self.broker)
            parts.port  # noqa: B018 - a bad port raises here
        except ValueError as exc:
            raise EverestConfigError(f"[everest] broker {self.broker!r}: {exc}") from None
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname or parts.path not in ("", "/"):
            raise EverestConfigError(
                f"[everest] broker {self.broker!r}: expected mqtt://HOST:PORT or mqtts://HOST:PORT"
            )
        for name in ("prefix", "events_prefix"):
            value = getattr(self, name)
            if any(c in value for c in "+#\0") or (name == "prefix" and not value.strip("/")):
                raise EverestConfigError(f"[everest] {name} {value!r} cannot be a topic prefix")
        if (self.cert or self.key) and not self.tls:
            raise EverestConfigError("[everest] cert and key need an mqtts:// broker")
        if self.key and not self.cert:
            raise EverestConfigError("[everest] key without cert")
        for name in ("ca", "cert", "key", "password_file"):
            path = getattr(self, name)
            if path and not Path(path).is_file():
                raise EverestConfigError(f"[everest] {name} {path!r}: no such file")
        if not 5 <= self.keepalive_s <= 3600:
            raise EverestConfigError("[everest] keepalive_s must be 5-3600")
        if not 1 <= self.reconnect_max_s <= 3600:
            raise EverestConfigError("[everest] reconnect_max_s must be 1-3600")
        if not 0 <= self.settle_s <= 600:
            raise EverestConfigError("[everest] settle_s must be 0-600")
        if self.tolerance_wh < 0 or self.tolerance_percent < 0:
            raise EverestConfigError("[everest] tolerance_wh and tolerance_percent must be >= 0")
        return self

    def tolerance(self, wh: Decimal) -> Decimal:
        return max(self.tolerance_wh, abs(wh) * self.tolerance_percent / 100)


def _convert(name: str, value: Any, default: Any) -> Any:
    if isinstance(default, Decimal):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise EverestConfigError(f"[everest] {name} = {value!r} is not a number")
        try:
            return Decimal(str(value))
        except InvalidOperation:
            raise EverestConfigError(f"[everest] {name} = {value!r} is not a number") from None
    if isinstance(default, float) and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if type(value) is type(default):
        return value
    want = {str: "text", int: "a whole number", float: "a number"}[type(default)]
    raise EverestConfigError(f"[everest] {name} = {value!r} must be {want}")


def load_everest_config(data: dict[str, Any] | None, **flags: Any) -> EverestConfig:
    """The ``[everest]`` table, then the flags given (None = not given), checked."""
    data = {**(data or {}), **{k: v for k, v in flags.items() if v is not None}}
    defaults = EverestConfig()
    known = {f.name for f in fields(EverestConfig)}
    if unknown := sorted(set(data) - known):
        raise EverestConfigError(
            f"[everest]: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    values = {k: _convert(k, v, getattr(defaults, k)) for k, v in data.items()}
    cfg = replace(defaults, **values)
    if not cfg.broker:
        raise EverestConfigError("[everest] broker is not set (e.g. mqtt://127.0.0.1:1883)")
    return cfg.check()
