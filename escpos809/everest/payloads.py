"""EVerest MQTT payloads → typed values, pure. Topics and formats as EVerest documents them:

- the ``API`` module (``modules/API/README.md``): ``<prefix>/connectors`` (a JSON array of
  connector names), ``<prefix>/<connector>/var/session_info`` (state, ``charged_energy_wh``,
  ``charging_duration_s``, ``datetime``; republished every second) and
  ``<prefix>/<connector>/var/powermeter`` (``energy_Wh_import.total``, ``meter_id``,
  ``timestamp``);
- the framework's variable topics (``{everest_prefix}modules/{module_id}/impl/{impl_id}/var/
  {var_name}``, payload ``{"data": …}``) for the ``evse_manager`` ``session_event``
  (``types/evse_manager.yaml``: ``SessionEvent`` with ``uuid``, ``event``,
  ``transaction_started`` / ``transaction_finished`` carrying a ``Powermeter`` and a
  ``signed_meter_value``). The API names a connector by its EvseManager's module id, so the
  ``module_id`` of an event topic is the connector it belongs to.

Anything else (not JSON, ``"14.4kW"`` for a number, a missing field, too big) raises
:class:`PayloadError` with the reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import InvalidInput
from ..safejson import JsonRefused, Limits, kind_of, loads

#: one EVerest message; a session_info is ~300 bytes, a session_event with OCMF a few kB
MAX_PAYLOAD = 64 * 1024
LIMITS = Limits(max_bytes=MAX_PAYLOAD, max_depth=8, max_values=2000, max_containers=500)
#: connector names as topic levels: no wildcards, no separators, short
MAX_NAME = 64
MAX_CONNECTORS = 64
#: session_info states (API README) that mean no car is in a session
IDLE_STATES = frozenset({"Unplugged", "Disabled", "Reserved", "Unknown"})
ACTIVE_STATES = frozenset(
    {"Preparing", "AuthRequired", "WaitingForEnergy", "Charging", "ChargingPausedEV", "ChargingPausedEVSE"}
)
FINISHED = "Finished"
STATES = IDLE_STATES | ACTIVE_STATES | {FINISHED}
#: a register beyond this (Wh) is not a meter reading but garbage (10^12 Wh = 1 TWh)
MAX_WH = Decimal(10) ** 12


class PayloadError(InvalidInput):
    """An EVerest message that cannot be used; the message says why."""

    http_title = "Unusable EVerest message"


@dataclass(frozen=True)
class SessionInfo:
    state: str
    charged_wh: Decimal
    duration_s: int
    at: datetime


@dataclass(frozen=True)
class Powermeter:
    total_wh: Decimal
    meter_id: str | None
    at: datetime | None


@dataclass(frozen=True)
class SessionEvent:
    uuid: str
    event: str
    at: datetime | None
    meter_wh: Decimal | None = None  # transaction start / finish register
    meter_id: str | None = None
    signed: str | None = None  # signed meter value (OCMF text or envelope) as sent
    id_tag: str | None = None
    reason: str | None = None


def _json(payload: bytes) -> Any:
    if len(payload) > MAX_PAYLOAD:
        raise PayloadError(f"{len(payload)} bytes, more than the {MAX_PAYLOAD} an EVerest message may have")
    try:
        return loads(payload, LIMITS, exact=True)
    except JsonRefused as exc:
        raise PayloadError(f"not JSON we take: {exc}") from None


def _object(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        raise PayloadError(f"{what} is missing")
    if not isinstance(value, dict):
        raise PayloadError(f"{what} must be a JSON object, not {kind_of(value)}")
    return value


def _top(payload: bytes, what: str) -> dict[str, Any]:
    value = _json(payload)
    if not isinstance(value, dict):
        raise PayloadError(f"{what} must be a JSON object, not {kind_of(value)}")
    return value


def _number(obj: dict[str, Any], key: str, what: str) -> Decimal:
    if key not in obj:
        raise PayloadError(f"{what}: {key} is missing")
    v = obj[key]
    if isinstance(v, bool) or not isinstance(v, (int, float, Decimal)):
        raise PayloadError(f"{what}: {key} = {str(v)[:40]!r} is not a number")
    try:
        d = Decimal(str(v)) if not isinstance(v, Decimal) else v
    except InvalidOperation:
        raise PayloadError(f"{what}: {key} = {v!r} is not a number") from None
    if not d.is_finite() or abs(d) > MAX_WH:
        raise PayloadError(f"{what}: {key} = {v!r} is out of range")
    return d


def _text(obj: dict[str, Any], key: str, max_chars: int = 200) -> str | None:
    v = obj.get(key)
    if v is None:
        return None
    if not isinstance(v, str):
        raise PayloadError(f"{key} = {str(v)[:40]!r} is not text")
    return v[:max_chars]


def parse_time(text: Any, what: str) -> datetime:
    """RFC 3339 (``2022-10-11T16:48:35.747Z``) → an aware datetime."""
    if not isinstance(text, str) or len(text) > 40:
        raise PayloadError(f"{what}: {str(text)[:40]!r} is not an RFC 3339 time")
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise PayloadError(f"{what}: {text!r} is not an RFC 3339 time") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def connectors(payload: bytes) -> list[str]:
    """``<prefix>/connectors``: the connector names, each usable as a topic level."""
    value = _json(payload)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PayloadError("connectors must be a JSON array of names")
    if len(value) > MAX_CONNECTORS:
        raise PayloadError(f"{len(value)} connectors, more than {MAX_CONNECTORS}")
    for name in value:
        if not name or len(name) > MAX_NAME or any(c in name for c in "/+#\0"):
            raise PayloadError(f"connector name {name[:40]!r} cannot be a topic level")
    return list(dict.fromkeys(value))


def session_info(payload: bytes) -> SessionInfo:
    obj = _top(payload, "session_info")
    state = obj.get("state")
    if state not in STATES:
        raise PayloadError(f"session_info: state {str(state)[:40]!r} is not one of EVerest's states")
    charged = _number(obj, "charged_energy_wh", "session_info")
    duration = _number(obj, "charging_duration_s", "session_info")
    if charged < 0:
        raise PayloadError(f"session_info: charged_energy_wh = {charged} is negative")
    return SessionInfo(str(state), charged, max(0, int(duration)), parse_time(obj.get("datetime"), "session_info"))


def _meter(obj: dict[str, Any], what: str) -> Powermeter:
    energy = _object(obj.get("energy_Wh_import"), f"{what}: energy_Wh_import")
    total = _number(energy, "total", f"{what}: energy_Wh_import")
    if total < 0:
        raise PayloadError(f"{what}: energy_Wh_import.total = {total} is negative")
    at = None
    ts = obj.get("timestamp")
    if isinstance(ts, (int, float, Decimal)) and not isinstance(ts, bool):
        try:
            at = datetime.fromtimestamp(float(ts), timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise PayloadError(f"{what}: timestamp {ts!r} is out of range") from None
    elif ts is not None:
        at = parse_time(ts, f"{what}: timestamp")
    return Powermeter(total, _text(obj, "meter_id"), at)


def powermeter(payload: bytes) -> Powermeter:
    return _meter(_top(payload, "powermeter"), "powermeter")


def _signed(value: Any) -> str | None:
    """``signed_meter_value``: text (older EVerest) or ``{signed_meter_data, …}`` (newer)."""
    if value is None:
        return None
    if isinstance(value, dict):
        data = value.get("signed_meter_data")
        return data if isinstance(data, str) else None
    return value if isinstance(value, str) else None


def session_event(payload: bytes) -> SessionEvent:
    """A framework variable message ``{"data": SessionEvent}`` (or the bare event)."""
    obj = _top(payload, "session_event")
    if "data" in obj and "event" not in obj:
        obj = _object(obj["data"], "session_event data")
    uuid, event = _text(obj, "uuid", 100), _text(obj, "event", 40)
    if not uuid or not event:
        raise PayloadError("session_event: uuid and event are required")
    detail = obj.get("transaction_started") or obj.get("transaction_finished")
    if event in ("TransactionStarted", "TransactionFinished"):
        d = _object(detail, f"session_event {event}: its data")
        meter = _meter(_object(d.get("meter_value"), f"{event}: meter_value"), f"{event}: meter_value")
        tag = d.get("id_tag")
        id_tag = tag.get("id_token") if isinstance(tag, dict) else tag
        if isinstance(id_tag, dict):  # newer ProvidedIdToken: {id_token: {value, type}}
            id_tag = id_tag.get("value")
        return SessionEvent(
            uuid,
            event,
            parse_time(d.get("timestamp"), f"{event}: timestamp"),
            meter.total_wh,
            meter.meter_id,
            _signed(d.get("signed_meter_value")),
            str(id_tag)[:100] if isinstance(id_tag, (str, int)) else None,
            _text(d, "reason", 40),
        )
    started = obj.get("session_started")
    at = started.get("timestamp") if isinstance(started, dict) else None
    return SessionEvent(uuid, event, None if at is None else parse_time(at, f"{event}: timestamp"))
