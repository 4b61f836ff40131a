"""Sessions from frames: the reference's expected figures (ocpp-receipts.md §12) for both
captured sessions and the adversarial scenario, plus duplicates, reconnects, seqNo gaps,
missing stops, meter resets, OCMF in every form, persistence and the grace period."""

from __future__ import annotations

import base64
import copy
import json
from decimal import Decimal

import pytest

from escpos809.ocpp import ocmf
from escpos809.ocpp.assembler import Assembler
from escpos809.ocpp.config import load_ocpp_config
from escpos809.ocpp.ingest import Ingest
from escpos809.ocpp.receipt import _local, summarize
from escpos809.ocpp.values import BadValue, energy_wh, parse_time
from tests.ocpp.conftest import KEBA_KEY, KEBA_OCMF, edge_lines, sample

BERLIN = load_ocpp_config({"timezone": "Europe/Berlin", "grace_s": 10})
BERLIN_VAT = load_ocpp_config({"timezone": "Europe/Berlin", "grace_s": 10, "tariff": {"vat_percent": 19}})


class Sink:
    def __init__(self, fail: int = 0):
        self.printed, self.fail = [], fail

    def __call__(self, key, doc, summary, reprint):
        if self.fail:
            self.fail -= 1
            raise OSError("printer offline")
        self.printed.append((key, doc, summary, reprint))
        return f"job-{len(self.printed)}"


def feed_all(ingest: Ingest, lines: list[dict]) -> None:
    for o in lines:
        res = ingest.feed(o["cp"], o["dir"], o["frame"], float(o["ts"]))
        assert res.accepted, res.reason


def one_receipt(cfg, lines: list[dict]) -> tuple[dict, object]:
    """Feed a log, let every grace period pass, and return the one receipt: (document, summary)."""
    sink = Sink()
    ing = Ingest(cfg, ":memory:", sink)
    feed_all(ing, lines)
    ing.flush(now=1e12)
    [(_, doc, summary, _)] = sink.printed
    return doc, summary


def test_v16_sample_session():
    sink = Sink()
    ing = Ingest(BERLIN, ":memory:", sink)
    feed_all(ing, sample("v16-session.jsonl"))
    assert sink.printed == []  # 1.6 waits the grace period for a DataTransfer FinalCost
    ing.flush(now=1e12)
    [(key, doc, s, reprint)] = sink.printed
    j = s.to_json()
    assert key == "ocpp:CP-DEMO-1:1000" and not reprint
    assert (j["energy_kwh"], j["meter_start_kwh"], j["meter_stop_kwh"]) == ("9.600", "268.978", "278.578")
    assert j["duration_s"] == 2400 and j["stop_reason"] == "Local" and j["id_token"] == "******C4D5"
    assert _local(s.start, BERLIN) == "2025-03-01 10:00:00 +01:00"
    assert _local(s.stop, BERLIN) == "2025-03-01 10:40:00 +01:00"
    assert j["cost"] is None and j["cost_kind"] == "pending" and j["warnings"] == []
    # the signed record in transactionData (with measurand Energy.Active.Import.Register) is not energy
    [signed] = j["signed"]
    assert signed["record"] == KEBA_OCMF and signed["signature"] == "no public key"
    assert {"type": "kv", "key": "TOTAL", "value": "pending", "bold": True} in doc["blocks"]


def test_v201_sample_session_prints_on_the_reply_to_ended():
    sink = Sink()
    ing = Ingest(BERLIN_VAT, ":memory:", sink)
    feed_all(ing, sample("v201-session.jsonl"))
    [(_, doc, s, _)] = sink.printed  # no waiting: the Ended reply carried the final cost
    j = s.to_json()
    assert (j["energy_kwh"], j["duration_s"], j["charging_s"], j["idle_s"]) == ("9.600", 2400, 2400, 0)
    assert (j["cost"], j["cost_kind"]) == ("4.7", "final")
    assert j["cost_source"] == "CSMS final cost (TransactionEventResponse)"
    assert (j["net"], j["vat"]) == ("3.95", "0.75")  # 4.70 / 1.19 = 3.949… → 3.95; VAT is the rest
    assert j["transaction"] == "8d849668-c899-4ccc-a9ed-4845b64f9f7b" and j["warnings"] == []
    assert {"type": "kv", "key": "TOTAL", "value": "4.70 EUR", "bold": True, "height": 2} in doc["blocks"]


def test_edge_scenario_exactly_as_the_reference_expects():
    sink = Sink()
    ing = Ingest(BERLIN, ":memory:", sink)
    results = [ing.feed(o["cp"], o["dir"], o["frame"], o["ts"]) for o in edge_lines()]
    assert all(r.accepted for r in results)
    assert results[6].duplicate  # m1 re-sent
    [(key, doc, s, _)] = sink.printed  # FinalCost arrived: printed without waiting
    j = s.to_json()
    assert key == "ocpp:CP9:77"  # tx 78 was the same start retried
    assert j["energy_kwh"] == "3.700" and j["duration_s"] == 8100
    assert _local(s.start, BERLIN) == "2025-03-30 00:30:00 +01:00"
    assert _local(s.stop, BERLIN) == "2025-03-30 03:45:00 +02:00"
    assert (j["stop_reason"], j["cost"]) == ("Local", "1.75")
    assert j["cost_source"] == "CSMS final cost (DataTransfer FinalCost)"
    assert j["qr"] == "https://cpo.example/i/77" and len(j["signed"]) == 1
    assert j["warnings"] == [
        "timestamp without offset: read as station local time",
        "StartTransaction retried: transactionId 78 merged into 77 (same start sent twice)",
        "unit embedded in a meter value",
        "meterStop is negative (unknown): energy from the meter samples",
        "energy register went backwards (meter reset?): that step is not counted",
    ]
    # the numeric 1.6 value and the schema finding are recorded per frame, not on the receipt
    assert any("not of type 'string'" in w for w in results[7].warnings)


def test_edge_scenario_in_any_arrival_order_after_the_start():
    base = edge_lines()
    order = base[:4] + list(reversed(base[4:10])) + base[10:]
    sink = Sink()
    ing = Ingest(BERLIN, ":memory:", sink)
    for o in order:
        ing.feed(o["cp"], o["dir"], o["frame"], o["ts"])
    [(_, _, s, _)] = sink.printed
    assert s.to_json()["energy_kwh"] == "3.700"


@pytest.mark.parametrize(
    "frame, reason",
    [
        ("not json", "frame is not JSON"),
        ({"a": 1}, "not an array"),
        ([9, "x", "Y", {}], "message type 9"),
        ([2, 17, "Heartbeat", {}], "message id missing or not a string"),
        ([2, "x", "Heartbeat"], "CALL must be"),
        ([2, "x", "Heartbeat", []], "payload is not a JSON object"),
        ([3, "x", "oops"], "CALLRESULT must be"),
        (
            [2, "x", "StopTransaction", {"meterStop": 5, "timestamp": "yesterday", "transactionId": 1}],
            "timestamp 'yesterday' is not ISO 8601",
        ),
        (
            [
                2,
                "y",
                "MeterValues",
                {
                    "connectorId": 1,
                    "transactionId": 1,
                    "meterValue": [{"timestamp": "2025-01-01T00:00:00Z", "sampledValue": [{"value": "12 V"}]}],
                },
            ],
            "unit 'V' is not an energy unit",
        ),
        ([2, "z", "StartTransaction", {"connectorId": 1}], "StartTransaction z: 'timestamp'"),
    ],
)
def test_garbage_frames_are_refused_with_a_reason_and_the_stream_goes_on(frame, reason):
    a = Assembler("UTC")
    res = a.feed("CP1", "cp->csms", frame if isinstance(frame, str) else json.dumps(frame), 0)
    assert not res.accepted and reason in res.reason, res.reason
    for o in sample("v16-session.jsonl"):
        assert a.feed(o["cp"], o["dir"], o["frame"], o["ts"]).accepted
    assert a.session("CP-DEMO-1", 1000).energy_wh() == (Decimal("9600"), False)


def test_bad_direction_and_cp():
    a = Assembler("UTC")
    assert "direction 'sideways'" in a.feed("CP1", "sideways", [2, "x", "Heartbeat", {}], 0).reason
    assert "charge point id" in a.feed("", "cp->csms", [2, "x", "Heartbeat", {}], 0).reason


def _v201(seq_nos=(0, 1, 2, 3), dup: int | None = None) -> list[tuple[str, list]]:
    frames = [o for o in sample("v201-session.jsonl")]
    events = [o for o in frames if o["frame"][0] == 2 and o["frame"][2] == "TransactionEvent"]
    out = [o for o in frames if o not in events or o["frame"][3]["seqNo"] in seq_nos]
    if dup is not None:  # a reconnect: the same event re-sent with a new message id
        again = copy.deepcopy(next(o for o in events if o["frame"][3]["seqNo"] == dup))
        again["frame"][1] = "reconnect-" + again["frame"][1]
        out.insert(len(out) - 2, again)
    return out


def test_seqno_gap_and_reconnect_duplicate():
    sink = Sink()
    ing = Ingest(BERLIN, ":memory:", sink)
    for o in _v201(seq_nos=(0, 1, 3), dup=1):
        ing.feed(o["cp"], o["dir"], o["frame"], o["ts"])
    [(_, _, s, _)] = sink.printed
    j = s.to_json()
    assert "TransactionEvent seqNo 2 never arrived: events are missing" in j["warnings"]
    assert j["energy_kwh"] == "9.600"  # 268.978 → 272.578 → 278.578: the missing sample changes no sum


def test_meter_reset_is_flagged_and_skipped():
    a = Assembler("UTC")
    a.feed(
        "C",
        "cp->csms",
        [
            2,
            "s",
            "StartTransaction",
            {"connectorId": 1, "idTag": "T", "meterStart": 5000, "timestamp": "2025-01-01T10:00:00Z"},
        ],
        0,
    )
    a.feed("C", "csms->cp", [3, "s", {"transactionId": 5, "idTagInfo": {"status": "Accepted"}}], 0)
    for i, (t, v) in enumerate([("10:10", "6000"), ("10:20", "100"), ("10:30", "400")]):
        a.feed(
            "C",
            "cp->csms",
            [
                2,
                f"m{i}",
                "MeterValues",
                {
                    "connectorId": 1,
                    "transactionId": 5,
                    "meterValue": [{"timestamp": f"2025-01-01T{t}:00Z", "sampledValue": [{"value": v}]}],
                },
            ],
            0,
        )
    a.feed(
        "C",
        "cp->csms",
        [2, "e", "StopTransaction", {"meterStop": 900, "timestamp": "2025-01-01T10:40:00Z", "transactionId": 5}],
        0,
    )
    s = a.session("C", 5)
    assert s.energy_wh() == (Decimal(1000 + 300 + 500), True)
    assert "energy register went backwards (meter reset?): that step is not counted" in summarize(s, BERLIN).warnings


def test_missing_stop_is_closed_by_the_next_start_on_the_connector():
    sink = Sink()
    ing = Ingest(load_ocpp_config({"grace_s": 0}), ":memory:", sink)

    def start(msg, tx, ts, meter):
        ing.feed(
            "C",
            "cp->csms",
            [2, msg, "StartTransaction", {"connectorId": 1, "idTag": "T", "meterStart": meter, "timestamp": ts}],
            0,
        )
        ing.feed("C", "csms->cp", [3, msg, {"transactionId": tx, "idTagInfo": {"status": "Accepted"}}], 0)

    start("a", 1, "2025-01-01T10:00:00Z", 0)
    ing.feed(
        "C",
        "cp->csms",
        [
            2,
            "m",
            "MeterValues",
            {
                "connectorId": 1,
                "transactionId": 1,
                "meterValue": [{"timestamp": "2025-01-01T10:30:00Z", "sampledValue": [{"value": "7000"}]}],
            },
        ],
        0,
    )
    start("b", 2, "2025-01-01T11:00:00Z", 7000)  # no StopTransaction for tx 1 ever came
    ing.flush(now=100)
    [(key, _, s, _)] = sink.printed
    j = s.to_json()
    assert key == "ocpp:C:1" and j["energy_kwh"] == "7.000" and j["duration_s"] == 1800
    assert any("no StopTransaction" in w for w in j["warnings"])


def test_ocmf_forms_and_signature():
    rec = ocmf.find(KEBA_OCMF, "1.6")
    assert rec.raw == KEBA_OCMF and rec.pagination == "T32" and rec.meter_serial == "17619300"
    assert [(r.kind, r.value, r.sync) for r in rec.readings] == [
        ("B", Decimal("0.2596"), "I"),
        ("E", Decimal("0.2597"), "R"),
    ]
    assert ocmf.verify(rec, KEBA_KEY) == "valid"
    assert ocmf.verify(rec, None) == "no public key"
    tampered = KEBA_OCMF.replace('"RV":0.2597', '"RV":0.2598')
    assert ocmf.verify(ocmf.find(tampered, "1.6"), KEBA_KEY) == "INVALID"
    # hex-encoded; the OCA 1.6 envelope with an oca:base16:asn1: key; the 2.0.1 object with a base64 DER key
    assert ocmf.verify(ocmf.find(KEBA_OCMF.encode().hex(), "1.6"), KEBA_KEY) == "valid"
    envelope = json.dumps(
        {
            "signedMeterData": base64.b64encode(KEBA_OCMF.encode()).decode(),
            "signingMethod": "",
            "encodingMethod": "OCMF",
            "publicKey": base64.b64encode(b"oca:base16:asn1:" + KEBA_KEY.encode()).decode(),
        }
    )
    assert ocmf.verify(ocmf.find(envelope, "1.6"), None) == "valid"
    obj = {
        "signedMeterData": base64.b64encode(KEBA_OCMF.encode()).decode(),
        "signingMethod": "ECDSA-secp256r1-SHA256",
        "encodingMethod": "OCMF",
        "publicKey": base64.b64encode(bytes.fromhex(KEBA_KEY)).decode(),
    }
    assert ocmf.verify(ocmf.find(obj, "2.0.1"), None) == "valid"
    with pytest.raises(ocmf.OcmfError):
        ocmf.find("OCMF|{broken|{}", "1.6")


def _v16_with(ocmf_text: str) -> list[dict]:
    lines = sample("v16-session.jsonl")
    for o in lines:
        if o["frame"][0] == 2 and o["frame"][2] == "StopTransaction":
            for td in o["frame"][3]["transactionData"]:
                for sv in td["sampledValue"]:
                    if sv.get("format") == "SignedData":
                        sv["value"] = ocmf_text
    return lines


def test_tampered_ocmf_fails_and_says_so_on_the_receipt():
    cfg = load_ocpp_config({"public_keys": {"17619300": KEBA_KEY}, "grace_s": 0})
    for text, status in ((KEBA_OCMF, "valid"), (KEBA_OCMF.replace('"RV":0.2596', '"RV":0.1596'), "INVALID")):
        doc, s = one_receipt(cfg, _v16_with(text))
        assert s.signed[0]["signature"] == status
        assert ("signed meter data failed verification" in s.warnings) == (status == "INVALID")
        assert {"type": "kv", "key": "Signature", "value": status} in doc["blocks"]


def test_eichrecht_bills_the_signed_readings():
    cfg = load_ocpp_config({"eichrecht": True, "grace_s": 0, "tariff": {"price_kwh": "0.50"}})
    _, s = one_receipt(cfg, sample("v16-session.jsonl"))
    j = s.to_json()
    # 0.2597 - 0.2596 kWh = 0.1 Wh from the signed record, not the register's 9.600 kWh
    assert s.energy_wh == Decimal("0.1000") and j["energy_kwh"] == "0.000"
    assert j["energy_source"] == "signed meter readings (OCMF)" and j["cost_kind"] == "estimate"
    no_signed = Sink()
    ing2 = Ingest(cfg, ":memory:", no_signed)
    feed_all(ing2, sample("v201-session.jsonl"))
    [(_, _, s2, _)] = no_signed.printed
    assert s2.energy_wh is None and "Eichrecht: no signed begin and end readings, so no billable kWh" in s2.warnings


def test_local_tariff_estimate_with_vat():
    cfg = load_ocpp_config({"grace_s": 0, "tariff": {"price_kwh": "0.49", "session_fee": "1.00", "vat_percent": "19"}})
    doc, s = one_receipt(cfg, sample("v16-session.jsonl"))
    j = s.to_json()
    assert (j["cost"], j["cost_kind"], j["net"], j["vat"]) == ("5.70", "estimate", "4.79", "0.91")  # 1 + 9.6 x 0.49
    assert {"type": "text", "text": "! cost estimated from the local tariff"} in doc["blocks"]


def test_restart_neither_loses_nor_reprints(tmp_path):
    db = tmp_path / "ocpp.db"
    lines = sample("v201-session.jsonl")
    first = Sink()
    ing = Ingest(BERLIN, db, first)
    feed_all(ing, lines[:9])  # the service stops mid-session
    ing.close()
    second = Sink()
    ing = Ingest(BERLIN, db, second)
    feed_all(ing, lines[9:])
    assert first.printed == [] and len(second.printed) == 1
    assert second.printed[0][2].to_json()["energy_kwh"] == "9.600"
    ing.close()
    third = Sink()
    ing = Ingest(BERLIN, db, third)
    feed_all(ing, lines)  # the whole log again (a reconnect replaying everything)
    ing.flush(now=1e12, force=True)
    assert third.printed == []
    ing.close()


def test_failed_print_is_retried_not_dropped(tmp_path, monkeypatch):
    import escpos809.ocpp.ingest as ingest_mod

    monkeypatch.setattr(ingest_mod, "RETRY_S", 0.0)
    sink = Sink(fail=2)
    ing = Ingest(BERLIN, tmp_path / "o.db", sink)
    feed_all(ing, sample("v201-session.jsonl"))
    assert sink.printed == [] and ing.store.receipts()[0]["state"] == "failed"
    ing.flush()
    ing.flush()
    assert len(sink.printed) == 1 and ing.store.receipts()[0]["state"] == "printed"


@pytest.mark.parametrize("batched", [False, True])
def test_the_printing_mark_is_on_disk_before_the_sink_unless_it_would_wait_for_the_outcome(
    tmp_path, monkeypatch, batched
):
    """Fed frame by frame (the tap), the "printing" mark is committed before the receipt goes
    out, so a crash then reprints it marked. Inside a batch that commits nothing before its end
    (a request's frames), the mark and the outcome are one write: the row says the same."""
    import sqlite3

    import escpos809.ocpp.ingest as ingest_mod

    monkeypatch.setattr(ingest_mod, "RETRY_S", 0.0)
    db = tmp_path / "o.db"
    seen, mine = [], []  # the rows on disk, and as the ingest's own connection has them

    def sink(key, doc, summary, reprint):
        other = sqlite3.connect(db)  # what a crash at this moment would leave on disk
        seen.append(other.execute("SELECT state, attempts FROM receipts").fetchall())
        other.close()
        mine.append([(r["state"], r["attempts"], r["summary"] is not None) for r in ing.store.receipts()])
        if len(seen) == 1:
            raise OSError("printer offline")
        return "job-1"

    ing = Ingest(load_ocpp_config({"grace_s": 0}), db, sink)
    for _ in range(2):
        if batched:
            with ing.batch():
                feed_all(ing, sample("v201-session.jsonl"))
        else:
            feed_all(ing, sample("v201-session.jsonl"))
        ing.flush(now=1e12, force=True)
    [row] = ing.store.receipts()
    ing.close()
    if batched:  # both attempts came inside the first batch: nothing on disk before its end
        assert seen == [[], []]
        assert mine == [[], [("failed", 1, True)]]  # the failed attempt counted, with its summary
    else:
        assert seen == [[("printing", 1)], [("printing", 2)]]
        assert mine == [[("printing", 1, True)], [("printing", 2, True)]]
    assert (row["state"], row["attempts"], row["job"]) == ("printed", 2, "job-1")
    assert row["summary"] is not None and row["summary"]["energy_kwh"] == "9.600"


def test_values_and_times():
    assert energy_wh("14,4 kWh", "Wh", 0, "1.6")[0] == Decimal("14400.0")
    assert energy_wh(Decimal("1.5"), "kWh", 3, "2.0.1")[0] == Decimal("1500000.0")
    with pytest.raises(BadValue):
        energy_wh("abc", None, 0, "1.6")
    at, warnings = parse_time("2025-03-30T02:30:00", BERLIN.tz)  # a local time that does not exist
    assert warnings == ["timestamp without offset: read as station local time"]
    assert parse_time("2025-03-30T01:45:00Z", BERLIN.tz)[0].isoformat() == "2025-03-30T01:45:00+00:00"


def test_document_validates_and_renders():
    from escpos809.document import from_dict
    from escpos809.receipt import render

    sink = Sink()
    ing = Ingest(
        load_ocpp_config(
            {
                "grace_s": 0,
                "receipt_url": "https://r.example/{cp}/{tx}",
                "qr_ocmf": True,
                "operator": "VoltPark GmbH",
                "address": "Hauptstraße 1, Berlin",
                "vat_id": "DE123456789",
            }
        ),
        ":memory:",
        sink,
    )
    feed_all(ing, sample("v16-session.jsonl"))
    ing.flush(now=1e12)
    [(_, doc, _, _)] = sink.printed
    assert render(from_dict(doc)).data  # validates against the receipt schema and lays out
    qrs = [b["data"] for b in doc["blocks"] if b["type"] == "qr"]
    assert qrs == ["https://r.example/CP-DEMO-1/1000", KEBA_OCMF]


def test_ocpp21_station_cost_and_settlement_receipt_url():
    """2.1: costDetails from the station, then NotifySettlement; the CSMS's receiptUrl is the QR."""
    sink = Sink()
    ing = Ingest(BERLIN, ":memory:", sink)
    tx = "tx-21"

    def event(seq, kind, ts, kwh, **extra):
        return [
            2,
            f"e{seq}",
            "TransactionEvent",
            {
                "eventType": kind,
                "timestamp": ts,
                "triggerReason": "Authorized",
                "seqNo": seq,
                "transactionInfo": {"transactionId": tx, **extra.pop("info", {})},
                "evse": {"id": 1, "connectorId": 1},
                "meterValue": [{"timestamp": ts, "sampledValue": [{"value": kwh, "unitOfMeasure": {"unit": "kWh"}}]}],
                **extra,
            },
        ]

    details = {
        "totalCost": {"currency": "EUR", "typeOfCost": "NormalCost", "total": {"exclTax": 8.40, "inclTax": 10.00}},
        "totalUsage": {"energy": 20000, "chargingTime": 3600, "idleTime": 0},
    }
    frames = [
        ("cs->csms", event(0, "Started", "2025-06-01T10:00:00Z", 100.5)),
        ("csms->cs", [3, "e0", {}]),
        (
            "cs->csms",
            event(
                1, "Ended", "2025-06-01T11:00:00Z", 120.5, costDetails=details, info={"stoppedReason": "EVDisconnected"}
            ),
        ),
        ("csms->cs", [3, "e1", {}]),
        (
            "cs->csms",
            [
                2,
                "n1",
                "NotifySettlement",
                {
                    "transactionId": tx,
                    "pspRef": "PSP-1",
                    "status": "Settled",
                    "settlementAmount": 10.00,
                    "settlementTime": "2025-06-01T11:01:00Z",
                },
            ],
        ),
        ("csms->cs", [3, "n1", {"receiptUrl": "https://csms.example/receipt/R-9", "receiptId": "R-9"}]),
    ]
    for n, (d, f) in enumerate(frames):
        res = ing.feed("CS21", d, json.dumps(f), 100 + n, version="2.1")
        assert res.accepted, res.reason
        if n == 3:
            assert sink.printed == []  # 2.1 waits for the settlement (or the grace period)
    [(_, doc, s, _)] = sink.printed
    j = s.to_json()
    assert (j["energy_kwh"], j["cost"], j["cost_kind"]) == ("20.000", "10.0", "station")
    assert (j["net"], j["vat"]) == ("8.40", "1.60")
    assert j["qr"] == "https://csms.example/receipt/R-9" and j["stop_reason"] == "EVDisconnected"


def test_stored_frames_keep_every_digit():
    from escpos809.ocpp.frames import decode
    from escpos809.ocpp.ingest import frame_text

    text = '[3,"x",{"totalCost":4.70,"v":0.1000000000000000055511151231257827,"n":-1,"s":"ä","t":true,"z":null}]'
    frame = decode(text)
    assert (
        frame_text(frame) == '[3,"x",{"totalCost":4.70,"v":0.1000000000000000055511151231257827,"n":-1,'
        '"s":"\\u00e4","t":true,"z":null}]'
    )
    assert decode(frame_text(frame)) == frame


def test_a_replayed_frame_is_stored_as_it_was_sent(tmp_path):
    """The frame log keeps a line's frame text, not the frame encoded again: the same value,
    every digit and escape as sent; an item whose frame is over the frame limit is refused."""
    from escpos809.ocpp.frames import MAX_FRAME_BYTES, FrameError
    from escpos809.ocpp.intake import parse_line
    from escpos809.ocpp.store import FrameStore

    sent = '[2, "m-1", "Heartbeat", {"v": 1.50, "s": "\\u00e4"}]'
    item = parse_line(b'{"ts": 5, "cp": "CP-1", "dir": "cp->csms", "frame": ' + sent.encode() + b"}")
    assert item is not None
    db = tmp_path / "f.db"
    ing = Ingest(load_ocpp_config({"grace_s": 0}), db, lambda *a: "job")
    with ing.batch():
        assert ing.feed(item.cp, item.direction, item.frame, item.ts, item.version).accepted
    ing.close()
    store = FrameStore(db)
    assert [f[-1] for f in store.frames()] == [sent]
    store.close()
    huge = b'[2, "m-2", "DataTransfer", {"vendorId": "x", "data": "' + b"y" * MAX_FRAME_BYTES + b'"}]'
    with pytest.raises(FrameError, match="larger than"):
        parse_line(b'{"cp": "CP-1", "dir": "cp->csms", "frame": ' + huge + b"}")


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"grace_s": "ten"}, "[ocpp] grace_s = 'ten' must be a number"),
        ({"eichrecht": "yes"}, "[ocpp] eichrecht = 'yes' must be true or false"),
        ({"public_keys": {"*": 1}}, "[ocpp] public_keys = {'*': 1} must be a table of text values"),
        ({"tariff": {"price_kwh": "cheap"}}, "[ocpp] tariff.price_kwh = 'cheap' is not a number"),
        # no VAT rate is not "no VAT": refused here, not as a TypeError on every receipt
        ({"tariff": {"vat_percent": None}}, "[ocpp] tariff.vat_percent = None is not a number"),
        ({"tariff": {"idle_grace_minutes": -5}}, "[ocpp] tariff.idle_grace_minutes = -5 must be a whole number >= 0"),
        ({"timezone": "Mars/Olympus"}, "[ocpp] timezone 'Mars/Olympus' is not a known time zone"),
        ({"colour": "red"}, "[ocpp]: unknown setting(s) colour"),
    ],
)
def test_bad_settings_are_named(settings, message):
    from escpos809.ocpp.config import OcppConfigError

    with pytest.raises(OcppConfigError) as err:
        load_ocpp_config(settings)
    assert str(err.value).startswith(message)


def test_unknown_version_hint_is_refused():
    res = Assembler("UTC").feed("C", "cp->csms", [2, "h", "Heartbeat", {}], 0, version="3.0")
    assert not res.accepted and res.reason == "version '3.0' is not 1.6, 2.0.1 or 2.1"


def test_a_receipt_sent_but_not_confirmed_is_reprinted_marked(tmp_path, monkeypatch):
    """Straight to a printer (replay, tap): the first printer takes the receipt and never
    confirms it, so it may be on paper; the next attempt carries the REPRINT mark."""
    import escpos809.ocpp.ingest as ingest_mod
    from escpos809.emulator import VirtualPrinter
    from escpos809.printer import Printer
    from tests.real.servers import FakeTcpPrinter
    from tests.service.conftest import printed_texts

    monkeypatch.setattr(ingest_mod, "RETRY_S", 0.0)
    monkeypatch.setattr(Printer, "confirm_budget", lambda self, *a, **k: 0.3)
    with FakeTcpPrinter(confirms=False) as mute, VirtualPrinter(tmp_path / "paper") as vp:
        target = {"uri": f"tcp://127.0.0.1:{mute.port}"}

        def switching_sink(*args):
            return ingest_mod.printer_sink(target["uri"])(*args)

        ing = Ingest(BERLIN, tmp_path / "o.db", switching_sink)
        feed_all(ing, sample("v201-session.jsonl"))
        first = ing.store.receipts()[0]
        assert first["state"] == "failed" and first["error"].startswith(ingest_mod.UNCONFIRMED), first
        assert b"\x1dr\x01" in bytes(mute.received)  # the receipt went out, with its confirmation request
        target["uri"] = vp.uri
        ing.flush()
        assert ing.store.receipts()[0]["state"] == "printed"
        vp.wait_idle()
        texts = printed_texts(vp)
        assert texts[0] == "*** REPRINT ***"
        ing.close()


def test_frames_a_batch_could_not_write_are_said_with_their_count(tmp_path, monkeypatch):
    """Frames wait in a batch to be written together; a disk that refuses them (full, failing)
    is said on the frame whose write found it, with how many frames were lost from the log,
    and the intake goes on (the sessions in memory still print)."""
    from escpos809.ocpp import store as store_module

    monkeypatch.setattr(store_module, "FRAMES_AT_ONCE", 6)
    sink = Sink()
    ing = Ingest(load_ocpp_config({"grace_s": 0}), tmp_path / "f.db", sink)
    lines = sample("v201-session.jsonl")
    with ing.batch():
        feed_all(ing, lines[:5])
        real = ing.store._db
        ing.store._db = _Refusing(real)  # the disk fills up
        res = ing.feed(lines[5]["cp"], lines[5]["dir"], lines[5]["frame"], float(lines[5]["ts"]))
        ing.store._db = real
        assert res.accepted
        [warning] = [w for w in res.warnings if "frame log" in w]
        assert "6 frames of this batch not written: database or disk is full" in warning
        feed_all(ing, lines[6:])
    ing.flush(now=1e12, force=True)
    assert len(sink.printed) == 1
    ing.close()


class _Refusing:
    """A connection whose frame writes fail as on a full disk."""

    def __init__(self, db):
        self._db = db

    def executemany(self, sql, rows):
        import sqlite3

        raise sqlite3.OperationalError("database or disk is full")

    def __getattr__(self, name):
        return getattr(self._db, name)


def test_a_batch_the_disk_refuses_at_its_end_is_one_clear_error(tmp_path):
    """The replay's frames are written when its batch ends; a full disk then is an
    :class:`Escpos809Error` naming the database (one line and exit 1 from the CLI), not a
    traceback from SQLite."""
    from escpos809.errors import Escpos809Error

    ing = Ingest(load_ocpp_config({"grace_s": 0}), tmp_path / "f.db", Sink())
    lines = sample("v201-session.jsonl")
    with pytest.raises(Escpos809Error, match=r"f\.db did not take the batch: .*database or disk is full"):
        with ing.store.batch():
            feed_all(ing, lines[:3])
            ing.store._db = _Refusing(ing.store._db)
    ing.store._db = ing.store._db._db
    ing.close()
