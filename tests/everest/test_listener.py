"""The listener's session logic without a broker: the sample sequences fed to
``Listener.handle`` (what the MQTT callback calls), a SQLite file as the store, receipts
collected by the sink. The same paths run against a real Mosquitto in test_cli_mqtt.py."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from escpos809.everest.charge import Charge, Connector
from escpos809.everest.config import EverestConfig, EverestConfigError, load_everest_config
from escpos809.everest.listener import Listener
from escpos809.everest.tracker import W_JOINED
from escpos809.ocpp.config import load_ocpp_config
from tests.everest.conftest import payload_bytes, sample

OCPP = load_ocpp_config({"timezone": "Europe/Berlin", "tariff": {"price_kwh": "0.30"}})


class Paper:
    """The sink: what each receipt said, and a printer that can be made to fail."""

    def __init__(self) -> None:
        self.receipts: list[tuple[str, dict, bool]] = []
        self.fail: list[Exception] = []

    def __call__(self, key, doc, summary, reprint):
        if self.fail:
            raise self.fail.pop(0)
        self.receipts.append((key, summary.to_json(), reprint))
        return f"job-{len(self.receipts)}"


def listener(tmp_path, paper: Paper, **cfg) -> Listener:
    c = EverestConfig(broker="mqtt://127.0.0.1:1", settle_s=0, **cfg)
    return Listener(c, OCPP, tmp_path / "everest.db", paper)


def feed(lst: Listener, lines: list[dict]) -> list[str | None]:
    """The lines as MQTT messages, then one turn of the receipt timer."""
    out = [lst.handle(x["topic"], payload_bytes(x)) for x in lines]
    lst.flush()
    return out


def test_repeated_finished_prints_once_also_after_a_restart(tmp_path):
    paper, seq = Paper(), sample("session_info.jsonl")
    lst = listener(tmp_path, paper)
    assert feed(lst, seq + [seq[-2]] * 100) == [None] * (len(seq) + 100)
    assert len(paper.receipts) == 1
    lst.close()
    lst = listener(tmp_path, paper)  # the store remembers the connector is finished
    feed(lst, [seq[0]] + [seq[-2]] * 10)
    lst.flush(force=True)
    assert len(paper.receipts) == 1
    lst.close()


def test_restart_mid_session_keeps_the_start(tmp_path):
    paper, seq = Paper(), sample("session_info.jsonl")
    lst = listener(tmp_path, paper)
    feed(lst, seq[:9])  # up to half-way through charging
    lst.close()
    lst = listener(tmp_path, paper)
    feed(lst, seq[9:])
    lst.close()
    ((key, s, reprint),) = paper.receipts
    assert s["energy_kwh"] == "11.000" and s["meter_start_kwh"] == "4611.954" and not reprint
    assert s["start"] == "2025-06-14T14:00:05.120000+00:00"
    assert W_JOINED not in s["warnings"]


def test_a_session_only_seen_at_its_end_prints_once_with_an_estimated_start(tmp_path):
    paper, seq = Paper(), sample("session_info.jsonl")
    lst = listener(tmp_path, paper)
    feed(lst, [seq[0]] + [seq[-2]] * 5)
    feed(lst, [seq[1]] + [seq[-2]] * 5)  # unplugged, then the same frozen Finished again: old news
    lst.close()
    ((key, s, _),) = paper.receipts
    assert W_JOINED in s["warnings"] and s["meter_start_kwh"] is None
    assert s["start"] == "2025-06-14T14:05:08.120000+00:00"  # Finished at 15:00:10 minus 3302 s


def test_register_disagreement_is_said(tmp_path):
    paper, seq = Paper(), copy.deepcopy(sample("session_info.jsonl"))
    seq[-1]["payload"]["energy_Wh_import"]["total"] += 500  # the meter counted 11.5 kWh
    seq.insert(len(seq) - 2, seq.pop())  # … and said so before Finished
    lst = listener(tmp_path, paper)
    feed(lst, seq)
    lst.close()
    ((_, s, _),) = paper.receipts
    assert s["energy_kwh"] == "11.000"
    assert any("energy check: 11.000 kWh billed" in w and "500 Wh apart" in w for w in s["warnings"])


def test_one_connectors_garbage_does_not_stop_anothers_receipt(tmp_path):
    paper = Paper()
    seq = sample("session_info.jsonl")
    other = [
        {"topic": x["topic"].replace("/evse_manager/", "/evse_2/"), "payload": x["payload"]}
        for x in copy.deepcopy(seq[1:])
    ]
    lst = listener(tmp_path, paper)
    feed(lst, [{"topic": "everest_api/connectors", "payload": ["evse_manager", "evse_2"]}])
    bad = feed(lst, sample("bad_payloads.jsonl")[:10])
    assert all(bad) and lst.skipped == 10
    feed(lst, other + seq[1:])
    lst.close()
    assert sorted(k for k, *_ in paper.receipts) == [
        "everest:evse_2@20250614T140005Z",
        "everest:evse_manager@20250614T140005Z",
    ]
    assert sorted(s["connector"] for _, s, _ in paper.receipts) == [1, 2]


def test_an_unlisted_connector_is_refused(tmp_path):
    lst = listener(tmp_path, Paper())
    line = sample("session_info.jsonl")[1]
    assert "not listed" in (lst.handle(line["topic"], payload_bytes(line)) or "")
    lst.close()


def test_a_failed_print_is_retried_and_marked_reprint_when_it_may_be_on_paper(tmp_path, monkeypatch):
    import escpos809.everest.listener as mod

    monkeypatch.setattr(mod, "RETRY_S", 0.0)
    paper, seq = Paper(), sample("session_info.jsonl")
    maybe = OSError("link lost mid-receipt")
    maybe.maybe_printed = True  # type: ignore[attr-defined]
    paper.fail = [OSError("printer offline"), maybe]
    lst = listener(tmp_path, paper)
    feed(lst, seq)
    assert paper.receipts == []
    assert lst.receipts()[0]["state"] == "failed" and "printer offline" in lst.receipts()[0]["error"]
    lst.flush()
    lst.flush()
    lst.close()
    ((_, _, reprint),) = paper.receipts
    assert reprint  # the second attempt had sent bytes: the third carries the REPRINT mark


def test_charge_and_connector_round_trip_json():
    ch = Charge("c", "k", charged_wh=Decimal("1.5"), register_start=Decimal(7), states=[])
    assert Charge.from_json(ch.to_json()) == ch
    c = Connector("c", "open", ch, "1.5:3", "u", "k", Decimal("9.25"), "M")
    assert Connector.from_json(c.to_json()) == c


@pytest.mark.parametrize(
    ("table", "reason"),
    [
        ({}, "broker is not set"),
        ({"broker": "tcp://h:1"}, "expected mqtt://HOST:PORT"),
        ({"broker": "mqtt://h:1", "prefix": "a/#"}, "cannot be a topic prefix"),
        ({"broker": "mqtt://h:1", "cert": "/etc/hostname"}, "need an mqtts:// broker"),
        ({"broker": "mqtts://h", "ca": "/nonexistent.pem"}, "no such file"),
        ({"broker": "mqtt://h", "settle_s": "soon"}, "must be a number"),
        ({"broker": "mqtt://h", "tolerance_wh": "lots"}, "is not a number"),
        ({"broker": "mqtt://h", "color": "red"}, "unknown setting(s) color"),
    ],
)
def test_config_refusals(table, reason):
    with pytest.raises(EverestConfigError, match=".*") as err:
        load_everest_config(table)
    assert reason in str(err.value)


def test_config_defaults_and_credentials(tmp_path):
    (tmp_path / "pw").write_text("s3cret\n")
    cfg = load_everest_config({"broker": "mqtts://user@broker.local", "password_file": str(tmp_path / "pw")})
    assert (cfg.host, cfg.port, cfg.tls) == ("broker.local", 8883, True)
    assert cfg.credentials() == ("user", "s3cret")
    assert load_everest_config({"broker": "mqtt://h"}).port == 1883
    assert cfg.tolerance(Decimal(100_000)) == Decimal(500)  # 0.5 % beats 10 Wh


def test_a_plug_in_that_never_charged_prints_nothing(tmp_path):
    paper, seq = Paper(), copy.deepcopy(sample("session_info.jsonl"))
    timeout = seq[:6]  # connectors, Unplugged, Preparing, AuthRequired: never Charging
    finished = copy.deepcopy(seq[-2])
    finished["payload"].update(charged_energy_wh=0, charging_duration_s=0)
    lst = listener(tmp_path, paper)
    feed(lst, timeout + [finished] * 3 + [seq[1]])
    lst.close()
    assert paper.receipts == []


def test_service_config_takes_the_everest_table(tmp_path):
    from escpos809.config import load
    from escpos809.errors import Escpos809Error
    from escpos809_service.config import load_service_config

    conf = tmp_path / "c.toml"
    conf.write_text('[printers]\nfront = "tcp://127.0.0.1:9100"\n[everest]\nbroker = "mqtt://127.0.0.1:1883"\n')
    cfg = load_service_config(load({"ESCPOS809_CONFIG": str(conf)}))
    assert cfg.everest is not None and cfg.everest.host == "127.0.0.1" and cfg.everest_printer == "front"
    conf.write_text(conf.read_text() + 'printer = "back"\n')
    with pytest.raises(Escpos809Error, match=r"\[everest\] printer 'back' is not one of the \[printers\]"):
        load_service_config(load({"ESCPOS809_CONFIG": str(conf)}))
