"""Hostile orderings and long runs against the listener's session logic: a car state that
arrives late (after its session ended) opens no second session, a station whose clock was set
back still gets its receipts, and printed sessions leave memory (the store answers for them)."""

from __future__ import annotations

import json
from datetime import date, timedelta

from escpos809.everest.charge import Connector
from tests.everest.conftest import sample
from tests.everest.test_listener import Paper, feed, listener


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
