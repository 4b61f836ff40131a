"""Frames → sessions: the transport-independent core, ``Assembler.feed(cp, direction, frame,
received_at)``. Pairs CALLs with their results by (charge point, message id), drops re-sent
CALLs, merges 1.6 start retries that got a new transactionId, orders readings by their
timestamps, and tracks 2.x seqNo gaps (reference §7.1-7.3). Pure: no I/O, no clock.

A frame costs the same whatever the history: sessions are found through indexes (by key, by
connector), the windows of ids are bounded (:mod:`.index`), and a finished session can be
:meth:`Assembler.evict`-ed; the ``retired`` hook then says whether a transactionId met again
belongs to that finished session (its frames are ignored) or starts a new one (a station that
restarted its numbering)."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from ..safejson import check_text, loads, shown
from . import frames as F
from . import ocmf
from .frames import Payload
from .keeper import W_FINISHED, Finished, Result, SessionKeeper
from .session import (
    CHARGING,
    FINAL,
    PROVISIONAL,
    STATION,
    W_METER_STOP,
    W_OFFLINE_ZERO,
    Cost,
    Session,
)
from .values import W_UNIT_IN_VALUE, BadValue, energy_wh, parse_time, to_decimal

#: what each reply handler (``_result_*``) reads of its CALL: only that waits for the reply
#: (a CALL may be 1 MiB, and 256 may wait per station)
FOR_REPLY = {
    "StartTransaction": ("connectorId", "idTag", "timestamp", "meterStart"),
    "TransactionEvent": ("eventType", "transactionInfo"),
    "NotifySettlement": ("transactionId",),
}
#: ids, times and readings are short: a CALL whose kept members are longer is garbage, and
#: its reply is not read
MAX_KEPT_CHARS = 1024
COSTMSG = "org.openchargealliance.costmsg"
ENERGY = "Energy.Active.Import.Register"


class Assembler(SessionKeeper):
    def __init__(self, tz: str | ZoneInfo = "UTC"):
        super().__init__()
        self.tz = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
        self.versions: dict[str, str] = {}
        self.declared: set[str] = set()  # charge points whose version the transport said

    # --- entry ------------------------------------------------------------------------------
    def feed(self, cp: str, dir_text: str, frame: object, received_at: float, version: str | None = None) -> Result:
        """One frame; never raises on bad input: the result says whether it was taken."""
        try:
            if not isinstance(cp, str) or not cp.strip():
                raise F.FrameError("charge point id missing")
            check_text(cp, "charge point id", F.MAX_CP_CHARS)  # the tap's frames come straight here
            d = F.direction(dir_text)
            f = F.parse(frame)
            received_at = float(received_at)
            if not math.isfinite(received_at):
                raise F.FrameError(f"receive time {received_at} is not a finite number")
        except (F.FrameError, ValueError, TypeError) as exc:  # check_text's InvalidData names the field
            return Result(False, str(exc))
        if version:
            if not isinstance(version, str) or version not in F.VERSIONS:
                return Result(False, f"version {shown(version)} is not 1.6, 2.0.1 or 2.1")
            self.station(cp)  # kept with the station's bookkeeping, forgotten with it
            self.versions[cp] = F.VERSIONS[version]
            self.declared.add(cp)
        res = Result(True, kind=f.kind, action=f.action)
        try:
            if f.kind in (F.CALL, F.SEND):
                self._call(cp, d, f, received_at, res)
            elif f.kind in (F.RESULT, F.ERROR, F.RESULT_ERROR):
                self._reply(cp, d, f, received_at, res)
        except Finished:
            res.warnings.append(W_FINISHED)
            res.sessions.clear()
        except (BadValue, ocmf.OcmfError, KeyError, TypeError, ValueError, AttributeError, ArithmeticError) as exc:
            # a payload we cannot read: refused with the reason, the stream goes on
            return Result(False, f"{f.action or 'reply'} {f.msg_id}: {exc}", kind=f.kind, action=f.action)
        return res

    # --- CALLs ------------------------------------------------------------------------------
    def _call(self, cp: str, d: str, f: F.Frame, now: float, res: Result) -> None:
        action = f.action
        assert action is not None, "parse() gives every CALL and SEND its action"
        station = self.station(cp)
        if action == "BootNotification" and d == F.UP:
            # message ids and transaction numbers may start again from here (even the boot's
            # own id: a counter from 1). A boot re-sent is harmless: what it sent before it
            # is still recognised by the session it belongs to (retired, seqNo, start time).
            station.rebooted()
        if not station.recent.add(d, f.msg_id):
            res.duplicate = True  # a re-sent CALL (same id, same direction): already counted
            return
        self._version(cp, action, f.payload)
        res.warnings += F.schema_warnings(self.versions.get(cp), action, f.payload)
        station.expect(f.msg_id, (d, action, _for_reply(action, f.payload)))
        handler = getattr(self, f"_call_{action}", None)
        if handler:
            handler(cp, d, f.payload, now, res)

    def _reply(self, cp: str, d: str, f: F.Frame, now: float, res: Result) -> None:
        st = self.stations.get(cp)
        call = st.pending.pop(f.msg_id, None) if st is not None else None
        if call is None:
            res.duplicate = True  # a reply to nothing we saw (or a second reply): nothing to do
            return
        call_dir, action, payload = call
        res.action = action
        if f.kind != F.RESULT:
            res.warnings.append(f"{action} answered with {f.error_code}: {f.error_description}")
            return
        res.warnings += F.schema_warnings(self.versions.get(cp), action, f.payload, response=True)
        handler = getattr(self, f"_result_{action}", None)
        if handler and payload is not None:
            handler(cp, payload, f.payload, now, res)

    def _forgot(self, cp: str) -> None:
        self.versions.pop(cp, None)
        self.declared.discard(cp)

    def _version(self, cp: str, action: str, payload: Payload) -> None:
        """What the station speaks: as the transport declared it (the WebSocket subprotocol),
        else as its actions reveal it, a 2.1-only action upgrading a guessed 2.0.1."""
        guess = F.guess_version(action, payload)
        if guess is None or cp in self.declared:
            return
        old = self.versions.get(cp)
        if old is None or (old == "2.0.1" and guess == "2.1"):
            self.versions[cp] = guess

    def _time(self, s: Session | None, text: object, res: Result) -> datetime:
        at, warnings = parse_time(text, self.tz)
        for w in warnings:
            res.warnings.append(w)
            if s is not None:
                s.warn(w)
        return at

    def _readings(
        self, s: Session, meter_values: list[Payload] | None, version: str, res: Result, offline: bool = False
    ) -> None:
        for mv in meter_values or []:
            at = self._time(s, mv["timestamp"], res)
            for sv in mv.get("sampledValue") or []:
                self._sampled(s, at, sv, version, res, offline)

    def _sampled(self, s: Session, at: datetime, sv: Payload, version: str, res: Result, offline: bool) -> None:
        context = sv.get("context", "Sample.Periodic")
        signed = sv.get("signedMeterValue")
        if signed is not None or sv.get("format") == "SignedData":
            record = ocmf.find(signed if signed is not None else sv.get("value"), version)
            if record is not None and all(r.raw != record.raw for _, r in s.signed):
                s.signed.append((context, record))
            return  # signed values are never read as energy (reference §7.4)
        if sv.get("measurand", ENERGY) != ENERGY or sv.get("phase"):
            return
        if version == "1.6":
            unit, mult = sv.get("unit"), 0
        else:
            uom = sv.get("unitOfMeasure") or {}
            unit, mult = uom.get("unit"), int(uom.get("multiplier", 0))
        wh, warnings = energy_wh(sv["value"], unit, mult, version)
        res.warnings += warnings
        if W_UNIT_IN_VALUE in warnings:  # a unit written into the value casts doubt on the unit
            s.warn(W_UNIT_IN_VALUE)
        if offline and context == "Transaction.Begin" and wh == 0:
            s.warn(W_OFFLINE_ZERO)
            return
        s.add_sample(at, wh)

    # --- 1.6 --------------------------------------------------------------------------------
    def _call_StartTransaction(self, cp: str, d: str, p: Payload, now: float, res: Result) -> None:
        # the session exists once the CSMS hands out the transactionId (CALLRESULT)
        self._time(None, p["timestamp"], res)

    def _result_StartTransaction(self, cp: str, call: Payload, reply: Payload, now: float, res: Result) -> None:
        tx = str(int(reply["transactionId"]))
        identity = (cp, call.get("connectorId"), call.get("idTag"), call.get("timestamp"), str(call.get("meterStart")))
        first = self.starts.get(identity)
        if first is not None and self.alias.get((cp, tx), (cp, tx)) != first:
            # a retried StartTransaction that got a new id: the same session (SteVe does the same)
            self.alias[(cp, tx)] = first
            s = self.sessions[first]
            s.aliases.append(tx)
            merged = f"StartTransaction retried: transactionId {tx} merged into {s.tx} (same start sent twice)"
            s.warn(merged)
            res.warnings.append(merged)
            self._touch(s, now, res)
            return
        at, _ = parse_time(call["timestamp"], self.tz)
        s = self._started(cp, tx, "1.6", at, now, res)
        self.starts[identity] = s.key
        s.start_identities.append(identity)
        s.id_token = call.get("idTag")
        s.start = self._time(s, call["timestamp"], res)
        s.meter_start = to_decimal(call["meterStart"])
        status = (reply.get("idTagInfo") or {}).get("status")
        if status and status != "Accepted":
            s.warn(f"idTag {status} by the CSMS")
        self._on_connector(s, int(call["connectorId"]))
        self._close_open_on_connector(cp, s.connector, s.key, res)

    def _call_MeterValues(self, cp: str, d: str, p: Payload, now: float, res: Result) -> None:
        tx = p.get("transactionId")
        if tx is None:
            return  # 2.x MeterValues and 1.6 without a transaction: not a session's energy
        s = self._get(cp, tx, "1.6", now, res)
        if s.connector is None and p.get("connectorId"):
            self._on_connector(s, int(p["connectorId"]))
        self._readings(s, p.get("meterValue"), "1.6", res)

    def _call_StopTransaction(self, cp: str, d: str, p: Payload, now: float, res: Result) -> None:
        s = self._get(cp, p["transactionId"], "1.6", now, res)
        s.stop = self._time(s, p["timestamp"], res)
        meter_stop = to_decimal(p["meterStop"])
        if meter_stop < 0:
            s.warn(W_METER_STOP)
            s.meter_stop = None
        else:
            s.meter_stop = meter_stop
        s.stop_reason = p.get("reason") or "Local"  # omitted means Local (1.6 schema)
        if p.get("idTag") and not s.id_token:
            s.id_token = p["idTag"]
        self._readings(s, p.get("transactionData"), "1.6", res)
        if not s.ended:
            s.ended, s.ended_received = True, now

    def _call_StatusNotification(self, cp: str, d: str, p: Payload, now: float, res: Result) -> None:
        if "connectorStatus" in p:  # 2.x: Occupied / Available say nothing about charging
            return
        at = self._time(None, p["timestamp"], res) if p.get("timestamp") else datetime.fromtimestamp(now, timezone.utc)
        state = (at, p["status"])
        c = self._connector(cp, int(p["connectorId"]))
        c.statuses.append(state)
        for key in list(c.sessions):  # the sessions on this connector still in memory: a few
            s = self.sessions[key]
            if s.version != "1.6":
                continue
            s.connector_states.append(state)
            if state[1] in CHARGING:
                s.charging_states = s.connector_states
            if s.ended:  # the status after its end is its last (Finishing, Available)
                del c.sessions[key]

    def _call_DataTransfer(self, cp: str, d: str, p: Payload, now: float, res: Result) -> None:
        if p.get("vendorId") != COSTMSG or p.get("messageId") not in ("FinalCost", "RunningCost"):
            return
        data = p.get("data")
        data = loads(data, exact=True) if isinstance(data, str) else F.exact_numbers(data or {})
        s = self._get(cp, data["transactionId"], self.versions.get(cp, "1.6"), now, res)
        cost = to_decimal(data["cost"])
        if p["messageId"] == "FinalCost":
            s.final_cost = Cost(cost, FINAL, "CSMS final cost (DataTransfer FinalCost)")
        else:
            s.running_cost = Cost(cost, PROVISIONAL, "running cost (DataTransfer RunningCost)")
        s.qr_text = data.get("qrCodeText") or s.qr_text
        s.price_text = data.get("priceText") or s.price_text

    # --- 2.0.1 / 2.1 ------------------------------------------------------------------------
    def _call_TransactionEvent(self, cp: str, d: str, p: Payload, now: float, res: Result) -> None:
        version = self.versions.get(cp, "2.0.1")
        info = p["transactionInfo"]
        event = p["eventType"]
        if event == "Started":
            start, _ = parse_time(p["timestamp"], self.tz)
            s = self._started(cp, info["transactionId"], version, start, now, res)
        else:
            s = self._get(cp, info["transactionId"], version, now, res)
        seq = int(p["seqNo"])
        if seq in s.seq_nos:
            res.duplicate = True  # the same event again (reconnect): counted once
            return
        s.seq_nos.add(seq)
        at = self._time(s, p["timestamp"], res)
        if p.get("evse"):
            s.evse = int(p["evse"]["id"])
            connector = int(p["evse"].get("connectorId", s.connector or 0)) or s.connector
            if connector is not None:
                self._on_connector(s, connector)
        if p.get("idToken") and p["idToken"].get("idToken"):
            s.id_token = p["idToken"]["idToken"]
        if event == "Started":
            s.start = at
            self._close_open_on_connector(cp, s.connector, s.key, res)
        if info.get("chargingState"):
            s.charging_states.append((at, info["chargingState"]))
        if info.get("timeSpentCharging") is not None:
            s.time_spent_charging = int(info["timeSpentCharging"])
        if info.get("stoppedReason"):
            s.stop_reason = info["stoppedReason"]
        self._readings(s, p.get("meterValue"), version, res, offline=bool(p.get("offline")))
        details = p.get("costDetails")
        if details:
            self._cost_details(s, details)
        if event == "Ended":
            s.stop = at
            s.ended_seq = seq
            s.stop_reason = s.stop_reason or "Local"
            if not s.ended:
                s.ended, s.ended_received = True, now

    def _cost_details(self, s: Session, details: Payload) -> None:
        if details.get("failureToCalculate"):
            s.warn(f"station could not calculate the cost: {details.get('failureReason', 'no reason given')}")
            return
        total = (details.get("totalCost") or {}).get("total") or {}
        gross = total.get("inclTax", total.get("exclTax"))
        if gross is None:
            return
        net = total.get("exclTax")
        s.station_cost = Cost(
            to_decimal(gross),
            STATION,
            "station cost (costDetails)",
            to_decimal(net) if net is not None else None,
            (details.get("totalCost") or {}).get("currency"),
        )

    def _result_TransactionEvent(self, cp: str, call: Payload, reply: Payload, now: float, res: Result) -> None:
        s = self.session(cp, call["transactionInfo"]["transactionId"])
        if s is None:
            return
        res.sessions.append(s.key)
        custom = reply.get("customData") or {}
        s.qr_text = custom.get("qrCodeText") or s.qr_text
        ended = call.get("eventType") == "Ended"
        if reply.get("totalCost") is not None:
            cost = to_decimal(reply["totalCost"])
            if ended:
                s.final_cost = Cost(cost, FINAL, "CSMS final cost (TransactionEventResponse)")
            else:
                s.running_cost = Cost(cost, PROVISIONAL, "running cost (TransactionEventResponse)")
        if ended:
            s.ended_replied = True

    def _call_CostUpdated(self, cp: str, d: str, p: Payload, now: float, res: Result) -> None:
        s = self._get(cp, p["transactionId"], self.versions.get(cp, "2.0.1"), now, res)
        s.running_cost = Cost(to_decimal(p["totalCost"]), PROVISIONAL, "running cost (CostUpdated)")
        custom = p.get("customData") or {}
        s.qr_text = custom.get("qrCodeText") or s.qr_text

    def _call_NotifySettlement(self, cp: str, d: str, p: Payload, now: float, res: Result) -> None:
        if not p.get("transactionId"):
            return
        s = self._get(cp, p["transactionId"], "2.1", now, res)
        s.settlement = {
            k: p.get(k)
            for k in ("pspRef", "status", "settlementAmount", "settlementTime", "receiptId", "receiptUrl", "vatNumber")
        }
        s.receipt_url = p.get("receiptUrl") or s.receipt_url
        s.receipt_id = p.get("receiptId") or s.receipt_id

    def _result_NotifySettlement(self, cp: str, call: Payload, reply: Payload, now: float, res: Result) -> None:
        s = self.session(cp, call.get("transactionId", ""))
        if s is None:
            return
        res.sessions.append(s.key)
        s.receipt_url = reply.get("receiptUrl") or s.receipt_url
        s.receipt_id = reply.get("receiptId") or s.receipt_id
        s.settled = True


def _for_reply(action: str, payload: Payload) -> Payload | None:
    """The members of a CALL's payload its reply handler reads (:data:`FOR_REPLY`); None when
    it reads none, or when they are not short scalars (garbage)."""
    names = FOR_REPLY.get(action)
    if names is None:
        return None
    kept = {k: payload[k] for k in names if k in payload}
    info = kept.get("transactionInfo")
    if isinstance(info, dict):
        kept["transactionInfo"] = {"transactionId": info.get("transactionId")}
        scalars = [v for k, v in kept.items() if k != "transactionInfo"] + [info.get("transactionId")]
    else:
        scalars = list(kept.values())
    size = 0
    for v in scalars:
        if isinstance(v, (dict, list)):
            return None
        size += len(v) if isinstance(v, str) else 0
    return kept if size <= MAX_KEPT_CHARS else None
