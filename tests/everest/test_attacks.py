"""Hostile orderings and long runs against the listener's session logic: a car state that
arrives late (after its session ended) opens no second session, a station whose clock was set
back still gets its receipts, and printed sessions leave memory (the store answers for them), and
connector names listed once leave memory and the broker's subscriptions."""

from __future__ import annotations

import json
from datetime import date, timedelta

from escpos809.everest.charge import Connector
from tests.everest.conftest import Publisher, sample, wait_for
from tests.everest.test_listener import Paper, feed, listener
from tests.service.conftest import vprinter  # noqa: F401 - fixture


def test_a_late_car_state_after_the_end_opens_no_second_session(tmp_path):
    paper, seq = Paper(), sample("session_info.jsonl")
    lst = listener(tmp_path, paper)
    feed(lst, seq)
    late = [seq[8], seq[10]]  # Charging and ChargingPausedEV from mid-session, delivered after Finished
    reasons = feed(lst, [*late, seq[12], seq[12], seq[1], *late])
    assert [r is not None and "out of order" in r for r in reasons] == [True, True, False, False, False, True, True]
    lst.close()
    lst = listener(tmp_path, paper)  # the end is remembered across a restart
    assert feed(lst, late) == [r for r in reasons if r][:2]
    lst.flush(force=True)
    assert len(paper.receipts) == 1
    lst.close()


def _dated(lines: list[dict], day: str, uuid: str | None = None) -> list[dict]:
    text = json.dumps(lines).replace("2025-06-14", day)
    return json.loads(text.replace("5f1d6a0e-3c4b-4e8a-9d2f-7b6c5a4e3d21", uuid) if uuid else text)


def test_a_station_whose_clock_was_set_back_still_gets_its_receipts(tmp_path):
    paper, seq = Paper(), sample("session_info.jsonl")
    lst = listener(tmp_path, paper)
    feed(lst, seq)
    feed(lst, _dated(seq[1:], "2000-01-01"))  # rebooted without a real-time clock
    lst.flush(force=True)
    assert len(paper.receipts) == 2
    lst.close()


def test_printed_sessions_leave_memory_and_are_not_printed_again(tmp_path):
    paper, seq, n = Paper(), sample("session_events.jsonl"), 30
    lst = listener(tmp_path, paper, events_prefix="everest/")
    days = [(date(2025, 6, 14) + timedelta(days=i)).isoformat() for i in range(n)]
    for i, day in enumerate(days):
        feed(lst, _dated(seq, day, f"uuid-{i}"))
    assert len(paper.receipts) == n
    big = [k for k, v in vars(lst.tracker).items() if isinstance(v, (set, dict, list)) and len(v) >= n]
    assert big == [] and lst.tracker.pending == {}
    lst.close()
    lst = listener(tmp_path, paper, events_prefix="everest/")
    assert lst.tracker.pending == {}
    finished = [x for x in seq if "TransactionFinished" in json.dumps(x)]
    feed(lst, _dated(finished, days[3], "uuid-3"))  # a printed session's end, sent again
    lst.flush(force=True)
    assert len(paper.receipts) == n
    lst.close()


def test_a_connector_round_trips_its_last_session_span(tmp_path):
    paper, seq = Paper(), sample("session_info.jsonl")
    lst = listener(tmp_path, paper)
    feed(lst, seq)
    c = lst.tracker.connectors["evse_manager"]
    assert c.last_start is not None and c.last_end is not None and c.last_start < c.last_end
    assert Connector.from_json(json.loads(json.dumps(c.to_json()))) == c
    lst.close()


def test_connector_names_listed_once_do_not_pile_up(tmp_path):
    paper, seq = Paper(), sample("session_info.jsonl")
    lst = listener(tmp_path, paper)
    feed(lst, seq)  # a session on evse_manager, printed
    idle = seq[1]["payload"]
    for r in range(40):  # garbage listings, 64 new names each, each connector heard once
        names = [f"bogus{r}_{i}" for i in range(64)]
        lines = [{"topic": "everest_api/connectors", "payload": names}]
        feed(lst, lines + [{"topic": f"everest_api/{n}/var/session_info", "payload": idle} for n in names])
    assert len(lst.tracker.connectors) == 64 and len(lst.order) == 64
    lst.close()
    lst = listener(tmp_path, paper)
    assert lst.order == [f"bogus39_{i}" for i in range(64)] and len(lst.tracker.connectors) == 64
    assert len(lst.store.load()[0]) <= 128  # listed + the latest unlisted kept
    lst.close()


def test_a_connector_listed_again_remembers_its_last_session(tmp_path):
    paper, seq = Paper(), sample("session_info.jsonl")
    lst = listener(tmp_path, paper)
    feed(lst, seq)
    feed(lst, [{"topic": "everest_api/connectors", "payload": ["other"]}])
    assert "evse_manager" not in lst.tracker.connectors
    assert feed(lst, [seq[12]]) == ["connector 'evse_manager' is not listed in everest_api/connectors"]
    feed(lst, [seq[0], seq[12], seq[12]])  # listed again; EVerest still repeats its Finished
    lst.flush(force=True)
    assert len(paper.receipts) == 1
    lst.close()


def test_a_connector_dropped_from_the_listing_is_unsubscribed_at_the_broker(tmp_path, broker, vprinter, listeners):  # noqa: F811
    listener = listeners(tmp_path, broker, vprinter.uri).start()
    pub = Publisher(broker)
    try:
        pub.connectors({"topic": "everest_api/connectors", "payload": ["evse_manager"]}, listener)
        pub.connectors({"topic": "everest_api/connectors", "payload": ["other"]}, listener)
        pub.send("everest_api/evse_manager/var/session_info", b"not json")
        pub.send("everest_api/other/var/session_info", b"not json")  # after it: the broker keeps the order
        wait_for(lambda: "everest_api/other/var/session_info: skipped" in listener.text(), what="the marker")
    finally:
        pub.close()
    assert "everest_api/evse_manager/var/session_info" not in listener.text()
