"""One poisoned frame or session never stops the others: bad frames are refused at the edge
with a reason that names the field (over real HTTP and in ``escpos809 ocpp replay``), and a
session whose receipt cannot be stored or rendered is marked failed with the reason, retried,
and never blocks the intake or the other sessions."""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing

import pytest

from escpos809.ocpp import ingest as ingest_module
from escpos809.ocpp.assembler import Assembler
from escpos809.ocpp.config import OcppConfig
from escpos809.ocpp.ingest import Ingest
from tests.ocpp.conftest import escpos809, plain, wait_printed, write_config

HB = [2, "hb", "Heartbeat", {}]


def frames(name: str, cp: str) -> list[dict]:
    return [{"cp": cp, "dir": o["dir"], "frame": o["frame"]} for o in plain(name)]


def post(svc, body):
    return svc.request(
        "POST",
        "/api/v1/ocpp/frames",
        body,
        None if isinstance(body, (dict, list)) else {"Content-Type": "application/json"},
    )


def sessions(svc) -> dict[str, dict]:
    r = svc.request("GET", "/api/v1/ocpp/sessions")
    assert r.status == 200, r
    return {s["cp"]: s for s in r.json["sessions"]}


def test_a_lone_surrogate_charge_point_is_refused_and_later_frames_are_fine(ocpp_service, vprinter):
    svc = ocpp_service
    for item in frames("v16-session.jsonl", "\ud800"):  # json.dumps sends it as "\ud800"
        r = post(svc, item)
        assert r.status == 422 and r.json["detail"] == "/cp: not valid Unicode (a lone surrogate)", r
    refused = [
        (
            {"stationId": "CP\udc00", "event": "message", "origin": "cs", "message": json.dumps(HB)},
            "/stationId: not valid Unicode (a lone surrogate)",
        ),
        (
            {"cp": "X", "dir": "cp->csms", "frame": [2, "a", "Authorize", {"idToken": "\ud83d"}]},
            "/frame/3/idToken: not valid Unicode",
        ),
        (
            b'{"cp": "X", "dir": "cp->csms", "frame": "[2, \\"\\\\ud800\\", \\"Heartbeat\\", {}]"}',
            "frame is not JSON we take (/1: a lone UTF-16 surrogate escape is not Unicode text)",
        ),
    ]
    for body, detail in refused:
        r = post(svc, body)
        assert r.status == 422 and detail in r.json["detail"], r
    # in a batch only the poisoned item is refused
    batch = [
        {"cp": "CP-OK", "dir": "cp->csms", "frame": HB},
        {"cp": "\ud800", "dir": "cp->csms", "frame": HB},
        {"cp": "CP-OK", "dir": "cp->csms", "frame": [2, "hb2", "Heartbeat", {}]},
    ]
    r = post(svc, batch)
    assert r.status == 200 and (r.json["accepted"], r.json["refused"]) == (2, 1), r
    assert r.json["results"][1] == {
        "path": "/1",
        "accepted": False,
        "reason": "/cp: not valid Unicode (a lone surrogate)",
    }
    # the sessions and the intake are untouched
    assert sessions(svc) == {}
    for item in frames("v201-session.jsonl", "CS-AFTER"):
        assert post(svc, item).status == 202
    wait_printed(vprinter, 1)
    assert sessions(svc)["CS-AFTER"]["state"] == "printed"
    assert "Traceback" not in svc.log.read_text()


BAD_ITEMS = [  # (item or raw body, status, in the detail)
    (
        {"cp": "X", "dir": "cp->csms", "ts": 10**30, "frame": HB},
        422,
        "is out of range (0 to 253,402,300,799 Unix seconds)",
    ),
    ({"cp": "X", "dir": "cp->csms", "ts": -5, "frame": HB}, 422, "ts -5 is out of range"),
    ({"cp": "X", "dir": "cp->csms", "ts": "noon", "frame": HB}, 422, "ts 'noon' is not a number"),
    ({"cp": "X", "dir": "cp->csms", "ts": True, "frame": HB}, 422, "ts True is not a number"),
    (
        b'{"cp": "X", "dir": "cp->csms", "ts": ' + b"9" * 50 + b', "frame": [2, "a", "Heartbeat", {}]}',
        400,
        "is too long (at most 40 characters)",
    ),
    (
        b'{"cp": "X", "dir": "cp->csms", "ts": 1e400, "frame": [2, "a", "Heartbeat", {}]}',
        400,
        "number 1e400 is out of range",
    ),
    (b'{"cp": "X", "dir": "cp->csms", "ts": NaN, "frame": [2, "a", "Heartbeat", {}]}', 400, "NaN is not a JSON number"),
    ({"cp": "X", "dir": "cp->csms", "frame": [2, ["a"], "Heartbeat", {}]}, 422, "message id missing or not a string"),
    (
        {"cp": "X", "dir": "cp->csms", "frame": [2, {"a": 1}, "Heartbeat", {}]},
        422,
        "message id missing or not a string",
    ),
    ({"cp": "X", "dir": "csms->cp", "frame": [3, ["a"], {}]}, 422, "message id missing or not a string"),
    (
        {"cp": "X", "dir": "cp->csms", "frame": [2, "a" * 200, "Heartbeat", {}]},
        422,
        "message id has 200 characters; at most 128",
    ),
    (
        {"cp": "X", "dir": "cp->csms", "frame": [2, "a\x00", "Heartbeat", {}]},
        422,
        "message id contains the control character U+0000",
    ),
    ({"cp": "X", "dir": "cp->csms", "frame": [2, "a", 5, {}]}, 422, "CALL must be [2, id, action, payload]"),
    ({"cp": "X", "dir": "cp->csms", "frame": [2, "a", "../../etc/passwd", {}]}, 422, "is not an OCPP action name"),
    (
        {"cp": "X", "dir": "cp->csms", "frame": [2, "a", "Heartbeat", {}], "version": ["1.6"]},
        422,
        "version must be a string, not an array",
    ),
    (
        {"cp": "X", "dir": "cp->csms", "frame": [2, "a", "Heartbeat", {}], "version": "9.9"},
        422,
        "version '9.9' is not 1.6, 2.0.1 or 2.1",
    ),
    ({"cp": "X", "dir": ["cp->csms"], "frame": HB}, 422, "dir must be a string, not an array"),
    ({"cp": 5, "dir": "cp->csms", "frame": HB}, 422, "cp must be a string, not a number"),
    ({"cp": "A\x1b@", "dir": "cp->csms", "frame": HB}, 422, "cp contains the control character U+001B"),
    ({"cp": "x" * 200, "dir": "cp->csms", "frame": HB}, 422, "cp has 200 characters; at most 128"),
    (
        {"cp": "X", "dir": "cp->csms", "frame": "[" * 100_000},
        422,
        "frame is not JSON we take (nested more than 32 levels deep)",
    ),
    (
        {
            "cp": "X",
            "dir": "cp->csms",
            "frame": [
                2,
                "d",
                "DataTransfer",
                {"vendorId": "org.openchargealliance.costmsg", "messageId": "FinalCost", "data": "[" * 5000},
            ],
        },
        422,
        "DataTransfer d: nested more than 32 levels deep",
    ),
    (
        {
            "cp": "X",
            "dir": "cp->csms",
            "frame": [
                2,
                "m",
                "MeterValues",
                {
                    "connectorId": 1,
                    "transactionId": 1,
                    "meterValue": [{"timestamp": "2025-01-01T00:00:00Z", "sampledValue": [{"value": "1e999999999"}]}],
                },
            ],
        },
        422,
        "MeterValues m:",
    ),
    ([1, 2], 200, None),
]


def test_bad_frames_are_refused_precisely_and_the_stream_goes_on(ocpp_service, vprinter):
    svc = ocpp_service
    for body, status, detail in BAD_ITEMS:
        r = post(svc, body)
        assert r.status == status, (body if not isinstance(body, bytes) else body[:80], r)
        if detail is not None:
            assert r.headers["content-type"] == "application/problem+json" and detail in r.json["detail"], r
        else:
            assert [x["reason"] for x in r.json["results"]] == [
                "each item must be an object {cp, dir, frame} or a CitrineOS webhook body"
            ] * 2
        assert (
            post(svc, {"cp": "X", "dir": "cp->csms", "frame": [2, f"ok{time.monotonic()}", "Heartbeat", {}]}).status
            == 202
        )
    for item in frames("v16-session.jsonl", "CP-STILL-FINE"):
        assert post(svc, item).status == 202
    wait_printed(vprinter, 1, timeout=30)
    assert sessions(svc)["CP-STILL-FINE"]["state"] == "printed"
    assert "Traceback" not in svc.log.read_text()


def test_a_session_that_cannot_be_stored_is_failed_and_the_others_print(ocpp_service, vprinter):
    svc = ocpp_service
    ocpp_db = svc.db.with_name("ocpp.db")
    with closing(sqlite3.connect(ocpp_db)) as db, db:  # a storage failure for one session's receipt only
        db.execute(
            "CREATE TRIGGER poison BEFORE INSERT ON receipts WHEN NEW.cp = 'CP-POISON' "
            "BEGIN SELECT RAISE(ABORT, 'injected storage failure'); END"
        )
    for item in frames("v16-session.jsonl", "CP-POISON"):
        assert post(svc, item).status == 202
    for item in frames("v201-session.jsonl", "CS-GOOD"):
        assert post(svc, item).status == 202
    wait_printed(vprinter, 1)
    end = time.monotonic() + 10
    while (s := sessions(svc))["CP-POISON"]["state"] != "failed" and time.monotonic() < end:
        time.sleep(0.1)
    assert s["CS-GOOD"]["state"] == "printed"
    assert s["CP-POISON"]["state"] == "failed" and "injected storage failure" in s["CP-POISON"]["error"], s
    # frames keep coming in, and another session prints while the poisoned one waits
    for item in frames("v16-session.jsonl", "CP-LATER"):
        assert post(svc, item).status == 202
    wait_printed(vprinter, 2, timeout=20)
    # the disk heals: the failed receipt is retried, not dropped
    with closing(sqlite3.connect(ocpp_db)) as db, db:
        db.execute("DROP TRIGGER poison")
    wait_printed(vprinter, 3, timeout=30)
    assert {cp: s["state"] for cp, s in sessions(svc).items()} == {
        "CP-POISON": "printed",
        "CS-GOOD": "printed",
        "CP-LATER": "printed",
    }


def test_a_receipt_that_cannot_be_rendered_is_failed_with_the_reason(tmp_path, monkeypatch):
    printed = []

    def sink(key, doc, summary, reprint):
        printed.append(summary.cp)
        return f"job-{len(printed)}"

    real = ingest_module.document

    def document(summary, cfg):
        if summary.cp == "CP-BAD":
            raise RuntimeError("injected render failure")
        return real(summary, cfg)

    monkeypatch.setattr(ingest_module, "document", document)
    ing = Ingest(OcppConfig(), str(tmp_path / "ocpp.db"), sink)
    for name, cp in (("v16-session.jsonl", "CP-BAD"), ("v201-session.jsonl", "CP-GOOD")):
        for o in plain(name):
            assert ing.feed(cp, o["dir"], o["frame"]).accepted
    ing.flush(force=True)
    rows = {r["cp"]: r for r in ing.sessions()}
    assert printed == ["CP-GOOD"] and rows["CP-GOOD"]["state"] == "printed"
    assert rows["CP-BAD"]["state"] == "failed"
    assert rows["CP-BAD"]["error"] == "cannot prepare the receipt: RuntimeError: injected render failure"
    assert ing.feed("CP-OTHER", "cp->csms", HB).accepted  # the intake goes on
    ing.close()


def test_a_frame_that_breaks_the_assembler_is_refused_alone(tmp_path, monkeypatch):
    real = Assembler._call_MeterValues

    def meter_values(self, cp, *args):
        if cp == "CP-CRASH":
            raise RuntimeError("injected assembler bug")
        return real(self, cp, *args)

    monkeypatch.setattr(Assembler, "_call_MeterValues", meter_values)
    ing = Ingest(OcppConfig(), ":memory:", lambda *a: "job")
    results = [ing.feed(cp, o["dir"], o["frame"]) for cp in ("CP-CRASH", "CP-FINE") for o in plain("v16-session.jsonl")]
    crashed = [r for r in results if not r.accepted]
    assert crashed and all(
        r.reason == "the frame could not be read (RuntimeError); the service logged it" for r in crashed
    )
    assert ing.flush(force=True) == 2  # both sessions still end and print (the crash lost a reading)
    ing.close()


def test_replay_refuses_bad_lines_by_number_and_goes_on(tmp_path):
    good = [
        json.dumps({"cp": o["cp"], "dir": o["dir"], "frame": o["frame"], "ts": o["ts"]}).encode()
        for o in plain("v201-session.jsonl")
    ]
    bad = [  # (line, in the message)
        (b'{"cp": "X", "dir": "cp->csms", "frame": [2, ["a"], "Heartbeat", {}]}', "refused: message id missing"),
        (
            b'{"cp": "X", "dir": "cp->csms", "version": ["1.6"], "frame": [2, "a", "Heartbeat", {}]}',
            "not a {ts, cp, dir, frame} line (version must be a string, not an array)",
        ),
        (
            b'{"cp": "\xff\xfe", "dir": "cp->csms", "frame": [2, "a", "Heartbeat", {}]}',
            "(the text is not UTF-8: invalid start byte at byte 8)",
        ),
        (
            b'{"cp": "\\ud800", "dir": "cp->csms", "frame": [2, "a", "Heartbeat", {}]}',
            "(/cp: not valid Unicode (a lone surrogate))",
        ),  # as the service says it (one reader)
        (b'{"ts": 1e400, "cp": "X", "dir": "cp->csms", "frame": [2, "a", "Heartbeat", {}]}', "out of range"),
        (b'{"ts": -1, "cp": "X", "dir": "cp->csms", "frame": [2, "a", "Heartbeat", {}]}', "ts -1 is out of range"),
        (b"[" * 100_000, "(nested more than 32 levels deep)"),
        (
            b'{"cp": "X", "dir": "cp->csms", "frame": [2, "a", "Heartbeat", {}], "ts": ' + b"1" * 5000 + b"}",
            "is too long (at most 40 characters)",
        ),
    ]
    lines = good[:5] + [line for line, _ in bad] + good[5:]
    log = tmp_path / "frames.jsonl"
    log.write_bytes(b"\n".join(lines) + b"\n")
    proc = escpos809("ocpp", "replay", str(log), "--dry-run", "--json", config=write_config(tmp_path))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    for n, (_, message) in enumerate(bad, start=6):
        assert any(
            line.startswith(f"escpos809: {log}:{n}: ") and message in line for line in proc.stderr.splitlines()
        ), (n, message, proc.stderr)
    assert f"{len(good)} frames taken, {len(bad)} refused, 1 receipts" in proc.stderr
    assert [json.loads(x)["cp"] for x in proc.stdout.splitlines()] == ["CS-DEMO-201"]


@pytest.mark.parametrize("ts", [float("nan"), float("inf"), -1.0, 1e12])
def test_ts_checked_at_the_edge(ts):
    from escpos809.ocpp.intake import check_ts

    with pytest.raises(ValueError, match="ts .* (is not a finite number|is out of range)"):
        check_ts(ts)


@pytest.mark.parametrize(
    "line",
    [
        b'{"cp": "\\ud800", "dir": "cp->csms", "frame": [2, "a", "Heartbeat", {}]}',
        b'{"ts": -1, "cp": "X", "dir": "cp->csms", "frame": [2, "a", "Heartbeat", {}]}',
        b'{"ts": "noon", "cp": "X", "dir": "cp->csms", "frame": [2, "a", "Heartbeat", {}]}',
        b'{"cp": "X", "dir": "cp->csms", "version": ["1.6"], "frame": [2, "a", "Heartbeat", {}]}',
        b'{"cp": "X", "dir": "cp->csms"}',
        b'{"stationId": "X", "origin": "elsewhere", "message": []}',
        b'{"cp": "\xff", "dir": "cp->csms", "frame": []}',
        b'{"ts": 1e400, "cp": "X", "dir": "cp->csms", "frame": []}',
    ],
)
def test_replay_and_service_read_an_item_alike(line, tmp_path):
    """One reader (``intake.parse_line`` / ``loads_items``): a bad line of a replay log and
    the same item in a request are refused in the same words."""
    from escpos809.errors import InvalidInput
    from escpos809.ocpp.intake import parse_line
    from escpos809_service.app import create_app
    from escpos809_service.config import ServiceConfig

    with pytest.raises(InvalidInput) as err:
        parse_line(line)
    app = create_app(ServiceConfig(printers={"p": "memory://"}, database=tmp_path / "j.db"), start=False)
    r = app.test_client().post("/api/v1/ocpp/frames", data=line, content_type="application/json")
    assert r.status_code in (400, 422) and r.get_json()["detail"] == str(err.value)
    app.extensions["escpos809"].ocpp.close()
    app.extensions["escpos809"].store.close()
