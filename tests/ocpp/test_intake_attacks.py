"""Attacks on the OCPP intake's promises (issue 14): what a replay line or a posted item
carries is kept in the frame log as sent and rebuilds the same sessions after a restart;
refusals are precise; a frame is at most 1 MiB; receipts print once, also across restarts."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from escpos809.ocpp.config import load_ocpp_config
from escpos809.ocpp.ingest import Ingest
from escpos809.ocpp.intake import parse_line
from escpos809.ocpp.store import FrameStore
from tests.ocpp.conftest import plain

WAIT = load_ocpp_config({"timezone": "Europe/Berlin", "grace_s": 3600})


def _feed(ingest: Ingest, lines: list[bytes]) -> None:
    for line in lines:
        item = parse_line(line)
        assert item is not None
        assert ingest.feed(item.cp, item.direction, item.frame, item.ts, item.version).accepted


def test_a_member_named_with_escapes_is_the_frame_kept_and_rebuilt(tmp_path):
    """``"fr\\u0061me"`` is the name ``frame``: a line repeating it so is processed with its
    last frame, and the frame log must keep that one (it kept the first: after a restart the
    session had no StopTransaction)."""
    lines = [json.dumps(o).encode() for o in plain("v16-session.jsonl")]
    stop = next(n for n, x in enumerate(lines) if b'"StopTransaction"' in x)
    o = json.loads(lines[stop])
    decoy = json.dumps([2, "decoy", "Heartbeat", {}])
    lines[stop] = (
        f'{{"ts": {o["ts"]}, "cp": "{o["cp"]}", "dir": "{o["dir"]}", "frame": {decoy}, '
        f'"fr\\u0061me": {json.dumps(o["frame"], indent=1)}}}'
    ).encode()
    db = tmp_path / "s.db"
    live = Ingest(WAIT, db, lambda *a: "job")
    _feed(live, lines)
    before = live.sessions()
    live.close()
    assert [s["state"] for s in before] == ["waiting"]  # ended, in its grace period
    store = FrameStore(db)
    assert json.dumps(o["frame"], indent=1) in [f[-1] for f in store.frames()]  # as sent
    store.close()
    again = Ingest(WAIT, db, lambda *a: "job")
    assert again.sessions() == before


def test_a_frame_over_1_mib_of_utf8_is_refused_whatever_carries_it(tmp_path):
    """1 MiB is bytes, as a WebSocket message is measured: 400,000 "€" are 1.2 MB of UTF-8
    (they passed as 400,000 characters); a CitrineOS body's message and a frame sent as a
    JSON string are judged alike. The lines after them still count."""
    from tests.ocpp.conftest import escpos809, write_config

    big = [2, "big", "DataTransfer", {"vendorId": "v", "data": "€" * 400_000}]
    lines = [
        {"ts": 1, "cp": "CP1", "dir": "cp->csms", "frame": big},
        {"stationId": "CP1", "event": "message", "origin": "cs", "message": big},
        {"ts": 1, "cp": "CP1", "dir": "cp->csms", "frame": json.dumps(big, ensure_ascii=False)},
        {"ts": 1, "cp": "CP1", "dir": "cp->csms", "frame": [2, "ok", "DataTransfer", {"vendorId": "€" * 200}]},
    ]
    log = tmp_path / "big.jsonl"
    log.write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in lines), encoding="utf-8")
    proc = escpos809("ocpp", "replay", str(log), "--dry-run", config=write_config(tmp_path))
    errors = proc.stderr.splitlines()
    for n in (1, 2, 3):
        assert any(e.startswith(f"escpos809: {log}:{n}: ") and "bytes is larger than 1,048,576" in e for e in errors), (
            proc.stderr
        )
    assert "1 frames taken, 3 refused, 0 receipts" in proc.stderr


def test_a_dry_run_leaves_the_database_as_it_was(tmp_path, vprinter):
    """``--dry-run --db`` recorded each session as printed ("not printed (--dry-run)"): the
    real replay after it printed nothing, and the receipt was lost. A dry run reads the
    database (what printed before is not reported again) and writes nothing to it."""
    from tests.ocpp.conftest import escpos809, wait_printed, write_config

    config, db, log = write_config(tmp_path), tmp_path / "s.db", tmp_path / "a.jsonl"
    log.write_text("".join(json.dumps(o) + "\n" for o in plain("v16-session.jsonl")))
    dry = escpos809("ocpp", "replay", str(log), "--db", str(db), "--dry-run", config=config)
    assert "CP-DEMO-1 1000: 9.600 kWh" in dry.stdout and "1 receipts" in dry.stderr, dry.stderr
    assert not db.exists()
    real = escpos809("ocpp", "replay", str(log), "--db", str(db), "--printer", vprinter.uri, config=config)
    assert "1 receipts" in real.stderr, real.stderr
    wait_printed(vprinter, 1)
    dry = escpos809("ocpp", "replay", str(log), "--db", str(db), "--dry-run", config=config)
    assert dry.stdout == "" and "0 receipts" in dry.stderr, dry.stderr
    store = FrameStore(db)
    rows = store.receipts()
    store.close()
    assert [(r["tx"], r["state"], r["attempts"], r["job"].startswith(vprinter.uri)) for r in rows] == [
        ("1000", "printed", 1, True)
    ]


def test_a_log_of_last_year_replayed_in_two_parts_prints_the_receipt_of_one(tmp_path):
    """Frames are pruned at start when long past: "past" was the wall clock, so a second
    replay of last year's logs on the same database dropped the start of a session whose end
    was in the second part (receipt without start time or duration)."""
    year = 365 * 86400
    lines = [json.dumps({**o, "ts": o["ts"] - year}).encode() for o in plain("v16-session.jsonl")]
    sink = Sink()
    whole = Ingest(WAIT, tmp_path / "whole.db", sink)
    _feed(whole, lines)
    whole.flush(force=True)
    first = Ingest(WAIT, tmp_path / "split.db", sink)
    _feed(first, lines[:6])
    first.close()
    second = Ingest(WAIT, tmp_path / "split.db", sink)
    _feed(second, lines[6:])
    second.flush(force=True)
    assert len(sink.printed) == 2 and sink.printed[0] == sink.printed[1]
    assert sink.printed[0]["start"] == "2025-03-01T09:00:00+00:00"
    second.close()
    # a frame dated far in the future does not make last week "long ago" at the next start
    week = time.time() - 7 * 86400
    recent = Ingest(WAIT, tmp_path / "recent.db", sink)
    recent.feed("CPX", "cp->csms", [2, "w", "Heartbeat", {}], week)
    recent.feed("CPX", "cp->csms", [2, "f", "Heartbeat", {}], 253402300799)
    recent.close()
    Ingest(WAIT, tmp_path / "recent.db", sink).close()
    store = FrameStore(tmp_path / "recent.db")
    assert [f[-1] for f in store.frames()] == ['[2,"w","Heartbeat",{}]', '[2,"f","Heartbeat",{}]']
    store.close()


class Sink:
    """Receipts as the summaries printed (their JSON form)."""

    def __init__(self) -> None:
        self.printed: list[dict] = []

    def __call__(self, key, doc, summary, reprint) -> str:
        self.printed.append(summary.to_json())
        return f"job-{len(self.printed)}"


def test_a_line_of_100_mb_is_refused_in_bounded_memory(tmp_path):
    """A log line is at most what an item may be (8 MiB): longer ones were read whole first
    (a 300 MB line without a newline: 650 MB of RSS); now skipped as they are read, with
    their size, and the lines after them count."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "ESCPOS809_CONFIG": str(tmp_path / "none.toml")}
    env.pop("ESCPOS809_PRINTER", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", "from escpos809.cli import main; main()", "ocpp", "replay", "-", "--dry-run"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdin is not None and proc.stderr is not None
    proc.stdin.write(b'{"cp": "' + b"a" * (1 << 20))
    for _ in range(99):
        proc.stdin.write(b"a" * (1 << 20))
    proc.stdin.write(b'"}\n{"cp": "C", "dir": "cp->csms", "frame": [2, "h", "Heartbeat", {}]}\n')
    proc.stdin.flush()
    # the child's own peak, read while it waits for more (a parent's ru_maxrss for a child
    # counts the parent's pages it was forked with): all but the last pipeful has been read
    peak_kib = int(re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{proc.pid}/status").read_text())[1])
    proc.stdin.close()
    errors = proc.stderr.read().decode()
    assert proc.wait() == 0, errors
    assert "escpos809: -:1: not a {ts, cp, dir, frame} line (104,857,611 bytes of JSON; at most 8,388,608)" in errors
    assert "1 frames taken, 1 refused" in errors
    assert peak_kib < 100_000, peak_kib  # the line is 100 MiB


def test_a_replay_killed_while_a_receipt_is_at_the_printer_reprints_it_marked_once(tmp_path, vprinter):
    """SIGKILL while the first receipt's bytes are at a printer that has not confirmed it:
    the next replay of the same log prints that one again under the REPRINT mark and every
    other session once; each row says printed, with its attempts."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.ocpp.conftest import edge_lines, escpos809, write_config
    from tests.real.servers import FakeTcpPrinter
    from tests.service.conftest import printed_texts

    config, db, log = write_config(tmp_path), tmp_path / "s.db", tmp_path / "a.jsonl"
    lines = plain("v16-session.jsonl") + plain("v201-session.jsonl") + edge_lines()
    log.write_text("".join(json.dumps(o) + "\n" for o in lines))
    env = {**os.environ, "ESCPOS809_CONFIG": str(config)}
    env.pop("ESCPOS809_PRINTER", None)
    with FakeTcpPrinter(confirms=False) as mute:
        args = ["ocpp", "replay", str(log), "--db", str(db), "--printer", f"tcp://127.0.0.1:{mute.port}"]
        proc = subprocess.Popen([sys.executable, "-c", "from escpos809.cli import main; main()", *args], env=env)
        end = time.monotonic() + 20
        while len(mute.received) < 200 and time.monotonic() < end and proc.poll() is None:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert len(mute.received) >= 200
    store = FrameStore(db)
    assert [r["state"] for r in store.receipts()] == ["printing"]
    store.close()
    again = escpos809(*args[:-1], vprinter.uri, config=config)
    assert "3 receipts" in again.stderr, again.stderr
    vprinter.wait_idle()
    texts = printed_texts(vprinter)
    assert texts.count("CHARGING RECEIPT") == 3 and texts.count("*** REPRINT ***") == 1
    store = FrameStore(db)
    assert sorted((r["state"], r["attempts"]) for r in store.receipts()) == [
        ("printed", 1),
        ("printed", 1),
        ("printed", 2),
    ]
    store.close()


def test_a_citrineos_message_is_kept_as_sent(tmp_path):
    """A CitrineOS webhook body's frame is its ``message``: it was encoded again for the frame
    log (spacing and escapes lost; a 1 MiB check on other bytes than were sent)."""
    from escpos809.ocpp.intake import loads_items, parse_item

    sent = '[2,  "c-1", "MeterValues", {"connectorId": 1, "meterValue": [], "x": 4.70, "s": "\\u00e4"}]'
    plain_sent = '[2, "p-1", "Heartbeat", {"v": 1.50}]'
    body = (
        f'[{{"stationId": "CS1", "event": "message", "origin": "cs", "message": {sent}}}, '
        f'{{"cp": "CP1", "dir": "cp->csms", "frame": {plain_sent}}}, '
        '{"stationId": "CS1", "event": "connected"}]'
    ).encode()
    value, texts = loads_items(body)
    assert texts == [sent, plain_sent, None]
    ing = Ingest(WAIT, tmp_path / "c.db", lambda *a: "job")
    with ing.batch():
        for item, text in zip(value, texts, strict=True):
            parts = parse_item(item, True, text)
            if parts is not None:
                assert ing.feed(parts.cp, parts.direction, parts.frame, parts.ts, parts.version).accepted
    ing.close()
    store = FrameStore(tmp_path / "c.db")
    assert [f[-1] for f in store.frames()] == [sent, plain_sent]
    store.close()


def test_two_ingests_on_one_database_are_refused_not_printing_twice(tmp_path):
    """Two replays (or a replay beside the tap or service) on one database each printed what
    the other had not recorded yet (62 receipts for 60 sessions, two of them twice without
    a REPRINT mark). The second one is refused in one line; once the first has closed, it may run."""
    from escpos809.errors import Escpos809Error
    from tests.ocpp.conftest import escpos809, write_config

    db, log = tmp_path / "s.db", tmp_path / "a.jsonl"
    log.write_text("".join(json.dumps(o) + "\n" for o in plain("v16-session.jsonl")))
    busy = f"the session database {db} is in use by another process (a replay, tap or service on it): one at a time"
    first = Ingest(WAIT, db, lambda *a: "job")
    with pytest.raises(Escpos809Error) as err:
        Ingest(WAIT, db, lambda *a: "job")
    assert str(err.value) == busy
    config = write_config(tmp_path)
    proc = escpos809("ocpp", "replay", str(log), "--db", str(db), "--printer", "memory://", config=config)
    assert (proc.returncode, proc.stderr) == (1, f"escpos809: {busy}\n")
    first.close()
    proc = escpos809("ocpp", "replay", str(log), "--db", str(db), "--printer", "memory://", config=config)
    assert proc.returncode == 0 and "1 receipts" in proc.stderr, proc.stderr


def _tx_event(n: int, event: str, extra: dict) -> bytes:
    payload = {
        "eventType": event,
        "timestamp": f"2025-03-01T09:{n // 60 % 60:02d}:{n % 60:02d}Z",
        "triggerReason": "MeterValuePeriodic",
        "seqNo": n,
        "transactionInfo": {"transactionId": "T1", "chargingState": "Charging"},
        **extra,
    }
    item = {"ts": 1000 + n, "cp": "CS1", "dir": "cs->csms", "version": "2.1"}
    return json.dumps({**item, "frame": [2, f"m{n}", "TransactionEvent", payload]}).encode()


def test_a_new_failure_reason_in_every_frame_grows_neither_the_session_nor_its_receipt(tmp_path):
    """Each costDetails failureReason became a warning of the session, whole and kept: 300
    frames with reasons of 500 kB held 150 MB until the receipt, which then could not be
    laid out. A session keeps 20 warnings of at most 200 characters, and says there were more."""
    from escpos809.ocpp.session import MAX_WARNINGS, W_MORE

    failing = [
        _tx_event(
            n, "Updated", {"costDetails": {"failureToCalculate": True, "failureReason": f"{n:05d}" + "x" * 50_000}}
        )
        for n in range(1, 40)
    ]
    sink = Sink()
    ing = Ingest(load_ocpp_config({"grace_s": 0}), tmp_path / "w.db", sink)
    _feed(ing, [_tx_event(0, "Started", {}), *failing, _tx_event(40, "Ended", {})])
    ing.flush(force=True)
    [receipt] = sink.printed
    warnings = receipt["warnings"]
    assert len(warnings) == MAX_WARNINGS + 1 and warnings[-1] == W_MORE
    assert warnings[0] == "station could not calculate the cost: 00001" + "x" * 156 + "…"
    assert max(len(w) for w in warnings) == 200


def test_calls_waiting_for_their_reply_keep_only_what_the_reply_reads(tmp_path):
    """CALLs wait for their reply (the last 16 per station; 256 then), each with its whole
    payload: 300 unanswered StartTransactions padded to 1 MB held 290 MB. They keep the
    members the reply reads; one whose ids are not short is garbage, and its reply makes no
    session."""
    ing = Ingest(WAIT, tmp_path / "p.db", lambda *a: "job")
    start = {"connectorId": 1, "idTag": "TAG", "meterStart": 5, "timestamp": "2025-03-01T09:00:00Z"}
    for n in range(50):
        ing.feed(
            "CP1", "cp->csms", [2, f"s{n}", "StartTransaction", {**start, "meterStart": n, "pad": "x" * 20_000}], 1
        )
    ing.feed("CP1", "cp->csms", [2, "g", "StartTransaction", {**start, "idTag": "T" * 5000}], 1)
    pending = ing.asm.stations["CP1"].pending
    assert "s7" not in pending and pending["s47"] == ("up", "StartTransaction", {**start, "meterStart": 47})
    assert pending["g"] == ("up", "StartTransaction", None)
    reply = {"transactionId": 9, "idTagInfo": {"status": "Accepted"}}
    assert ing.feed("CP1", "csms->cp", [3, "s47", reply], 2).sessions == [("CP1", "9")]
    assert ing.feed("CP1", "csms->cp", [3, "g", {**reply, "transactionId": 10}], 2).sessions == []
    assert [s.meter_start for s in ing.asm.sessions.values()] == [47]


def test_frames_dated_long_ago_after_recent_ones_are_rebuilt_after_a_restart(tmp_path):
    """A client's ``ts`` may be anything from 0: frames dated 1970 that arrived after recent
    ones were pruned at the next start (more than 90 days before the newest), and their
    waiting session was gone. Pruning goes by arrival: only what came before the first
    recent frame is dropped."""
    from tests.ocpp.conftest import edge_lines

    recent = [json.dumps({**o, "ts": time.time() - 86400}).encode() for o in plain("v16-session.jsonl")[:6]]
    old = [json.dumps(o).encode() for o in edge_lines()[:-1]]  # ts 1000…: its stop, no final cost yet
    live = Ingest(WAIT, tmp_path / "m.db", lambda *a: "job")
    _feed(live, recent + old)
    before = live.sessions()
    live.close()
    assert sorted((s["cp"], s["state"]) for s in before) == [("CP-DEMO-1", "open"), ("CP9", "waiting")]
    assert Ingest(WAIT, tmp_path / "m.db", lambda *a: "job").sessions() == before


def test_a_transaction_id_with_control_characters_is_refused_and_forges_no_output_line(tmp_path):
    """A transactionId is printed, listed and keyed on: one holding a newline (or ESC) was
    taken, and the replay's line for its receipt became two, the second forged. Frames naming
    it are refused with the reason; the good session beside it prints."""
    from tests.ocpp.conftest import escpos809, write_config

    tx = "8d849668-c899-4ccc-a9ed-4845b64f9f7b"
    bad = "\u001b[2Jx\nescpos809: 0 frames taken, 0 refused, 0 receipts"
    lines = [json.dumps(o).replace(tx, json.dumps(bad)[1:-1]) for o in plain("v201-session.jsonl")]
    lines += [json.dumps(o) for o in plain("v16-session.jsonl")]
    log = tmp_path / "a.jsonl"
    log.write_text("".join(x + "\n" for x in lines))
    proc = escpos809("ocpp", "replay", str(log), "--dry-run", config=write_config(tmp_path))
    assert proc.stdout.splitlines() == ["CP-DEMO-1 1000: 9.600 kWh, cost pending -> not printed (--dry-run)"]
    why = "transactionId contains the control character U+001B"
    assert f"{log}:3: refused: TransactionEvent a014634a-9c1a-4dcd-9523-27cfdcf4f71b: {why}" in proc.stderr
    assert "1 receipts" in proc.stderr.splitlines()[-1]
