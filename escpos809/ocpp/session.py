"""One charging session and what a receipt needs from it (reference §7): energy from the
register as the sum of non-negative steps in time order, times, and cost by precedence.
Everything is Decimal; nothing here does I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

from .ocmf import OcmfRecord

W_RESET = "energy register went backwards (meter reset?): that step is not counted"
W_METER_STOP = "meterStop is negative (unknown): energy from the meter samples"
W_NO_STOP = "no StopTransaction / Ended event: the session ended when the next one started on the connector"
W_TWO_VALUES = "two different register readings at the same time: the first is kept"
W_OFFLINE_ZERO = "offline Transaction.Begin reading of 0 Wh ignored (it would bill the whole meter)"
W_REUSED = "the station started a new session under this transactionId: this one ended there"

#: a session keeps at most this many distinct warnings of at most WARNING_CHARS each: a
#: station sending a new reason in every frame (failureReason) grows neither memory nor receipt
MAX_WARNINGS = 20
WARNING_CHARS = 200
W_MORE = "more warnings than a receipt shows: the rest are not kept"

CHARGING = ("Charging", "SuspendedEV", "SuspendedEVSE")  # connector states of a session charging
FINAL, STATION, PROVISIONAL, ESTIMATE, PENDING = "final", "station", "provisional", "estimate", "pending"
CENTS = Decimal("0.01")


@dataclass
class Cost:
    gross: Decimal
    kind: str  # FINAL | STATION | PROVISIONAL | ESTIMATE
    source: str  # where it came from, printed on the receipt
    net: Decimal | None = None  # exclusive of tax, when the source says it
    currency: str | None = None


@dataclass
class Session:
    cp: str
    tx: str
    version: str
    aliases: list[str] = field(default_factory=list)
    connector: int | None = None
    evse: int | None = None
    id_token: str | None = None
    start: datetime | None = None
    stop: datetime | None = None
    meter_start: Decimal | None = None  # Wh
    meter_stop: Decimal | None = None  # Wh (None: unknown or -1)
    samples: dict[datetime, Decimal] = field(default_factory=dict)  # register, Wh, by time
    stop_reason: str | None = None
    seq_nos: set[int] = field(default_factory=set)
    ended_seq: int | None = None
    charging_states: list[tuple[datetime, str]] = field(default_factory=list)
    time_spent_charging: int | None = None
    final_cost: Cost | None = None
    station_cost: Cost | None = None
    running_cost: Cost | None = None
    qr_text: str | None = None  # California Pricing qrCodeText
    receipt_url: str | None = None  # 2.1 NotifySettlement(Response) receiptUrl
    receipt_id: str | None = None
    price_text: str | None = None
    settlement: dict | None = None
    signed: list[tuple[str, OcmfRecord]] = field(default_factory=list)  # (context, record)
    public_keys: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    ended: bool = False  # Stop / Ended seen
    ended_received: float | None = None  # arrival time of that event (for the grace period)
    ended_replied: bool = False  # the CSMS answered the Ended event (2.x)
    settled: bool = False  # 2.1 NotifySettlementResponse seen
    last_seen: float = 0.0
    #: the how-many-th session under this transactionId on this station (a station that
    #: restarts its numbering after a reboot hands out 1, 2, … again): 0 for the first
    epoch: int = 0
    #: the connector's statuses (1.6 StatusNotification) from just before the start on
    connector_states: list[tuple[datetime, str]] = field(default_factory=list)
    start_identities: list[tuple[object, ...]] = field(default_factory=list)  # 1.6: to merge retried starts

    @property
    def key(self) -> tuple[str, str]:
        """The session's identity: (cp, :func:`key_tx`)."""
        return (self.cp, key_tx(self.tx, self.epoch))

    def warn(self, text: str) -> None:
        if len(text) > WARNING_CHARS:
            text = text[: WARNING_CHARS - 1] + "…"
        if text in self.warnings:
            return
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(text)
        elif self.warnings[-1] != W_MORE:
            self.warnings.append(W_MORE)

    def add_sample(self, at: datetime, wh: Decimal) -> None:
        old = self.samples.get(at)
        if old is None:
            self.samples[at] = wh
        elif old != wh:
            self.warn(W_TWO_VALUES)

    # --- what the receipt shows ---------------------------------------------------------
    def series(self) -> list[tuple[datetime, Decimal]]:
        """meterStart at the start, the samples, meterStop at the stop: one value per time,
        a sample winning over meterStart/meterStop at the same time; in time order."""
        points = dict(self.samples)
        if self.start is not None and self.meter_start is not None:
            points.setdefault(self.start, self.meter_start)
        if self.stop is not None and self.meter_stop is not None:
            points.setdefault(self.stop, self.meter_stop)
        return sorted(points.items())

    def energy_wh(self) -> tuple[Decimal | None, bool]:
        """(Σ of non-negative steps, whether the register ever went backwards); the energy is
        None when there are fewer than two readings (unknown, not 0)."""
        series = self.series()
        if len(series) < 2:
            return None, False
        steps = [b - a for (_, a), (_, b) in pairwise(series)]
        return sum((d for d in steps if d >= 0), Decimal(0)), any(d < 0 for d in steps)

    def meter_bounds(self) -> tuple[Decimal | None, Decimal | None]:
        series = self.series()
        return (series[0][1], series[-1][1]) if series else (None, None)

    def duration_s(self) -> int | None:
        if self.start is None or self.stop is None:
            return None
        return int((self.stop - self.start).total_seconds())

    def charging_s(self) -> int | None:
        """timeSpentCharging, else the Charging intervals from chargingState / status."""
        if self.time_spent_charging is not None:
            return self.time_spent_charging
        if not self.charging_states or self.start is None or self.stop is None:
            return None
        total, states = 0.0, sorted(self.charging_states)
        for (at, state), nxt in pairwise([*states, (self.stop, "")]):
            if state == "Charging":
                a, b = max(at, self.start), min(nxt[0], self.stop)
                total += max(0.0, (b - a).total_seconds())
        return int(total)

    def cost(self) -> Cost | None:
        """By precedence: CSMS final → station costDetails → last running (provisional)."""
        return self.final_cost or self.station_cost or self.running_cost


def key_tx(tx: str, epoch: int = 0) -> str:
    """The transactionId as a session's key: as sent the first time, ``tx~n`` for its n-th
    reuse; an id that has a ``~`` of its own always carries its ``~n`` (``5~1`` sent by a
    station is ``5~1~0``), so no two sessions share a key."""
    return tx if not epoch and "~" not in tx else f"{tx}~{epoch}"


def money(value: Decimal) -> Decimal:
    return value.quantize(CENTS, rounding=ROUND_HALF_UP)
