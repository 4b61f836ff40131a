"""A finished session → its figures (``summarize``) and a receipt document for the layout
engine (``document``): the fields of reference §9, cost with its source, warnings where
data was estimated, an Eichrecht block and the QR code."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TypedDict

from . import ocmf
from .config import OcppConfig
from .session import ESTIMATE, PENDING, PROVISIONAL, W_RESET, Cost, Session, money

END_KINDS = "ELRAP"
W_EICHRECHT = "Eichrecht: no signed begin and end readings, so no billable kWh"
W_EF_ENERGY = "Eichrecht: the meter flags its energy as unusable (EF E)"
W_EF_TIME = "Eichrecht: the meter flags its time as unusable (EF t): no time-based prices"
W_PENDING = "cost pending: no final cost from the CSMS yet"
W_ESTIMATE = "cost estimated from the local tariff"
W_PROVISIONAL = "cost provisional: the last running cost, not a final one"
W_SIGNATURE = "signed meter data failed verification"


class SignedData(TypedDict):
    """One signed meter record of the session, as the receipt and the JSON show it."""

    context: str  # the sampled value's context (Transaction.Begin, …)
    pagination: str  # OCMF PG
    meter_serial: str  # OCMF MS (or GS)
    signature: str  # ocmf.verify(): valid, INVALID, no public key, unsupported …
    record: str  # the OCMF record as received


@dataclass
class Summary:
    cp: str
    tx: str
    station: str
    connector: int | None
    start: datetime | None
    stop: datetime | None
    duration_s: int | None
    charging_s: int | None
    idle_s: int | None
    energy_wh: Decimal | None
    meter_start_wh: Decimal | None
    meter_stop_wh: Decimal | None
    energy_source: str
    cost: Cost | None
    net: Decimal | None
    vat: Decimal | None
    currency: str
    id_token: str | None
    stop_reason: str | None
    qr: str | None
    signed: list[SignedData] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    session: str = ""  # the receipt's key: the transactionId, marked ~n when the station reused it
    merged: list[str] = field(default_factory=list)  # transactionIds of retried starts merged in

    def to_json(self) -> dict[str, Any]:
        def t(dt: datetime | None) -> str | None:
            return dt.isoformat() if dt else None

        def n(v: Decimal | None) -> str | None:
            return str(v) if v is not None else None

        return {
            "cp": self.cp,
            "transaction": self.tx,
            "station": self.station,
            "connector": self.connector,
            "start": t(self.start),
            "stop": t(self.stop),
            "duration_s": self.duration_s,
            "charging_s": self.charging_s,
            "idle_s": self.idle_s,
            "energy_kwh": n(kwh(self.energy_wh)),
            "meter_start_kwh": n(kwh(self.meter_start_wh)),
            "meter_stop_kwh": n(kwh(self.meter_stop_wh)),
            "energy_source": self.energy_source,
            "cost": n(self.cost.gross) if self.cost else None,
            "cost_kind": self.cost.kind if self.cost else PENDING,
            "cost_source": self.cost.source if self.cost else None,
            "net": n(self.net),
            "vat": n(self.vat),
            "currency": self.currency,
            "id_token": mask(self.id_token),
            "stop_reason": self.stop_reason,
            "qr": self.qr,
            "signed": self.signed,
            "warnings": self.warnings,
            "session": self.session or self.tx,
            "merged": self.merged,
        }


def kwh(wh: Decimal | None) -> Decimal | None:
    return None if wh is None else (wh / 1000).quantize(Decimal("0.001"))


def mask(token: str | None) -> str | None:
    if not token:
        return None
    return "*" * max(0, len(token) - 4) + token[-4:] if len(token) > 4 else "*" * len(token)


def _eichrecht_energy(s: Session, warnings: list[str]) -> Decimal | None:
    readings = [r for _, rec in s.signed for r in rec.readings]
    begin = next((r for r in readings if r.kind == "B"), None)
    end = next((r for r in reversed(readings) if r.kind in END_KINDS), None)
    if begin is None or end is None or (begin.obis, begin.unit) != (end.obis, end.unit):
        warnings.append(W_EICHRECHT)
        return None
    if any("E" in r.error_flags for r in (begin, end)):
        warnings.append(W_EF_ENERGY)
        return None
    if any("t" in r.error_flags for r in (begin, end)):
        warnings.append(W_EF_TIME)
    return end.wh - begin.wh


def _estimate(
    s: Session, cfg: OcppConfig, energy_wh: Decimal | None, charging_s: int | None, idle_s: int | None, time_ok: bool
) -> Cost | None:
    t = cfg.tariff
    if not t.any or energy_wh is None:
        return None
    total = t.session_fee or Decimal(0)
    if t.price_kwh is not None:
        total += energy_wh / 1000 * t.price_kwh
    if time_ok and t.price_minute is not None and charging_s is not None:
        total += Decimal(charging_s) / 60 * t.price_minute
    if time_ok and t.idle_minute is not None and idle_s is not None:
        total += max(Decimal(0), Decimal(idle_s) / 60 - t.idle_grace_minutes) * t.idle_minute
    return Cost(money(total), ESTIMATE, "estimate from the local tariff")


def summarize(s: Session, cfg: OcppConfig) -> Summary:
    warnings = list(s.warnings)
    energy, went_back = s.energy_wh()
    if went_back:
        warnings.append(W_RESET)
    if s.seq_nos:
        missing = sorted(set(range(min(s.seq_nos), max(s.seq_nos) + 1)) - s.seq_nos)
        if missing:
            warnings.append(
                f"TransactionEvent seqNo {', '.join(map(str, missing[:5]))} never arrived: events are missing"
            )
    if s.start is None:
        warnings.append("no start event: start time and meter start unknown")
    meter_start, meter_stop = s.meter_bounds()
    source = "meter register"
    if cfg.eichrecht:
        energy, source = _eichrecht_energy(s, warnings), "signed meter readings (OCMF)"
    duration, charging = s.duration_s(), s.charging_s()
    idle = duration - charging if duration is not None and charging is not None else None
    signed: list[SignedData] = []
    for context, rec in s.signed:
        status = ocmf.verify(rec, cfg.key_for(s.cp, rec.meter_serial))
        signed.append(
            {
                "context": context,
                "pagination": rec.pagination,
                "meter_serial": rec.meter_serial,
                "signature": status,
                "record": rec.raw,
            }
        )
        if status == ocmf.INVALID and W_SIGNATURE not in warnings:
            warnings.append(W_SIGNATURE)
    cost = s.cost() or _estimate(s, cfg, energy, charging, idle, W_EF_TIME not in warnings)
    net = vat = None
    rate = cfg.tariff.vat_percent
    if cost is not None and (cost.net is not None or rate is not None):
        gross = money(cost.gross)
        net = money(cost.net) if cost.net is not None else money(gross / (1 + rate / 100))  # type: ignore[operator]
        vat = gross - net
    qr = s.receipt_url or s.qr_text
    if not qr and cfg.receipt_url:
        qr = cfg.receipt_url.format(cp=s.cp, tx=s.tx, receipt_id=s.receipt_id or s.tx)
    return Summary(
        s.cp,
        s.tx,
        cfg.station_names.get(s.cp, s.cp),
        s.evse or s.connector,
        s.start,
        s.stop,
        duration,
        charging,
        idle,
        energy,
        meter_start,
        meter_stop,
        source,
        cost,
        net,
        vat,
        (cost.currency if cost and cost.currency else cfg.tariff.currency),
        s.id_token,
        s.stop_reason,
        qr,
        signed,
        warnings,
        s.key[1],
        list(s.aliases),
    )


def cost_note(cost: Cost | None) -> str | None:
    """The warning a receipt carries when its total is not the CSMS's final figure."""
    if cost is None:
        return W_PENDING
    return {ESTIMATE: W_ESTIMATE, PROVISIONAL: W_PROVISIONAL}.get(cost.kind)


def _hms(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    h, rest = divmod(int(seconds), 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}"


def _local(dt: datetime | None, cfg: OcppConfig) -> str:
    if dt is None:
        return "-"
    text = dt.astimezone(cfg.tz).isoformat(" ", "seconds")  # 2025-03-01 10:00:00+01:00
    # an offset with seconds (old local mean times) is shown to the minute, as %z would
    return f"{text[:19]} {text[19:25]}"


def _kwh(wh: Decimal | None) -> str:
    return "-" if wh is None else f"{kwh(wh)} kWh"


def document(summary: Summary, cfg: OcppConfig) -> dict[str, Any]:
    """The receipt as a layout document (escpos809.document)."""
    s, cur = summary, summary.currency

    def kv(k: str, v: object, **kw: object) -> dict[str, object]:
        return {"type": "kv", "key": k, "value": str(v)[:200], **kw}

    blocks: list[dict[str, object]] = [
        {"type": "text", "text": cfg.operator, "bold": True, "width": 2, "height": 2, "align": "center"}
    ]
    if cfg.address:
        blocks.append({"type": "text", "text": cfg.address, "align": "center"})
    if cfg.vat_id:
        blocks.append({"type": "text", "text": f"VAT ID {cfg.vat_id}", "align": "center"})
    blocks += [
        {"type": "rule"},
        {"type": "text", "text": "CHARGING RECEIPT", "bold": True, "align": "center"},
        kv("Station", s.station),
    ]
    if s.connector is not None:
        blocks.append(kv("EVSE / connector", s.connector))
    blocks += [
        kv("Transaction", s.tx),
        kv("Start", _local(s.start, cfg)),
        kv("End", _local(s.stop, cfg)),
        kv("Duration", _hms(s.duration_s)),
    ]
    if s.charging_s is not None:
        blocks += [kv("Charging time", _hms(s.charging_s)), kv("Idle time", _hms(s.idle_s))]
    blocks += [
        kv("Energy", _kwh(s.energy_wh), bold=True),
        kv("Meter start", _kwh(s.meter_start_wh)),
        kv("Meter end", _kwh(s.meter_stop_wh)),
    ]
    if s.energy_source != "meter register":
        blocks.append(kv("Energy from", s.energy_source))
    if s.id_token:
        blocks.append(kv("Card / token", mask(s.id_token)))
    if s.stop_reason:
        blocks.append(kv("Stop reason", s.stop_reason))
    t = cfg.tariff
    tariff = [
        ("Energy", t.price_kwh, "kWh"),
        ("Charging time", t.price_minute, "min"),
        ("Session fee", t.session_fee, None),
        ("Idle", t.idle_minute, "min"),
    ]
    lines = [
        kv(
            f"Tariff {name.lower()}",
            f"{price} {t.currency}"
            + (f"/{per}" if per else "")
            + (f" after {t.idle_grace_minutes} min" if name == "Idle" and t.idle_grace_minutes else ""),
        )
        for name, price, per in tariff
        if price is not None
    ]
    if lines:
        blocks += [{"type": "rule"}, *lines]
    blocks.append({"type": "rule"})
    if s.cost is None:
        blocks.append(kv("TOTAL", "pending", bold=True))
    else:
        if s.net is not None and s.vat is not None:  # only with a VAT rate set, or the CSMS's net
            rate = f" {t.vat_percent.normalize():f}%" if t.vat_percent is not None else ""
            blocks += [kv("Net", f"{s.net:.2f} {cur}"), kv(f"VAT{rate}", f"{s.vat:.2f} {cur}")]
        blocks += [
            kv("TOTAL", f"{money(s.cost.gross):.2f} {cur}", bold=True, height=2),
            kv("Cost", s.cost.source),
        ]
    notes = list(s.warnings) + [cost_note(s.cost)] * (cost_note(s.cost) is not None)
    if notes:
        blocks.append({"type": "rule"})
        blocks += [{"type": "text", "text": f"! {w}"} for w in notes]
    for rec in s.signed:
        blocks += [
            {"type": "rule"},
            {"type": "text", "text": "Eichrecht: signed meter data (OCMF)", "bold": True},
            kv("OCMF page", rec["pagination"] or "-"),
            kv("Meter serial", rec["meter_serial"] or "-"),
            kv("Signature", rec["signature"]),
            {"type": "text", "text": "Check with the S.A.F.E. Transparenzsoftware."},
        ]
    if s.qr:
        blocks += [
            {"type": "feed", "lines": 1},
            {"type": "qr", "data": s.qr[:2000], "size": 6, "ec": "M"},
            {"type": "text", "text": s.qr[:200], "align": "center", "font": "B"},
        ]
    if cfg.qr_ocmf and s.signed:
        blocks += [
            {"type": "text", "text": "Signed meter data:", "align": "center"},
            {"type": "qr", "data": s.signed[-1]["record"][:2900], "size": 3, "ec": "L"},
        ]
    if cfg.footer:
        blocks += [{"type": "feed", "lines": 1}, {"type": "text", "text": cfg.footer, "align": "center"}]
    blocks.append({"type": "cut"})
    return {"version": 1, "blocks": blocks}
