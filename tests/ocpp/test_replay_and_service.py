"""``escpos809 ocpp replay`` as a user runs it, and the print service's OCPP endpoint over
real HTTP, both printing to a virtual printer over TCP; the QR is read back with zxing."""

from __future__ import annotations

import json
import time

import pytest
import zxingcpp
from PIL import Image

from tests.ocpp.conftest import edge_lines, escpos809, plain, wait_printed, write_config
from tests.service.conftest import printed_texts


def qr_on_paper(vp) -> list[str]:
    return [r.text for j in vp.jobs if j.pages for r in zxingcpp.read_barcodes(Image.open(j.pages[0]))]


def test_replay_prints_each_session_once(tmp_path, vprinter):
    config = write_config(tmp_path)
    frames = tmp_path / "frames.jsonl"
    lines = plain("v16-session.jsonl") + plain("v201-session.jsonl") + edge_lines()
    frames.write_text("".join(json.dumps(o) + "\n" for o in lines) + "this is not json\n")
    db = tmp_path / "sessions.db"
    proc = escpos809("ocpp", "replay", str(frames), "--printer", vprinter.uri, "--db", str(db), "--json", config=config)
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [(o["cp"], o["transaction"], o["energy_kwh"], o["cost"]) for o in out] == [
        ("CS-DEMO-201", "8d849668-c899-4ccc-a9ed-4845b64f9f7b", "9.600", "4.7"),
        ("CP9", "77", "3.700", "1.75"),
        ("CP-DEMO-1", "1000", "9.600", None),
    ]
    assert f"{frames}:40: not a {{ts, cp, dir, frame}} line" in proc.stderr
    assert "39 frames taken, 1 refused, 3 receipts" in proc.stderr
    vprinter.wait_idle()
    assert sorted(qr_on_paper(vprinter)) == sorted(
        [
            "https://receipts.example/CS-DEMO-201/8d849668-c899-4ccc-a9ed-4845b64f9f7b",
            "https://cpo.example/i/77",
            "https://receipts.example/CP-DEMO-1/1000",
        ]
    )
    texts = printed_texts(vprinter)
    assert texts.count("CHARGING RECEIPT") == 3
    # the same log again with the same database: nothing printed twice
    again = escpos809("ocpp", "replay", str(frames), "--printer", vprinter.uri, "--db", str(db), config=config)
    assert again.returncode == 0 and again.stdout == ""
    assert printed_texts(vprinter).count("CHARGING RECEIPT") == 3


def test_replay_refusals(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"cp": "X", "dir": "cp->csms", "frame": [7, "a"]}\n'
        '{"ts": "noon", "cp": "X", "dir": "cp->csms", "frame": [2, "a", "Heartbeat", {}]}\n'
        "[1, 2]\n"
    )
    proc = escpos809("ocpp", "replay", str(bad), "--dry-run")
    assert proc.returncode == 7 and "Traceback" not in proc.stderr
    assert "refused: message type 7" in proc.stderr
    assert f"{bad}:2: not a {{ts, cp, dir, frame}} line (ts 'noon' is not a number)" in proc.stderr
    assert f"{bad}:3: not a {{ts, cp, dir, frame}} line" in proc.stderr
    assert proc.stderr.strip().endswith("no OCPP frame in it")
    cfg = tmp_path / "c.toml"
    cfg.write_text('[ocpp]\ntimezone = "Mars/Olympus"\n')
    proc = escpos809("ocpp", "replay", str(bad), config=cfg)
    assert (
        proc.returncode == 7
        and proc.stderr.strip() == "escpos809: [ocpp] timezone 'Mars/Olympus' is not a known time zone"
    )


def test_service_endpoint_frames_and_citrineos(ocpp_service, vprinter):
    svc = ocpp_service
    for o in plain("v201-session.jsonl"):
        r = svc.request("POST", "/api/v1/ocpp/frames", {"cp": o["cp"], "dir": o["dir"], "frame": o["frame"]})
        assert r.status == 202, r
    wait_printed(vprinter, 1)
    assert "https://receipts.example/CS-DEMO-201/8d849668-c899-4ccc-a9ed-4845b64f9f7b" in qr_on_paper(vprinter)
    # the same session as CitrineOS webhook bodies: origin cs / csms, the frame as text
    lines = plain("v16-session.jsonl")
    bodies = [{"stationId": "CP-CITRINE", "event": "connected", "origin": "cs"}] + [
        {
            "stationId": "CP-CITRINE",
            "event": "message",
            "origin": "cs" if o["dir"] == "cp->csms" else "csms",
            "message": json.dumps(o["frame"]),
            "info": {},
        }
        for o in lines
    ]
    r = svc.request("POST", "/api/v1/ocpp/frames", bodies)
    assert r.status == 200 and r.json["accepted"] == 15 and r.json["refused"] == 0
    wait_printed(vprinter, 2, timeout=30)  # 1.6 without a final cost: printed after the grace period
    sessions = svc.request("GET", "/api/v1/ocpp/sessions").json["sessions"]
    assert sorted((s["cp"], s["state"], s["energy_kwh"]) for s in sessions) == [
        ("CP-CITRINE", "printed", "9.600"),
        ("CS-DEMO-201", "printed", "9.600"),
    ]
    # a reconnect re-sending everything prints nothing again (and the job queue's key agrees)
    r = svc.request(
        "POST",
        "/api/v1/ocpp/frames",
        [{"cp": o["cp"], "dir": o["dir"], "frame": o["frame"]} for o in plain("v201-session.jsonl")],
    )
    assert r.status == 200
    time.sleep(1.0)
    assert printed_texts(vprinter).count("CHARGING RECEIPT") == 2


@pytest.mark.parametrize(
    "body, status, detail",
    [
        (b"{not json", 400, "Expecting property name"),
        (b'{"cp": "X", "dir": "cp->csms", "frame": "[2, \\"a\\"]"}', 422, "CALL must be"),
        (b'{"cp": "X", "dir": "up-ish", "frame": [2, "a", "Heartbeat", {}]}', 422, "direction 'up-ish'"),
        (b'{"cp": "X", "frame": [2, "a", "Heartbeat", {}]}', 422, "missing dir"),
        (b'{"stationId": "X", "event": "message", "origin": "??", "message": "[]"}', 422, "origin"),
        (b"[]", 422, "one frame object or an array"),
    ],
)
def test_service_endpoint_refuses_garbage_and_keeps_going(ocpp_service, body, status, detail):
    r = ocpp_service.request("POST", "/api/v1/ocpp/frames", body, headers={"Content-Type": "application/json"})
    assert r.status == status and r.headers["content-type"] == "application/problem+json", r
    assert detail in r.json["detail"]
    ok = ocpp_service.request(
        "POST", "/api/v1/ocpp/frames", {"cp": "X", "dir": "cp->csms", "frame": [2, "hb", "Heartbeat", {}]}
    )
    assert ok.status in (202,)
