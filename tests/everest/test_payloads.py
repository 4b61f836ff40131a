"""EVerest payloads as documented (modules/API/README.md, types/evse_manager.yaml) → values,
and the refusals, each with its reason."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from escpos809.everest import payloads as p
from escpos809.everest.config import EverestConfig
from escpos809.everest.listener import Listener
from escpos809.ocpp.config import OcppConfig

# the README's session_info example as printed there (older API: the error lists as strings)
README_SESSION_INFO = b"""{
    "charged_energy_wh": 0,
    "charging_duration_s": 84,
    "datetime": "2022-10-11T16:48:35.747Z",
    "discharged_energy_wh": 0,
    "latest_total_w": 0.0,
    "state": "Unplugged",
    "active_permanent_faults": "",
    "active_errors": ""
}"""


def test_documented_payloads():
    info = p.session_info(README_SESSION_INFO)
    assert info == p.SessionInfo(
        "Unplugged", Decimal(0), 84, datetime(2022, 10, 11, 16, 48, 35, 747000, tzinfo=timezone.utc)
    )
    pm = p.powermeter(
        b'{"energy_Wh_import": {"L1": 1537.3179931640625, "total": 4611.9541015625}, '
        b'"meter_id": "YETI_POWERMETER", "timestamp": 1665509120.0}'
    )
    assert pm.total_wh == Decimal("4611.9541015625") and pm.meter_id == "YETI_POWERMETER"
    assert pm.at == datetime(2022, 10, 11, 17, 25, 20, tzinfo=timezone.utc)
    assert p.connectors(b'["evse_manager"]') == ["evse_manager"]


def test_session_event_forms():
    older = {  # signed_meter_value as text, id_tag as text, the bare event without {"data": …}
        "uuid": "u1",
        "event": "TransactionFinished",
        "transaction_finished": {
            "timestamp": "2024-01-01T10:00:00Z",
            "meter_value": {"energy_Wh_import": {"total": 1234.5}},
            "signed_meter_value": "OCMF|{}|{}",
            "reason": "EVDisconnected",
            "id_tag": "TAG1",
        },
    }
    ev = p.session_event(json.dumps(older).encode())
    assert (ev.uuid, ev.event, ev.meter_wh, ev.signed, ev.reason, ev.id_tag) == (
        "u1",
        "TransactionFinished",
        Decimal("1234.5"),
        "OCMF|{}|{}",
        "EVDisconnected",
        "TAG1",
    )
    plain = p.session_event(b'{"data": {"uuid": "u1", "event": "ChargingStarted"}}')
    assert (plain.event, plain.at, plain.meter_wh) == ("ChargingStarted", None, None)


@pytest.mark.parametrize(
    ("parse", "payload", "reason"),
    [
        (
            p.session_info,
            b'{"state": "Charging", "charged_energy_wh": -5, "charging_duration_s": 1, '
            b'"datetime": "2024-01-01T00:00:00Z"}',
            "negative",
        ),
        (
            p.session_info,
            b'{"state": "Charging", "charged_energy_wh": true, "charging_duration_s": 1, '
            b'"datetime": "2024-01-01T00:00:00Z"}',
            "is not a number",
        ),
        (
            p.session_info,
            b'{"state": "Charging", "charged_energy_wh": 1e30, "charging_duration_s": 1, '
            b'"datetime": "2024-01-01T00:00:00Z"}',
            "out of range",
        ),
        (p.powermeter, b'{"energy_Wh_import": {"total": 5}, "timestamp": 1e300}', "out of range"),
        (p.connectors, json.dumps([f"c{i}" for i in range(65)]).encode(), "more than 64"),
        (p.connectors, b'["+"]', "cannot be a topic level"),
        (
            p.session_event,
            b'{"uuid": "u", "event": "TransactionStarted", "transaction_started": '
            b'{"timestamp": "2024-01-01T00:00:00Z", "meter_value": {}}}',
            "energy_Wh_import is missing",
        ),
    ],
)
def test_refusals(parse, payload, reason):
    with pytest.raises(p.PayloadError) as err:
        parse(payload)
    assert reason in str(err.value)


def test_routes(tmp_path):
    lst = Listener(EverestConfig(broker="mqtt://h", prefix="site/api"), OcppConfig(), tmp_path / "db", print)
    assert lst.route("site/api/connectors") == ("connectors", "")
    assert lst.route("site/api/left/var/session_info") == ("session_info", "left")
    assert lst.route("site/api/left/var/powermeter") == ("powermeter", "left")
    assert lst.route("everest/modules/left/impl/evse/var/session_event") == ("session_event", "left")
    assert lst.route("site/api/left/var/telemetry") is None
    assert lst.route("everest_api/left/var/session_info") is None
    lst.close()
