"""Frames for the OCPP tests: the captured sample sessions (../shared/samples/ocpp) and the
reference's edge-case scenario (ocpp-receipts.md §12), written out here frame by frame."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from escpos809.emulator import VirtualPrinter
from tests.service.conftest import Service, printed_texts

# copies of ../shared/samples/ocpp: the tests pass from the project's own files
SAMPLES = Path(__file__).resolve().parents[1] / "data" / "ocpp"

# reference §8.4: the KEBA KCP30 record and its public key
KEBA_OCMF = (
    'OCMF|{"FV":"1.0","GI":"KEBA_KCP30","GS":"17619300","GV":"2.8.5","PG":"T32","IS":false,"IL":"NONE",'
    '"IF":["RFID_NONE","OCPP_NONE","ISO15118_NONE","PLMN_NONE"],"IT":"NONE","ID":"","RD":[{"TM":'
    '"2019-08-13T10:03:15,000+0000 I","TX":"B","EF":"","ST":"G","RV":0.2596,"RI":"1-b:1.8.0","RU":"kWh"},'
    '{"TM":"2019-08-13T10:03:36,000+0000 R","TX":"E","EF":"","ST":"G","RV":0.2597,"RI":"1-b:1.8.0",'
    '"RU":"kWh"}]}|{"SD":"304502200E2F107C987A300AC1695CA89EA149A8CDFA16188AF0A33EE64B67964AA943F9022100'
    '889A72B6D65364BEA8562E7F6A0253157ACFF84FE4929A93B5964D23C4265699"}'
)
KEBA_KEY = (
    "3059301306072A8648CE3D020106082A8648CE3D030107034200043AEEB45C392357820A58FDFB0857BD77ADA31585C61C4305"
    "31DFA53B440AFBFDD95AC887C658EA55260F808F55CA948DF235C2108A0D6DC7D4AB1A5E1A7955BE"
)


def sample(name: str) -> list[dict]:
    return [json.loads(line, parse_float=Decimal) for line in (SAMPLES / name).read_text().splitlines() if line]


def _mv(tx, ts, values):
    return {"connectorId": 2, "transactionId": tx, "meterValue": [{"timestamp": ts, "sampledValue": values}]}


START = {"connectorId": 2, "idTag": "TAG", "meterStart": 1000, "timestamp": "2025-03-30T00:30:00"}
EDGE = [  # (dir, frame) in arrival order, cp CP9, station time zone Europe/Berlin
    ("cp->csms", [2, "a1", "StartTransaction", START]),
    ("csms->cp", [3, "a1", {"transactionId": 77, "idTagInfo": {"status": "Accepted"}}]),
    ("cp->csms", [2, "a2", "StartTransaction", START]),
    ("csms->cp", [3, "a2", {"transactionId": 78, "idTagInfo": {"status": "Accepted"}}]),
    ("cp->csms", [2, "m3", "MeterValues", _mv(77, "2025-03-30T03:30:00+02:00", [{"value": "4.0", "unit": "kWh"}])]),
    (
        "cp->csms",
        [
            2,
            "m1",
            "MeterValues",
            _mv(
                77, "2025-03-30T00:45:00Z", [{"value": "2000"}, {"value": "14.4kW", "measurand": "Power.Active.Import"}]
            ),
        ],
    ),
    (
        "cp->csms",
        [
            2,
            "m1",
            "MeterValues",
            _mv(
                77, "2025-03-30T00:45:00Z", [{"value": "2000"}, {"value": "14.4kW", "measurand": "Power.Active.Import"}]
            ),
        ],
    ),
    (
        "cp->csms",
        [
            2,
            "m2",
            "MeterValues",
            _mv(77, "2025-03-30T01:00:00Z", [{"value": 3000, "unit": "Wh"}, {"value": "1000", "phase": "L1"}]),
        ],
    ),
    ("cp->csms", [2, "m4", "MeterValues", _mv(77, "2025-03-30T01:40:00Z", [{"value": "0.5 kWh"}])]),
    (
        "cp->csms",
        [
            2,
            "s1",
            "StopTransaction",
            {
                "meterStop": -1,
                "timestamp": "2025-03-30T01:45:00Z",
                "transactionId": 77,
                "transactionData": [
                    {
                        "timestamp": "2025-03-30T01:45:00Z",
                        "sampledValue": [
                            {"value": "1200", "context": "Transaction.End"},
                            {"value": KEBA_OCMF, "format": "SignedData", "context": "Transaction.End"},
                        ],
                    }
                ],
            },
        ],
    ),
    (
        "csms->cp",
        [
            2,
            "d1",
            "DataTransfer",
            {
                "vendorId": "org.openchargealliance.costmsg",
                "messageId": "FinalCost",
                "data": json.dumps(
                    {
                        "transactionId": 77,
                        "cost": 1.75,
                        "priceText": "EUR 1.75",
                        "qrCodeText": "https://cpo.example/i/77",
                    }
                ),
            },
        ],
    ),
]


def edge_lines() -> list[dict]:
    return [{"ts": 1000 + i, "cp": "CP9", "dir": d, "frame": f} for i, (d, f) in enumerate(EDGE)]


def plain(name: str) -> list[dict]:
    """A sample as a client sends it (floats, not Decimal)."""
    return [json.loads(x) for x in (SAMPLES / name).read_text().splitlines() if x]


def escpos809(*args, config=None, stdin=None):
    """The real command line in its own process."""
    env = {**os.environ}
    env.pop("ESCPOS809_PRINTER", None)
    if config:
        env["ESCPOS809_CONFIG"] = str(config)
    return subprocess.run(
        [sys.executable, "-c", "from escpos809.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
    )


def write_config(tmp_path, extra: str = "") -> str:
    path = tmp_path / "config.toml"
    path.write_text(
        '[ocpp]\noperator = "VoltPark"\ntimezone = "Europe/Berlin"\n'
        'receipt_url = "https://receipts.example/{cp}/{tx}"\ngrace_s = 0.5\n' + extra
    )
    return path


def wait_printed(vp, n, timeout=20):
    """Until ``n`` charging receipts are on the virtual printer's paper."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if printed_texts(vp).count("CHARGING RECEIPT") >= n:
            vp.wait_idle()
            return
        time.sleep(0.05)
    raise AssertionError(printed_texts(vp))


@pytest.fixture
def vprinter(tmp_path):
    vp = VirtualPrinter(tmp_path / "paper").start()
    yield vp
    vp.stop()


@pytest.fixture
def ocpp_service(tmp_path, vprinter):
    """``escpos809 serve`` printing charging receipts to the virtual printer."""
    svc = Service(tmp_path, {"front": vprinter.uri})
    svc.config.write_text(
        svc.config.read_text() + '[ocpp]\ntimezone = "Europe/Berlin"\ngrace_s = 0.5\n'
        'receipt_url = "https://receipts.example/{cp}/{tx}"\n'
    )
    svc.start()
    yield svc
    svc.stop()


@pytest.fixture(autouse=True)
def _close_every_ingest(monkeypatch):
    """Each Ingest a test makes is closed after it (its SQLite connection and timer thread)."""
    from escpos809.ocpp.ingest import Ingest

    made: list[Ingest] = []
    init = Ingest.__init__

    def tracked(self, *args, **kw):
        init(self, *args, **kw)
        made.append(self)

    monkeypatch.setattr(Ingest, "__init__", tracked)
    yield
    for ingest in made:
        ingest.close()
