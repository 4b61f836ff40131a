"""One EVerest charging session as seen from MQTT (``Charge``) and what a connector is doing
(``Connector``); both round-trip through JSON for the SQLite store. Pure data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

IDLE, OPEN, FINISHED = "idle", "open", "finished"
#: a charge keeps at most this many state changes (a flapping EV must not grow it without end)
MAX_STATES = 200
_DECIMALS = {"charged_wh", "register_start", "register_end", "tx_start_wh", "tx_end_wh"}


@dataclass
class Charge:
    connector: str
    key: str  # the receipt's identity: the session_event uuid, else "<connector>@<start>"
    start: datetime | None = None
    start_estimated: bool = False  # the listener joined mid-session: start = end - duration
    stop: datetime | None = None
    charged_wh: Decimal | None = None  # session_info charged_energy_wh (last seen)
    duration_s: int | None = None  # session_info charging_duration_s (last seen)
    register_start: Decimal | None = None  # powermeter energy_Wh_import.total at the start
    register_end: Decimal | None = None  # … the latest while charging
    meter_id: str | None = None
    uuid: str | None = None
    tx_start_wh: Decimal | None = None  # session_event TransactionStarted meter_value
    tx_end_wh: Decimal | None = None  # session_event TransactionFinished meter_value
    signed_start: str | None = None
    signed_end: str | None = None
    id_tag: str | None = None
    reason: str | None = None
    states: list[tuple[datetime, str]] = field(default_factory=list)
    ended_at: float | None = None  # wall clock when its end was first seen
    warnings: list[str] = field(default_factory=list)

    def warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)

    def add_state(self, at: datetime, state: str) -> None:
        if (not self.states or self.states[-1][1] != state) and len(self.states) < MAX_STATES:
            self.states.append((at, state))

    def fingerprint(self) -> str:
        """What stays the same in every republication of the finished session: EVerest
        freezes the energy and the duration when charging stops."""
        return f"{self.charged_wh}:{self.duration_s}"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "states":
                v = [[at.isoformat(), s] for at, s in v]
            elif isinstance(v, datetime):
                v = v.isoformat()
            elif isinstance(v, Decimal):
                v = str(v)
            out[f.name] = v
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Charge:
        kw: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            v = data[f.name]
            if v is not None and f.name in ("start", "stop"):
                v = datetime.fromisoformat(v)
            elif v is not None and f.name in _DECIMALS:
                v = Decimal(v)
            elif f.name == "states":
                v = [(datetime.fromisoformat(at), s) for at, s in v]
            kw[f.name] = v
        return cls(**kw)


@dataclass
class Connector:
    name: str
    phase: str = IDLE  # IDLE, OPEN (a charge is current) or FINISHED (printed or pending)
    current: Charge | None = None
    last_fingerprint: str | None = None  # of the charge that ended last
    last_uuid: str | None = None  # of the charge that ended last
    last_key: str | None = None  # … and its receipt key
    register: Decimal | None = None  # the latest powermeter reading
    meter_id: str | None = None
    #: when the charge that ended last started and ended: a car state dated between is late
    last_start: datetime | None = None
    last_end: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "phase": self.phase,
            "current": self.current.to_json() if self.current else None,
            "last_fingerprint": self.last_fingerprint,
            "last_uuid": self.last_uuid,
            "last_key": self.last_key,
            "register": None if self.register is None else str(self.register),
            "meter_id": self.meter_id,
            "last_start": self.last_start.isoformat() if self.last_start else None,
            "last_end": self.last_end.isoformat() if self.last_end else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Connector:
        return cls(
            data["name"],
            data.get("phase", IDLE),
            Charge.from_json(data["current"]) if data.get("current") else None,
            data.get("last_fingerprint"),
            data.get("last_uuid"),
            data.get("last_key"),
            None if data.get("register") is None else Decimal(data["register"]),
            data.get("meter_id"),
            datetime.fromisoformat(data["last_start"]) if data.get("last_start") else None,
            datetime.fromisoformat(data["last_end"]) if data.get("last_end") else None,
        )
