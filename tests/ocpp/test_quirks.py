"""Receipts right under station quirks (issue 14 part 4) and an ingest whose memory follows
the live sessions, not the history (part 3): a station that restarts its transaction numbering
after a reboot, a 2.1 station known by its subprotocol, VAT only when someone set a rate."""

from __future__ import annotations

import json
from decimal import Decimal

from escpos809.ocpp.assembler import W_FINISHED
from escpos809.ocpp.config import load_ocpp_config
from escpos809.ocpp.index import PENDING_PER_CP, SEEN_PER_CP, STATUS_HISTORY
from escpos809.ocpp.ingest import Ingest
from tests.ocpp.conftest import escpos809, wait_printed, write_config
from tests.ocpp.test_sessions import Sink
from tests.service.conftest import printed_texts

CFG = load_ocpp_config({"timezone": "UTC", "grace_s": 10})
CFG_VAT = load_ocpp_config({"timezone": "UTC", "grace_s": 10, "tariff": {"vat_percent": "19"}})


def boot16(mid: str) -> list[tuple[str, list]]:
    return [
        ("cp->csms", [2, mid, "BootNotification", {"chargePointModel": "AC22", "chargePointVendor": "OCOM"}]),
        ("csms->cp", [3, mid, {"currentTime": "2025-03-01T00:00:00Z", "interval": 300, "status": "Accepted"}]),
    ]


def session16(tx: int, day: str, meter_start: int, meter_stop: int, cost: str | None = None) -> list[tuple[str, list]]:
    """A 1.6 session whose message ids are m1… (a rebooted station numbers them again)."""
    frames = [
        ("cp->csms", [2, "m1", "StartTransaction", {"connectorId": 1, "idTag": "TAG1", "meterStart": meter_start,
                                                   "timestamp": f"{day}T09:00:00Z"}]),
        ("csms->cp", [3, "m1", {"transactionId": tx, "idTagInfo": {"status": "Accepted"}}]),
        ("cp->csms", [2, "m2", "StopTransaction", {"transactionId": tx, "meterStop": meter_stop,
                                                  "timestamp": f"{day}T10:00:00Z", "reason": "Local"}]),
        ("csms->cp", [3, "m2", {}]),
    ]  # fmt: skip
    if cost is not None:
        data = json.dumps({"transactionId": tx, "cost": cost})
        frames += [
            ("csms->cp", [2, f"c{tx}{day}", "DataTransfer", {"vendorId": "org.openchargealliance.costmsg",
                                                           "messageId": "FinalCost", "data": data}]),
        ]  # fmt: skip
    return frames


def feed(ing: Ingest, frames: list[tuple[str, list]], cp: str = "CP-R", t0: float = 1000.0, version=None) -> list:
    out = []
    for n, (d, f) in enumerate(frames):
        res = ing.feed(cp, d, f, t0 + n, version)
        assert res.accepted, res.reason
        out.append(res)
    return out


def rebooting_station() -> list[tuple[str, list]]:
    """Two sessions, both transactionId 1 with the same message ids, a reboot between them."""
    return [
        *boot16("b1"),
        *session16(1, "2025-03-01", 1000, 6000, "2.50"),
        *boot16("b1"),
        *session16(1, "2025-03-02", 6000, 8000, "1.00"),
    ]


def test_a_station_that_restarts_its_numbering_gets_one_receipt_per_session(tmp_path):
    sink = Sink()
    ing = Ingest(CFG, tmp_path / "ocpp.db", sink)
    results = feed(ing, rebooting_station())
    assert not any(r.duplicate for r in results)  # the second m1, m2 are new frames after the reboot
    keys = [key for key, *_ in sink.printed]
    assert keys == ["ocpp:CP-R:1", "ocpp:CP-R:1~1"]
    first, second = (s.to_json() for _, _, s, _ in sink.printed)
    assert (first["transaction"], first["energy_kwh"], first["cost"]) == ("1", "5.000", "2.50")
    assert (second["transaction"], second["session"], second["energy_kwh"], second["cost"]) == (
        "1",
        "1~1",
        "2.000",
        "1.00",
    )
    assert ing.asm.sessions == {}  # both printed: out of memory, in SQLite
    # a late copy of the first session's stop (a new message id): kept in the log, not printed again
    stop = session16(1, "2025-03-01", 1000, 6000)[2][1][3]
    late = ing.feed("CP-R", "cp->csms", [2, "late", "StopTransaction", stop], 2000)
    assert late.accepted and W_FINISHED in late.warnings and late.sessions == []
    ing.flush(force=True)
    assert len(sink.printed) == 2
    ing.close()

    # a restart rebuilds from the frame log: nothing printed twice, both listed as printed
    again = Sink()
    ing2 = Ingest(CFG, tmp_path / "ocpp.db", again)
    ing2.flush(force=True)
    assert again.printed == [] and ing2.asm.sessions == {}
    rows = ing2.sessions()
    assert sorted((r["transaction"], r["session"], r["state"]) for r in rows) == [
        ("1", "1", "printed"),
        ("1", "1~1", "printed"),
    ]
    # the station reboots a third time and uses 1 once more: a third receipt, not a duplicate
    feed(ing2, [*boot16("b1"), *session16(1, "2025-03-03", 8000, 9000, "0.50")], t0=5000)
    assert [key for key, *_ in again.printed] == ["ocpp:CP-R:1~2"]


def test_reboot_without_a_stop_ends_the_old_session_and_starts_a_new_one():
    sink = Sink()
    ing = Ingest(CFG, ":memory:", sink)
    feed(ing, [*boot16("b1"), *session16(1, "2025-03-01", 1000, 6000)[:2]])  # started, never stopped
    feed(ing, [*boot16("b1"), *session16(1, "2025-03-02", 6000, 8000, "1.00")], t0=2000)
    ing.flush(force=True)
    by_key = {key: s.to_json() for key, _, s, _ in sink.printed}
    assert set(by_key) == {"ocpp:CP-R:1", "ocpp:CP-R:1~1"}
    assert any("started a new session under this transactionId" in w for w in by_key["ocpp:CP-R:1"]["warnings"])
    assert by_key["ocpp:CP-R:1~1"]["energy_kwh"] == "2.000"


def _tx201(mid: str, event: str, ts: str, seq: int, tx: str, kwh: str) -> tuple[str, list]:
    return (
        "cs->csms",
        [2, mid, "TransactionEvent", {
            "eventType": event, "timestamp": ts, "triggerReason": "Authorized", "seqNo": seq,
            "transactionInfo": {"transactionId": tx}, "evse": {"id": 1, "connectorId": 1},
            "meterValue": [{"timestamp": ts, "sampledValue": [
                {"value": Decimal(kwh), "measurand": "Energy.Active.Import.Register",
                 "unitOfMeasure": {"unit": "kWh"}}]}],
        }],
    )  # fmt: skip


def session201(tx: str, day: str, start_kwh: str, end_kwh: str, cost: str) -> list[tuple[str, list]]:
    return [
        _tx201("e1", "Started", f"{day}T09:00:00Z", 0, tx, start_kwh),
        ("csms->cs", [3, "e1", {}]),
        _tx201("e2", "Ended", f"{day}T10:00:00Z", 1, tx, end_kwh),
        ("csms->cs", [3, "e2", {"totalCost": Decimal(cost)}]),
    ]


def test_201_station_reusing_transaction_ids_and_seqno_after_a_reboot():
    sink = Sink()
    ing = Ingest(CFG, ":memory:", sink)
    boot = [
        ("cs->csms", [2, "b", "BootNotification", {"chargingStation": {"model": "DC", "vendorName": "O"},
                                                  "reason": "PowerUp"}]),
        ("csms->cs", [3, "b", {"currentTime": "2025-03-01T00:00:00Z", "interval": 300, "status": "Accepted"}]),
    ]  # fmt: skip
    feed(ing, [*boot, *session201("1", "2025-03-01", "10", "20", "4.00")], cp="CS-R")
    feed(ing, [*boot, *session201("1", "2025-03-02", "20", "23", "1.20")], cp="CS-R", t0=2000)
    got = [(key, s.to_json()["energy_kwh"], s.to_json()["cost"]) for key, _, s, _ in sink.printed]
    assert got == [("ocpp:CS-R:1", "10.000", "4.00"), ("ocpp:CS-R:1~1", "3.000", "1.20")]


def settlement(tx: str) -> list[tuple[str, list]]:
    url = f"https://psp.example/r/{tx}"
    return [
        ("cs->csms", [2, "n1", "NotifySettlement", {"transactionId": tx, "pspRef": "p1", "status": "Settled",
                                                   "settlementAmount": Decimal("4.00"),
                                                   "settlementTime": "2025-03-01T10:00:05Z"}]),
        ("csms->cs", [3, "n1", {"receiptUrl": url, "receiptId": "R-1"}]),
    ]  # fmt: skip


def test_21_known_by_its_subprotocol_waits_for_the_settlement():
    """A 2.1 station's first frames have nothing 2.1-only in them: told by the transport, the
    receipt waits for NotifySettlement and carries its receiptUrl; guessed, it would print at the
    Ended reply (2.0.1 rule) without it."""
    frames = [*session201("t21", "2025-03-01", "10", "20", "4.00"), *settlement("t21")]
    told, guessed = Sink(), Sink()
    ing = Ingest(CFG, ":memory:", told)
    feed(ing, frames[:4], cp="CS-21", version="ocpp2.1")
    assert told.printed == []  # Ended answered, but a 2.1 station settles before its receipt
    feed(ing, frames[4:], cp="CS-21", t0=1004, version="ocpp2.1")
    [(_, _, s, _)] = told.printed
    assert s.qr == "https://psp.example/r/t21"
    ing2 = Ingest(CFG, ":memory:", guessed)
    feed(ing2, frames, cp="CS-21")
    [(_, _, s2, _)] = guessed.printed
    assert s2.qr is None  # what happened before: printed at the Ended reply


def test_21_in_a_replay_line_prints_with_the_settlement_qr(tmp_path, vprinter):
    frames = [*session201("t21", "2025-03-01", "10", "20", "4.00"), *settlement("t21")]
    log = tmp_path / "log.jsonl"
    log.write_text(
        "".join(
            json.dumps({"ts": 1000 + n / 10, "cp": "CS-21", "dir": d, "frame": f, "version": "ocpp2.1"}, default=str)
            + "\n"
            for n, (d, f) in enumerate(frames)
        )
    )
    proc = escpos809("ocpp", "replay", str(log), "--json", "-p", vprinter.uri, config=write_config(tmp_path))
    assert proc.returncode == 0, proc.stderr
    [row] = [json.loads(x) for x in proc.stdout.splitlines()]
    assert row["qr"] == "https://psp.example/r/t21"
    wait_printed(vprinter, 1)


def _lines(doc: dict) -> dict[str, str]:
    return {b["key"]: b["value"] for b in doc["blocks"] if b["type"] == "kv"}


def test_vat_only_when_a_rate_is_configured_or_the_csms_sends_the_net():
    frames = session16(5, "2025-03-01", 0, 10000, "4.70")
    plain, vat = Sink(), Sink()
    feed(Ingest(CFG, ":memory:", plain), frames)
    feed(Ingest(CFG_VAT, ":memory:", vat), frames)
    [(_, doc, s, _)] = plain.printed
    assert _lines(doc)["TOTAL"] == "4.70 EUR"
    assert not any(k.startswith(("VAT", "Net")) for k in _lines(doc))  # no rate set: no "VAT 19 %"
    assert (s.net, s.vat) == (None, None)
    [(_, doc, _, _)] = vat.printed
    assert (_lines(doc)["Net"], _lines(doc)["VAT 19%"]) == ("3.95 EUR", "0.75 EUR")
    # the CSMS (2.1 costDetails) says the net: VAT printed from its figures, no rate claimed
    cost = {"totalCost": {"currency": "EUR", "total": {"exclTax": Decimal("4.00"), "inclTax": Decimal("4.76")}}}
    started = _tx201("x1", "Started", "2025-03-01T09:00:00Z", 0, "tc", "1")
    ended = _tx201("x2", "Ended", "2025-03-01T10:00:00Z", 1, "tc", "9")
    ended[1][3]["costDetails"] = cost
    station = Sink()
    ing = Ingest(CFG, ":memory:", station)
    feed(ing, [started, ended], cp="CS-C", version="ocpp2.1")
    ing.flush(force=True)
    [(_, doc, _, _)] = station.printed
    assert (_lines(doc)["Net"], _lines(doc)["VAT"], _lines(doc)["TOTAL"]) == ("4.00 EUR", "0.76 EUR", "4.76 EUR")


def test_no_vat_line_on_paper_without_a_rate(tmp_path, vprinter):
    log = tmp_path / "log.jsonl"
    log.write_text(
        "".join(
            json.dumps({"ts": 1000 + n / 10, "cp": "CP-V", "dir": d, "frame": f}) + "\n"
            for n, (d, f) in enumerate(session16(5, "2025-03-01", 0, 10000, "4.70"))
        )
    )
    proc = escpos809("ocpp", "replay", str(log), "-p", vprinter.uri, config=write_config(tmp_path))
    assert proc.returncode == 0, proc.stderr
    wait_printed(vprinter, 1)
    texts = printed_texts(vprinter)
    assert any(t.startswith("TOTAL") and t.endswith("4.70 EUR") for t in texts), "\n".join(texts)
    assert not any("VAT" in t for t in texts), "\n".join(texts)


def test_merged_retried_starts_are_said_in_the_replay_output(tmp_path):
    start = {"connectorId": 2, "idTag": "TAG", "meterStart": 1000, "timestamp": "2025-03-01T09:00:00Z"}
    frames = [
        ("cp->csms", [2, "a1", "StartTransaction", start]),
        ("csms->cp", [3, "a1", {"transactionId": 77, "idTagInfo": {"status": "Accepted"}}]),
        ("cp->csms", [2, "a2", "StartTransaction", start]),
        ("csms->cp", [3, "a2", {"transactionId": 78, "idTagInfo": {"status": "Accepted"}}]),
        ("cp->csms", [2, "s", "StopTransaction", {"transactionId": 78, "meterStop": 3000,
                                                 "timestamp": "2025-03-01T10:00:00Z"}]),
    ]  # fmt: skip
    log = tmp_path / "log.jsonl"
    log.write_text("".join(json.dumps({"ts": 1, "cp": "CP-M", "dir": d, "frame": f}) + "\n" for d, f in frames))
    proc = escpos809("ocpp", "replay", str(log), "--dry-run", config=write_config(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("CP-M 77 (merged retried start 78): 2.000 kWh"), proc.stdout


def test_memory_follows_the_live_sessions_not_the_history():
    """300 sessions on one connector with status changes: afterwards nothing of them is left in
    memory but bounded windows (the counts are small; benchmarks/bench_ocpp_ingest.py runs 100k)."""
    sink = Sink()
    ing = Ingest(CFG, ":memory:", sink)
    t = 1000.0
    for n in range(300):
        day = f"2025-{1 + n // 28 % 12:02d}-{1 + n % 28:02d}"
        frames = [(d, [f[0], f"{f[1]}-{n}", *f[2:]]) for d, f in session16(100 + n, day, n * 10, n * 10 + 5, "1")]
        status = ("cp->csms", [2, f"st{n}", "StatusNotification",
                               {"connectorId": 1, "errorCode": "NoError", "status": "Charging",
                                "timestamp": f"{day}T09:00:01Z"}])  # fmt: skip
        free = ("cp->csms", [2, f"av{n}", "StatusNotification",
                             {"connectorId": 1, "errorCode": "NoError", "status": "Available",
                              "timestamp": f"{day}T10:00:00Z"}])  # fmt: skip
        feed(ing, [*frames[:2], status, *frames[2:], free], t0=t)
        t += 100
    assert len(sink.printed) == 300
    asm = ing.asm
    assert (asm.sessions, asm.alias, asm.starts) == ({}, {}, {})
    assert all(len(c.statuses) <= STATUS_HISTORY and not c.sessions for c in asm.connectors.values())
    station = asm.stations["CP-R"]
    assert len(station.recent.ids) <= SEEN_PER_CP and len(station.pending) <= PENDING_PER_CP
    assert ing._waiting == set() and ing._printing == set()
    assert sink.printed[-1][2].charging_s == 3599  # the status history still times the charging


def test_two_threads_flushing_at_once_print_a_receipt_once():
    """The tap's recorder thread and the receipt timer both flush: one of them prints it."""
    import threading
    import time

    class SlowSink(Sink):
        def __call__(self, key, doc, summary, reprint):
            time.sleep(0.3)
            return super().__call__(key, doc, summary, reprint)

    sink = SlowSink()
    ing = Ingest(CFG, ":memory:", sink)
    feed(ing, session16(9, "2025-03-01", 0, 1000))  # no final cost: waits for the grace period
    threads = [threading.Thread(target=ing.flush, kwargs={"force": True}) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [key for key, *_ in sink.printed] == ["ocpp:CP-R:9"]


def test_many_reboots_and_the_whole_log_sent_again(tmp_path):
    """30 reboots, transactionId 1 each time: 30 receipts; the whole log sent once more (a CSMS
    re-delivering, message ids restarting at each boot): not one printed again."""
    sink = Sink()
    ing = Ingest(CFG, tmp_path / "ocpp.db", sink)
    frames = []
    for n in range(30):
        day = f"2025-{1 + n // 28:02d}-{1 + n % 28:02d}"
        frames += [*boot16("b1"), *session16(1, day, n * 100, n * 100 + 50, "1.00")]
    feed(ing, frames)
    assert [key for key, *_ in sink.printed] == ["ocpp:CP-R:1"] + [f"ocpp:CP-R:1~{n}" for n in range(1, 30)]
    assert {s.to_json()["energy_kwh"] for _, _, s, _ in sink.printed} == {"0.050"}
    again = feed(ing, frames, t0=9000)
    assert len(sink.printed) == 30 and ing.asm.sessions == {}
    assert sum(W_FINISHED in r.warnings for r in again) > 0


def test_a_transaction_id_with_a_tilde_of_its_own_is_not_a_reused_one():
    """A 2.x station may send "5~1" itself: it must not meet "5" reused once."""
    sink = Sink()
    ing = Ingest(CFG, ":memory:", sink)
    boot = [("cs->csms", [2, "b", "BootNotification", {"chargingStation": {"model": "D", "vendorName": "O"},
                                                       "reason": "PowerUp"}])]  # fmt: skip
    feed(ing, [*boot, *session201("5", "2025-03-01", "1", "2", "1.00")], cp="CS-T")
    feed(ing, [*boot, *session201("5", "2025-03-02", "2", "4", "2.00")], cp="CS-T", t0=2000)
    feed(ing, [*boot, *session201("5~1", "2025-03-03", "4", "7", "3.00")], cp="CS-T", t0=3000)
    got = [(key, s.tx, s.to_json()["energy_kwh"]) for key, _, s, _ in sink.printed]
    assert got == [
        ("ocpp:CS-T:5", "5", "1.000"),
        ("ocpp:CS-T:5~1", "5", "2.000"),
        ("ocpp:CS-T:5~1~0", "5~1", "3.000"),
    ]
