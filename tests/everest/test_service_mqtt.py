"""The print service with an ``[everest]`` table: the listener runs beside the workers and its
receipts go through the durable job queue (idempotency key ``everest:<session>``), once per
session across a restart of the service."""

from __future__ import annotations

from tests.everest.conftest import Publisher, receipts, sample, wait_for
from tests.service.conftest import Service, vprinter  # noqa: F401 - fixture


def _subscribed(svc: Service) -> int:
    return svc.log.read_text(errors="replace").count("EVerest subscribed")


def test_service_prints_everest_receipts_through_the_queue_once(tmp_path, broker, vprinter):  # noqa: F811
    svc = Service(tmp_path, {"front": vprinter.uri})
    svc.config.write_text(
        svc.config.read_text()
        + f'[ocpp]\ntimezone = "Europe/Berlin"\n[everest]\nbroker = "{broker.url}"\nsettle_s = 0.3\n'
    )
    svc.start()
    try:
        wait_for(lambda: _subscribed(svc) >= 1, what="the service's MQTT subscription")
        seq = sample("session_events.jsonl")
        pub = Publisher(broker)
        pub.send(seq[0]["topic"], b'["evse_manager"]')
        wait_for(lambda: _subscribed(svc) >= 2, what="the connector topics")
        pub.play(seq[1:])
        wait_for(lambda: receipts(vprinter.out_dir), what="the receipt")
        jobs = svc.request("GET", "/api/v1/jobs").json["jobs"]
        assert [j["state"] for j in jobs if j["printer"] == "front"] == ["done"]
        svc.stop()
        svc.start()  # the restarted service hears Finished again: nothing new
        wait_for(lambda: _subscribed(svc) >= 3, what="the restarted service's subscription")
        pub.play([seq[-3], seq[-2], seq[-1]] * 3)
        # a next session (API topics only) proves the repeats were heard and passed over
        pub.play(sample("session_info.jsonl")[1:])
        wait_for(lambda: len(receipts(vprinter.out_dir)) >= 2, what="the next session's receipt")
        pub.close()
    finally:
        svc.stop()
    r, r2 = receipts(vprinter.out_dir)
    assert any(line.startswith("Transaction") and "evse_manager@20250614T140005Z" in line for line in r2)
    assert any(line.startswith("Transaction") and "5f1d6a0e" in line for line in r)
    assert any(line.startswith("Energy ") and line.endswith("20.800 kWh") for line in r)
