"""Meter values and timestamps as real chargers send them, read leniently and in Decimal.

Reference §7.5 and §7.7: values may be JSON strings or numbers, carry a comma decimal
separator or a unit inside the text (``"14.4kW"``, ``"0.5 kWh"``); timestamps may lack an
offset (then they are station-local time, flagged).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from ..errors import InvalidInput

#: energy units → Wh factor (any other unit on an energy register is refused)
ENERGY_UNITS = {"wh": Decimal(1), "kwh": Decimal(1000)}
_NUMBER_UNIT = re.compile(r"^\s*([+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?)\s*([A-Za-z%]+)?\s*$")
W_NAIVE = "timestamp without offset: read as station local time"
W_UNIT_IN_VALUE = "unit embedded in a meter value"
W_COMMA = "comma decimal separator in a meter value"
W_NUMERIC = "meter value sent as a JSON number (1.6 wants a string)"


class BadValue(InvalidInput):
    """A value that cannot be read at all."""

    http_title = "Unreadable value"


@dataclass(frozen=True)
class Reading:
    value: Decimal
    unit_in_value: str | None
    warnings: tuple[str, ...]


def to_decimal(value: object) -> Decimal:
    """JSON numbers arrive as Decimal (parse_float=Decimal) or int; a float from an
    already-parsed object goes through its shortest repr, never binary expansion."""
    if isinstance(value, bool):
        raise BadValue(f"{value!r} is not a number")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):  # a number sent as text (some CSMSs quote costs)
        try:
            number = Decimal(value.strip().replace(",", "."))
        except InvalidOperation:
            raise BadValue(f"{value!r} is not a number") from None
        if number.is_finite():
            return number
    raise BadValue(f"{value!r} is not a number")


def parse_value(value: object, version: str) -> Reading:
    """A sampled value → Decimal, with the unit if one was written into the text."""
    warnings: list[str] = []
    if isinstance(value, str):
        m = _NUMBER_UNIT.match(value)
        if not m:
            raise BadValue(f"meter value {value!r} is not a number")
        text, unit = m.group(1), m.group(2)
        if "," in text:
            warnings.append(W_COMMA)
            text = text.replace(",", ".")
        if unit:
            warnings.append(W_UNIT_IN_VALUE)
        try:
            return Reading(Decimal(text), unit, tuple(warnings))
        except InvalidOperation:
            raise BadValue(f"meter value {value!r} is not a number") from None
    number = to_decimal(value)
    if version == "1.6":
        warnings.append(W_NUMERIC)
    return Reading(number, None, tuple(warnings))


def energy_wh(value: object, unit: str | None, multiplier: int, version: str) -> tuple[Decimal, list[str]]:
    """An energy register value in Wh (unit default Wh; 2.x multiplier is a power of ten)."""
    r = parse_value(value, version)
    unit = r.unit_in_value or unit or "Wh"
    factor = ENERGY_UNITS.get(unit.lower())
    if factor is None:
        raise BadValue(f"unit {unit!r} is not an energy unit (Wh or kWh)")
    return r.value * factor * (Decimal(10) ** multiplier), list(r.warnings)


def parse_time(text: object, tz: ZoneInfo) -> tuple[datetime, list[str]]:
    """ISO 8601 → aware UTC datetime; without an offset it is station-local (flagged)."""
    if not isinstance(text, str) or not text:
        raise BadValue(f"timestamp {text!r} is not a string")
    s = text.strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        raise BadValue(f"timestamp {text!r} is not ISO 8601") from None
    if dt.tzinfo is None:
        return dt.replace(tzinfo=tz).astimezone(timezone.utc), [W_NAIVE]
    return dt.astimezone(timezone.utc), []
