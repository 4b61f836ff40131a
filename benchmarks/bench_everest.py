"""EVerest receipt figures, all against a real Mosquitto and ``escpos809 everest`` printing to
the virtual printer over TCP:

1. once-only: S sessions on C connectors, each ``Finished`` republished R times, with the
   listener restarted (SIGTERM) and the broker restarted between rounds; receipts on paper
   must equal S (duplicates and losses are counted);
2. garbage: G bad payloads (the sample refusals and oversized messages) sent among the
   sessions; all skipped, every receipt still printed;
3. intake rate: messages per second through ``Listener.handle`` (parse, track, store) in
   this process, next to ``json.loads`` of the same payloads (the floor), in the same run.

    python3 benchmarks/bench_everest.py [--sessions 12] [--connectors 3] [--repeats 20] [--garbage 2000]
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from escpos809.emulator import VirtualPrinter  # noqa: E402
from tests.everest.conftest import Broker, Listener, Publisher, payload_bytes, receipts, sample, wait_for  # noqa: E402
from tests.everest.test_cli_mqtt import shifted  # noqa: E402


def session(name: str, offset_s: int) -> list[dict]:
    """The sample session (API topics) on connector ``name``, ``offset_s`` later."""
    seq = shifted(sample("session_info.jsonl")[1:], offset_s)
    for line in seq:
        line["topic"] = line["topic"].replace("/evse_manager/", f"/{name}/")
    return seq


def once_only(tmp: Path, sessions: int, connectors: int, repeats: int, garbage: int) -> dict:
    vp = VirtualPrinter(tmp / "paper", idle_s=0.1).start()
    broker = Broker(tmp).start()
    names = [f"evse_{i + 1}" for i in range(connectors)]
    lst = Listener(tmp, broker, vp.uri)
    pub = None
    try:
        lst.start()
        pub = Publisher(broker)
        pub.connectors({"topic": "everest_api/connectors", "payload": names}, lst)
        bad = sample("bad_payloads.jsonl")
        sent_bad = finished_sent = 0
        t0 = time.monotonic()
        rounds = (sessions + connectors - 1) // connectors
        done = 0
        for rnd in range(rounds):
            for i, name in enumerate(names):
                if done == sessions:
                    break
                seq = session(name, rnd * 7200 + i)
                pub.play(seq)
                for _ in range(repeats):
                    pub.play([seq[-2]])
                finished_sent += repeats + 1
                for k in range(garbage // max(1, sessions)):
                    line = copy.deepcopy(bad[k % len(bad)])
                    line["topic"] = line["topic"].replace("/evse_manager/", f"/{name}/")
                    pub.send(line["topic"], payload_bytes(line))
                    sent_bad += 1
                done += 1
            wait_for(lambda n=done: len(receipts(vp.out_dir)) >= n, timeout=60, what="the round's receipts")
            if rnd % 2 == 0:  # restart the listener; it must not print the round again
                lst.stop()
                lst.start()
            else:  # restart the broker under it
                before = lst.text().count("EVerest subscribed")
                pub.close()
                broker.stop()
                broker.start()
                pub = Publisher(broker)
                wait_for(lambda b=before: lst.text().count("EVerest subscribed") > b, timeout=60, what="resubscription")
            for i, name in enumerate(names[: min(connectors, sessions - rnd * connectors)]):
                for _ in range(repeats):  # EVerest still says Finished after the restart
                    pub.play([session(name, rnd * 7200 + i)[-2]])
                finished_sent += repeats
        # a last session proves the repeats after the last restart were heard and passed over
        final = session(names[0], rounds * 7200)
        pub.play(final)
        wait_for(lambda: len(receipts(vp.out_dir)) >= sessions + 1, timeout=60, what="the final receipt")
        elapsed = time.monotonic() - t0
    finally:
        if pub is not None:
            pub.close()
        lst.stop()
        broker.stop()
        vp.stop()
    printed = receipts(vp.out_dir)
    keys = [next(line for line in r if line.startswith("Transaction")) for r in printed]
    return {
        "sessions": sessions + 1,
        "finished_publications": finished_sent + 1,
        "receipts": len(printed),
        "duplicates": len(keys) - len(set(keys)),
        "listener_restarts": (rounds + 1) // 2,
        "broker_restarts": rounds // 2,
        "bad_payloads_sent": sent_bad,
        "skipped_logged": lst.text().count("skipped:"),
        "seconds": round(elapsed, 1),
    }


def intake_rate(tmp: Path, n: int) -> dict:
    from escpos809.everest.config import EverestConfig
    from escpos809.everest.listener import Listener as Core
    from escpos809.ocpp.config import OcppConfig

    lines = sample("session_info.jsonl")
    msgs = [(x["topic"], payload_bytes(x)) for x in lines[1:]]
    core = Core(EverestConfig(broker="mqtt://127.0.0.1:1", settle_s=3600), OcppConfig(), tmp / "rate.db", print)
    core.handle(lines[0]["topic"], payload_bytes(lines[0]))
    t0 = time.perf_counter()
    for i in range(n):
        topic, payload = msgs[i % len(msgs)]
        core.handle(topic, payload)
    handled = n / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for i in range(n):
        json.loads(msgs[i % len(msgs)][1])
    floor = n / (time.perf_counter() - t0)
    core.close()
    return {"messages_per_s": round(handled), "json_loads_per_s": round(floor), "ratio": round(floor / handled, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=12)
    ap.add_argument("--connectors", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--garbage", type=int, default=2000)
    ap.add_argument("--messages", type=int, default=50_000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-everest-") as d:
        print(json.dumps({"once_only": once_only(Path(d), a.sessions, a.connectors, a.repeats, a.garbage)}))
    with tempfile.TemporaryDirectory(prefix="bench-everest-") as d:
        print(json.dumps({"intake": intake_rate(Path(d), a.messages)}))


if __name__ == "__main__":
    main()
