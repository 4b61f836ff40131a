"""A finished EVerest charge → the OCPP side's session model → its summary and receipt
document (``escpos809.ocpp.receipt``: one layout for every charging receipt). Which energy is
billed: the session events' transaction meter values when both arrived (the meter's own
register, signed where the meter signs), else EVerest's ``charged_energy_wh``; the other
figure is the cross-check, and a difference beyond the tolerance is said on the receipt."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..errors import Escpos809Error
from ..ocpp import ocmf
from ..ocpp.config import OcppConfig
from ..ocpp.receipt import Summary, document, summarize
from ..ocpp.session import Session
from .charge import Charge
from .config import EverestConfig

log = logging.getLogger("escpos809.everest")
SOURCE_EVENTS = "EVerest transaction meter values"
SOURCE_INFO = "EVerest charged_energy_wh"
W_UNCHECKED = "energy not cross-checked: the meter register was not seen at the start"


@dataclass
class EverestSession(Session):
    """The OCPP session model with the energy and meter bounds EVerest reported, not a
    series of OCPP samples."""

    billed_wh: Decimal | None = None
    meter_start_wh: Decimal | None = None
    meter_end_wh: Decimal | None = None
    energy_from: str = SOURCE_INFO

    def energy_wh(self) -> tuple[Decimal | None, bool]:
        return self.billed_wh, False

    def meter_bounds(self) -> tuple[Decimal | None, Decimal | None]:
        return self.meter_start_wh, self.meter_end_wh


def _kwh(wh: Decimal) -> str:
    return f"{(wh / 1000).quantize(Decimal('0.001'))} kWh"


def energy(ch: Charge, cfg: EverestConfig) -> tuple[Decimal | None, str, Decimal | None, Decimal | None, list[str]]:
    """(billed Wh, source, meter start, meter end, warnings) of a charge."""
    warnings: list[str] = []
    billed: Decimal | None
    start: Decimal | None
    end: Decimal | None
    if ch.tx_start_wh is not None and ch.tx_end_wh is not None:
        billed, source = ch.tx_end_wh - ch.tx_start_wh, SOURCE_EVENTS
        start, end = ch.tx_start_wh, ch.tx_end_wh
        other, other_name = ch.charged_wh, "EVerest's charged_energy_wh"
    else:
        billed, source = ch.charged_wh, SOURCE_INFO
        start, end = ch.register_start, ch.register_end
        other = end - start if start is not None and end is not None else None
        other_name = f"the meter register{f' ({ch.meter_id})' if ch.meter_id else ''}"
    if billed is not None and billed < 0:
        warnings.append(f"the meter values go backwards ({_kwh(billed)}): no billable energy")
        billed = None
    if billed is not None and other is not None:
        diff = abs(billed - other)
        if diff > cfg.tolerance(billed):
            text = (
                f"energy check: {_kwh(billed)} billed, {other_name} says {_kwh(other)} "
                f"({diff.normalize():f} Wh apart, more than {cfg.tolerance(billed).normalize():f} Wh)"
            )
            warnings.append(text)
            log.warning("EVerest session %s on %s: %s", ch.key, ch.connector, text)
    elif billed is not None and source == SOURCE_INFO and not ch.start_estimated:
        warnings.append(W_UNCHECKED)
    return billed, source, start, end, warnings


def session(ch: Charge, cfg: EverestConfig, number: int | None) -> EverestSession:
    """The charge as the OCPP session model (cp = the connector's name, tx = the charge's key)."""
    billed, source, start, end, warnings = energy(ch, cfg)
    s = EverestSession(
        cp=ch.connector,
        tx=ch.key,
        version="everest",
        connector=number,
        id_token=ch.id_tag,
        start=ch.start,
        stop=ch.stop,
        stop_reason=ch.reason,
        charging_states=list(ch.states),
        billed_wh=billed,
        meter_start_wh=start,
        meter_end_wh=end,
        energy_from=source,
    )
    for w in [*ch.warnings, *warnings]:
        s.warn(w)
    for context, text in (("Transaction.Begin", ch.signed_start), ("Transaction.End", ch.signed_end)):
        if not text:
            continue
        try:
            record = ocmf.find(text, "2.0.1")
        except Escpos809Error as exc:
            s.warn(f"signed meter value ({context}) unreadable: {exc}")
            continue
        if record is not None:
            s.signed.append((context, record))
    s.ended = True
    return s


def build(ch: Charge, cfg: EverestConfig, ocpp: OcppConfig, number: int | None) -> tuple[Summary, dict[str, Any]]:
    """The summary and receipt document of a finished charge."""
    s = session(ch, cfg, number)
    summary = summarize(s, ocpp)
    if not ocpp.eichrecht:  # with Eichrecht the OCPP side bills the signed readings and says so
        summary = dataclasses.replace(summary, energy_source=s.energy_from)
    return summary, document(summary, ocpp)
