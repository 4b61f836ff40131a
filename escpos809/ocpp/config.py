"""What a charging receipt needs that OCPP does not carry: operator, tariff, time zone,
QR template, grace period, Eichrecht mode and meter keys. From the ``[ocpp]`` table of the
escpos809 config file (see examples/ocpp.toml)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import Escpos809Error


class OcppConfigError(Escpos809Error):
    exit_code = 7


@dataclass(frozen=True)
class Tariff:
    currency: str = "EUR"
    #: None: no VAT rate configured, so no VAT line unless the CSMS sends the net amount
    #: (a receipt must not claim a rate nobody set)
    vat_percent: Decimal | None = None
    price_kwh: Decimal | None = None
    price_minute: Decimal | None = None  # per minute of charging
    session_fee: Decimal | None = None
    idle_minute: Decimal | None = None  # per idle minute after the grace minutes
    idle_grace_minutes: int = 0

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.price_kwh, self.price_minute, self.session_fee, self.idle_minute))


@dataclass(frozen=True)
class OcppConfig:
    operator: str = "Charging station operator"
    address: str = ""
    vat_id: str = ""
    timezone: str = "UTC"
    station_names: dict[str, str] = field(default_factory=dict)  # cp id → EVSE id / display name
    tariff: Tariff = Tariff()
    receipt_url: str = ""  # template: {cp} {tx} {receipt_id}; used when the CSMS sends none
    qr_ocmf: bool = False  # print the raw OCMF record as a second QR code
    grace_s: float = 10.0  # wait this long after the end for the final cost
    eichrecht: bool = False  # bill kWh from the signed OCMF readings only
    public_keys: dict[str, str] = field(default_factory=dict)  # meter serial or cp id or "*" → key
    printer: str = ""  # printer URI (CLI) or printer name (service); "" = default
    footer: str = "Thank you!"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def key_for(self, cp: str, serial: str) -> str | None:
        return self.public_keys.get(serial) or self.public_keys.get(cp) or self.public_keys.get("*")


def _whole(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise OcppConfigError(f"[ocpp] {name} = {value!r} must be a whole number >= 0")
    return value


def _number(name: str, value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise OcppConfigError(f"[ocpp] {name} = {value!r} is not a number") from None


def _decimal(name: str, value: Any) -> Decimal | None:
    return None if value is None else _number(name, value)


def _typed(name: str, value: Any, kind: type) -> Any:
    """A setting of the type its default has (TOML integers are fine for numbers)."""
    if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if kind is dict:
        if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
            return {str(k): v for k, v in value.items()}
    elif isinstance(value, kind) and not (kind is not bool and isinstance(value, bool)):
        return value
    want = {str: "text", bool: "true or false", float: "a number", dict: "a table of text values"}[kind]
    raise OcppConfigError(f"[ocpp] {name} = {value!r} must be {want}")


def load_ocpp_config(data: dict | None = None) -> OcppConfig:
    """The ``[ocpp]`` table (``data``: ``Config.table("ocpp")``, or read now) → :class:`OcppConfig`."""
    if data is None:
        from ..config import load

        data = load().table("ocpp")
    data = dict(data)
    tariff_data = dict(data.pop("tariff", {}) or {})
    known = {f.name for f in fields(OcppConfig)}
    if unknown := sorted(set(data) - known):
        raise OcppConfigError(f"[ocpp]: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    tknown = {f.name for f in fields(Tariff)}
    if unknown := sorted(set(tariff_data) - tknown):
        raise OcppConfigError(f"[ocpp.tariff]: unknown setting(s) {', '.join(unknown)}")
    tariff = Tariff(
        currency=str(tariff_data.get("currency", "EUR")),
        vat_percent=_number("tariff.vat_percent", tariff_data["vat_percent"]) if "vat_percent" in tariff_data else None,
        price_kwh=_decimal("tariff.price_kwh", tariff_data.get("price_kwh")),
        price_minute=_decimal("tariff.price_minute", tariff_data.get("price_minute")),
        session_fee=_decimal("tariff.session_fee", tariff_data.get("session_fee")),
        idle_minute=_decimal("tariff.idle_minute", tariff_data.get("idle_minute")),
        idle_grace_minutes=_whole("tariff.idle_grace_minutes", tariff_data.get("idle_grace_minutes", 0)),
    )
    for f in fields(OcppConfig):
        if f.name in data and f.name != "tariff":
            data[f.name] = _typed(f.name, data[f.name], type(getattr(OcppConfig(), f.name)))
    cfg = OcppConfig(**{**data, "tariff": tariff})
    try:
        ZoneInfo(cfg.timezone)  # an unknown zone is refused here, not at the first receipt
    except (ZoneInfoNotFoundError, ValueError):
        raise OcppConfigError(f"[ocpp] timezone {cfg.timezone!r} is not a known time zone") from None
    if cfg.grace_s < 0:
        raise OcppConfigError("[ocpp] grace_s must be >= 0")
    return cfg
