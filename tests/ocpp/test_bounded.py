"""Memory follows the live sessions, not the ids ever heard: charge point ids by the
thousand (a CSMS-wide intake, or garbage), connectorIds counting up and CALLs never answered
leave bounded bookkeeping behind, and a real session among them prints exactly once; a
transactionId reused for every session is looked up, not scanned for."""

from __future__ import annotations

import json
import sqlite3

from escpos809.ocpp import ingest as ingest_module
from escpos809.ocpp import keeper
from escpos809.ocpp.config import OcppConfig
from escpos809.ocpp.ingest import Ingest
from escpos809.ocpp.session import W_NO_STOP
from tests.ocpp.conftest import plain, sample
from tests.ocpp.test_sessions import Sink, feed_all

STATUS = {"errorCode": "NoError", "status": "Available"}


def test_many_distinct_charge_points_are_forgotten_and_a_live_session_prints_once(monkeypatch):
    monkeypatch.setattr(keeper, "MAX_STATIONS", 20)
    sink = Sink()
    ing = Ingest(OcppConfig(), ":memory:", sink)
    lines = sample("v16-session.jsonl")
    for n, o in enumerate(lines):
        assert ing.feed(o["cp"], o["dir"], o["frame"], float(o["ts"])).accepted
        if n in (1, 6, 9):  # after the boot, the start's reply, a reading: 200 strangers each
            for i in range(200):
                cp = f"GHOST-{n}-{i}"
                ing.feed(cp, "up", [2, "s", "StatusNotification", {"connectorId": 1, **STATUS}], o["ts"], "ocpp1.6")
                ing.feed(cp, "up", [2, "d", "DataTransfer", {"vendorId": "x", "data": "y" * 1000}], o["ts"])
    ing.flush(now=1e12)
    assert [s.cp for _, _, s, _ in sink.printed] == ["CP-DEMO-1"]
    asm = ing.asm
    assert len(asm.stations) <= 20 and len(asm.versions) <= 20 and len(asm.declared) <= 20
    assert len(asm.connectors) <= 20


def test_connector_ids_counting_up_keep_a_bounded_index_and_the_live_one(monkeypatch):
    monkeypatch.setattr(keeper, "MAX_IDLE_CONNECTORS", 8)
    ing = Ingest(OcppConfig(), ":memory:", Sink())

    def start(msg: str, tx: int, at: str) -> None:
        call = {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": at}
        assert ing.feed("CP1", "up", [2, msg, "StartTransaction", call], 1.0).accepted
        assert ing.feed("CP1", "down", [3, msg, {"transactionId": tx, "idTagInfo": {"status": "Accepted"}}], 1.0)

    start("a", 1, "2025-03-01T09:00:00Z")
    for n in range(2, 300):
        assert ing.feed("CP1", "up", [2, f"s{n}", "StatusNotification", {"connectorId": n, **STATUS}], 1.0).accepted
    assert len(ing.asm.connectors) <= 9 and ("CP1", 1) in ing.asm.connectors
    start("b", 2, "2025-03-01T10:00:00Z")  # the first never stopped: closed by the next start on connector 1
    assert W_NO_STOP in ing.asm.sessions[("CP1", "1")].warnings


def test_an_unanswered_call_keeps_its_payload_only_when_its_reply_is_read():
    ing = Ingest(OcppConfig(), ":memory:", Sink())
    ing.feed("CP1", "up", [2, "d", "DataTransfer", {"vendorId": "x", "data": "y" * 100_000}], 1.0)
    call = {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": "2025-03-01T09:00:00Z"}
    ing.feed("CP1", "up", [2, "s", "StartTransaction", call], 1.0)
    pending = ing.asm.stations["CP1"].pending
    assert pending["d"] == ("up", "DataTransfer", None)
    assert pending["s"][2]["idTag"] == "T"


def test_open_sessions_nobody_started_are_dropped_beyond_the_bound_and_ended_ones_print(monkeypatch):
    monkeypatch.setattr(keeper, "MAX_SESSIONS", 50)
    monkeypatch.setattr(ingest_module, "RETRY_S", 0)
    sink = Sink()
    ing = Ingest(OcppConfig(), ":memory:", sink)
    stop = {"meterStop": 500, "timestamp": "2025-03-01T10:00:00Z", "transactionId": 7, "reason": "Local"}
    assert ing.feed("CP1", "up", [2, "stop", "StopTransaction", stop], 1.0).accepted  # ended, printing fails
    sink.fail = 10**6
    ing.flush(now=1e12)
    reading = [{"timestamp": "2025-03-01T09:00:00Z", "sampledValue": [{"value": "100"}]}]
    for i in range(1000, 1500):  # readings for transactions nobody started
        res = ing.feed(
            "CP1", "up", [2, f"m{i}", "MeterValues", {"connectorId": 1, "transactionId": i, "meterValue": reading}], 1.0
        )
        assert res.accepted
    assert len(ing.asm.sessions) <= 50 and len(ing.asm.heard) <= 50
    assert ("CP1", "7") in ing.asm.sessions  # ended, its receipt still to print: kept
    sink.fail = 0
    ing.flush(now=1e12, force=True)
    assert [s.tx for _, _, s, _ in sink.printed] == ["7"]


V201_TX = "8d849668-c899-4ccc-a9ed-4845b64f9f7b"


def _reusing(n: int, first: int = 0) -> list[dict]:
    """``n`` 2.0.1 sessions of one station that sends transactionId "1" for every one (an hour apart)."""
    out = []
    for i in range(first, first + n):
        hour = f"2025-03-{1 + i // 24:02d}T{i % 24:02d}"
        for o in plain("v201-session.jsonl"):
            text = json.dumps(o).replace(V201_TX, "1").replace("2025-03-01T09", hour)
            line = json.loads(text)
            line["frame"][1] = f"{line['frame'][1]}-{i}"
            line["ts"] += i * 3600
            out.append(line)
    return out


def test_one_transaction_id_for_every_session_prints_each_once_across_restarts(tmp_path):
    sink, db = Sink(), tmp_path / "ocpp.db"
    ing = Ingest(OcppConfig(), db, sink)
    feed_all(ing, _reusing(30))
    ing.flush(now=1e12, force=True)
    keys = [k for k, _, _, _ in sink.printed]
    assert len(keys) == len(set(keys)) == 30
    ing.close()
    with sqlite3.connect(db) as c:  # a database from before the index: rebuilt at open
        c.execute("DELETE FROM tx_uses")
        c.execute("DELETE FROM tx_epochs")
    ing = Ingest(OcppConfig(), db, sink)
    started = [o for o in _reusing(1, first=5) if '"Started"' in json.dumps(o["frame"])]
    feed_all(ing, started)  # session 5's start sent again: its receipt printed, it is ignored
    feed_all(ing, _reusing(2, first=30))  # and the id goes on being reused
    ing.flush(now=1e12, force=True)
    keys = [k for k, _, _, _ in sink.printed]
    assert len(keys) == len(set(keys)) == 32


def test_stations_filling_their_id_windows_cost_kilobytes_each():
    """Thousands of stations each sending CALLs with 128-character ids that nobody answers:
    the per-station windows (ids seen, calls waiting) held up to 33 kB a station (5,000 stations:
    163 MB); ids seen are now kept as hashes and at most 16 calls wait per station."""
    import tracemalloc

    from escpos809.ocpp.assembler import Assembler

    asm = Assembler()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for k in range(300):
        for n in range(40):
            msg_id = f"{k:05d}-{n:03d}-" + "i" * 118
            assert asm.feed(f"CP-{k}", "cp->csms", [2, msg_id, "Heartbeat", {}], 1.0).accepted
    per_station = (tracemalloc.get_traced_memory()[0] - base) / 300
    tracemalloc.stop()
    assert per_station < 10_000, per_station  # 14 kB with the old windows at 40 calls, 7.4 kB now
    # a re-sent CALL is still known as one, and a late reply still finds its call
    assert asm.feed("CP-7", "cp->csms", [2, "00007-039-" + "i" * 118, "Heartbeat", {}], 2.0).duplicate
    assert asm.feed("CP-7", "csms->cp", [3, "00007-039-" + "i" * 118, {"currentTime": "x"}], 2.0).action == "Heartbeat"
