"""``escpos809 everest`` against a real Mosquitto, printing to the virtual printer over TCP:
one receipt per session whatever EVerest repeats, across a restart of the listener and of the
broker; bad payloads skipped with their reason while the good ones still print."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta

import pytest

from tests.everest.conftest import Publisher, receipts, sample, wait_for
from tests.service.conftest import vprinter  # noqa: F401 - fixture

FINISHED_REPEATS = 5


def shifted(lines: list[dict], seconds: int) -> list[dict]:
    """The same sequence later (another session): every ``datetime`` moved by ``seconds``."""
    out = copy.deepcopy(lines)
    for line in out:
        p = line.get("payload")
        if isinstance(p, dict) and "datetime" in p:
            at = datetime.fromisoformat(p["datetime"].replace("Z", "+00:00")) + timedelta(seconds=seconds)
            p["datetime"] = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        if isinstance(p, dict) and "timestamp" in p:
            p["timestamp"] += seconds
    return out


def kv(receipt: list[str], key: str) -> str:
    """The value of a key/value line (``Energy ....... 11.000 kWh``)."""
    for line in receipt:
        if line.startswith(key + " "):
            return line[len(key) :].strip()
    raise AssertionError(f"no {key!r} line in {receipt}")


def test_one_receipt_across_listener_and_broker_restarts(tmp_path, broker, vprinter, listeners):  # noqa: F811
    seq = sample("session_info.jsonl")
    finished = seq[-2]
    assert finished["payload"]["state"] == "Finished"
    listener = listeners(tmp_path, broker, vprinter.uri).start()
    pub = Publisher(broker)
    pub.connectors(seq[0], listener)
    pub.play(seq[1:])
    for _ in range(FINISHED_REPEATS):  # EVerest republishes every second
        pub.play([finished, seq[-1]])
    wait_for(lambda: receipts(vprinter.out_dir), what="the receipt")
    (r,) = receipts(vprinter.out_dir)
    assert kv(r, "Energy") == "11.000 kWh"
    assert kv(r, "Meter start") == "4611.954 kWh" and kv(r, "Meter end") == "4622.954 kWh"
    assert kv(r, "Start") == "2025-06-14 16:00:05 +02:00"  # Europe/Berlin from [ocpp]
    assert kv(r, "End") == "2025-06-14 17:00:10 +02:00"
    assert kv(r, "Energy from") == "EVerest charged_energy_wh"
    assert kv(r, "TOTAL") == "4.79 EUR"  # 11 kWh x 0.39 + 0.50 session fee
    assert kv(r, "Transaction") == "evse_manager@20250614T140005Z"
    assert not any(line.startswith("! energy check") for line in r)  # 11000 Wh both ways

    # the listener restarts while EVerest still says Finished
    assert listener.stop() == 0
    listener.start()
    for _ in range(FINISHED_REPEATS):
        pub.play([finished])
    # the broker restarts: the listener reconnects by itself and hears Finished again
    pub.close()
    broker.stop()
    broker.start()
    wait_for(lambda: listener.text().count("EVerest subscribed") >= 4, timeout=30, what="the resubscription")
    pub = Publisher(broker)
    for _ in range(FINISHED_REPEATS):
        pub.play([finished])
    # a real next session proves the listener is still listening: the old one stays printed once
    second = shifted(seq[1:], 7200)
    pub.play(second)
    wait_for(lambda: len(receipts(vprinter.out_dir)) >= 2, what="the second session's receipt")
    pub.play([second[-2]] * 3)
    pub.close()
    assert listener.stop() == 0
    found = receipts(vprinter.out_dir)
    assert [kv(x, "Transaction") for x in found] == ["evse_manager@20250614T140005Z", "evse_manager@20250614T160005Z"]
    assert "2 receipts printed" not in listener.text()  # each run counts its own: 1, 0, then 1
    assert listener.text().count("receipts printed") == 2


def test_bad_payloads_are_skipped_with_the_reason(tmp_path, broker, vprinter, listeners):  # noqa: F811
    seq, bad = sample("session_info.jsonl"), sample("bad_payloads.jsonl")
    listener = listeners(tmp_path, broker, vprinter.uri).start()
    pub = Publisher(broker)
    pub.connectors(seq[0], listener)
    pub.play(seq[1:8])
    pub.play(bad)
    pub.send("everest_api/evse_manager/var/session_info", b"{" + b" " * 200_000 + b"}")
    pub.play(seq[8:])
    wait_for(lambda: receipts(vprinter.out_dir), what="the receipt despite the garbage")
    pub.close()
    listener.stop()
    log = listener.text()
    (r,) = receipts(vprinter.out_dir)
    assert kv(r, "Energy") == "11.000 kWh"
    for reason in (
        "not JSON we take",
        "charged_energy_wh = '14.4kW' is not a number",
        "charged_energy_wh is missing",
        "'yesterday' is not an RFC 3339 time",
        "state 'Exploded' is not one of EVerest's states",
        "session_info must be a JSON object, not an array",
        "not UTF-8",
        "energy_Wh_import: total = '14.4kW' is not a number",
        "session_event TransactionStarted: its data is missing",
        "powermeter: energy_Wh_import is missing",
        "Infinity is not a JSON number",
        "uuid and event are required",
        "connector name 'a/b' cannot be a topic level",
        "connectors must be a JSON array of names",
        "nested more than",
        "more than the 65536 an EVerest message may have",
    ):
        assert reason in log, reason
    assert f"{len(bad) + 1} messages skipped" in log


def test_session_events_are_preferred_and_a_disagreement_is_printed(tmp_path, broker, vprinter, listeners):  # noqa: F811
    seq = sample("session_events.jsonl")
    listener = listeners(tmp_path, broker, vprinter.uri).start()
    pub = Publisher(broker)
    pub.connectors(seq[0], listener)
    pub.play(seq[1:])
    pub.play([seq[-2], seq[-1], seq[-3]] * 3)  # Finished and the TransactionFinished event again
    wait_for(lambda: receipts(vprinter.out_dir), what="the receipt")
    pub.close()
    listener.stop()
    (r,) = receipts(vprinter.out_dir)
    text = " ".join(r)
    assert kv(r, "Transaction") == "5f1d6a0e-3c4b-4e8a-9d2f-7b6c5a4e3d21"
    assert kv(r, "Energy") == "20.800 kWh"  # TransactionFinished - TransactionStarted registers
    assert kv(r, "Meter start") == "200.000 kWh" and kv(r, "Meter end") == "220.800 kWh"
    assert kv(r, "Energy from") == "EVerest transaction meter values"
    assert kv(r, "Start") == "2025-06-14 16:00:07 +02:00" and kv(r, "End") == "2025-06-14 16:45:00 +02:00"
    assert kv(r, "Stop reason") == "Local"
    assert kv(r, "Card / token") == "**********E6F7"
    assert "energy check: 20.800 kWh billed, EVerest's charged_energy_wh says 20.000 kWh" in text
    assert "800 Wh apart" in text
    assert "Eichrecht: signed meter data (OCMF)" in r
    assert "energy check" in listener.text()  # and in the log


@pytest.mark.parametrize("broker_url", ["http://127.0.0.1:1", "mqtt://", "mqtt://h:99999"])
def test_bad_broker_url_is_refused(tmp_path, broker_url):
    import subprocess
    import sys

    from tests.everest.conftest import ROOT

    r = subprocess.run(
        [sys.executable, "-m", "escpos809.cli", "everest", "--broker", broker_url, "--db", str(tmp_path / "x.db")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"ESCPOS809_CONFIG": "/nonexistent.toml", "PATH": "/usr/bin:/bin"},
        timeout=30,
    )
    assert r.returncode == 7
    assert r.stderr.startswith("escpos809: [everest] broker") and r.stderr.count("\n") == 1


def test_listener_killed_mid_receipt_prints_it_after_restart_marked(tmp_path, broker, vprinter, listeners):  # noqa: F811
    """SIGKILL while the receipt waits for paper: after the restart it prints, once, marked
    REPRINT (it may have gone out before the kill; the store said "printing")."""
    import signal
    import sqlite3

    from tests.everest.conftest import paper_texts

    seq = sample("session_info.jsonl")
    listener = listeners(tmp_path, broker, vprinter.uri).start()
    pub = Publisher(broker)
    pub.connectors(seq[0], listener)
    vprinter.faults.paper_out = True
    pub.play(seq[1:])

    def printing() -> bool:
        with sqlite3.connect(tmp_path / "everest.db") as db:
            return db.execute("SELECT state FROM receipts").fetchall() == [("printing",)]

    wait_for(printing, what="the receipt to wait for paper")
    listener.stop(signal.SIGKILL)
    vprinter.faults.paper_out = False
    listener.start()
    pub.play([seq[-2]] * 3)
    wait_for(lambda: receipts(vprinter.out_dir), what="the receipt after the restart")
    pub.close()
    listener.stop()
    assert len(receipts(vprinter.out_dir)) == 1
    lines = paper_texts(vprinter.out_dir)
    assert lines.index("*** REPRINT ***") < lines.index("CHARGING RECEIPT")
