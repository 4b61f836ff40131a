"""Bad input against the real print service (``escpos809 serve`` over HTTP on 127.0.0.1):
what the worst bodies within the size limit cost to refuse, against accepting a small job,
and a seeded fuzz run of job bodies and OCPP frames counted by status code.

    python3 benchmarks/bench_fuzz_service.py [--bodies 10000] [--frames 10000] [--seed 809]

Targets: every refusal < 50x the time of accepting a small job; 0 answers >= 500; 0 bugs behind
a 4xx (a render or assembler failure turned into a refusal); a good job prints afterwards.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from escpos809.emulator import VirtualPrinter  # noqa: E402
from tests.service.conftest import Service  # noqa: E402
from tests.service.test_fuzz import run  # noqa: E402


def small_job() -> bytes:
    return json.dumps(
        {
            "type": "receipt",
            "document": {
                "blocks": [
                    {"type": "text", "text": "VOLTPARK", "bold": True, "align": "center"},
                    {"type": "kv", "key": "Energy", "value": "23.456 kWh"},
                    {"type": "kv", "key": "Total", "value": "15.40 EUR"},
                    {"type": "cut"},
                ]
            },
        }
    ).encode()


def worst_bodies(limit: int) -> dict[str, bytes]:
    """Bodies within the size limit that are costly to refuse if the service is careless."""
    big = {
        "type": "receipt",
        "document": {
            "blocks": [
                {"type": "text", "text": f"line {i:05d} of a receipt that goes on and on", "bold": "yes"}
                for i in range(40_000)
            ]
        },
    }
    nested = {"repeat": "a", "blocks": [{"type": "text", "text": "{x}"}]}
    for _ in range(2):
        nested = {"repeat": "a", "blocks": [nested]}
    text = b'{"type": "text", "text": "' + b"x" * (limit - 64) + b'"}'
    return {
        "40,000 invalid blocks": json.dumps(big).encode(),
        "40,000 cut blocks": json.dumps(
            {"type": "receipt", "document": {"blocks": [{"type": "cut"}] * 40_000}}
        ).encode(),
        "2,000 invalid blocks": json.dumps(
            {
                "type": "receipt",
                "document": {"blocks": [{"type": "text", "text": 1, "bold": "yes", "colour": "red"}] * 2000},
            }
        ).encode(),
        "4 tables of 1,000 bad rows": json.dumps(
            {
                "type": "receipt",
                "document": {
                    "blocks": [{"type": "columns", "columns": [{"width": 10}], "rows": [["x", 1]] * 1000}] * 4
                },
            }
        ).encode(),
        "[ x 100,000": b"[" * 100_000,
        "objects 50,000 deep": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        "4,301-digit integer": b'{"type": "text", "text": ' + b"9" * 4301 + b"}",
        "1e400": b'{"type": "text", "text": 1e400}',
        "values at the size limit": b"[" + b"0," * ((limit - 8) // 2) + b"0]",
        "string at the size limit": text,
        "template bomb": json.dumps(
            {"type": "receipt", "document": {"blocks": [nested]}, "data": {"a": list(range(1000)), "x": "y"}}
        ).encode(),
        "lone surrogates": json.dumps({"type": "text", "text": "\ud800" * 100_000}).encode(),
    }


def timed(svc: Service, body: bytes, n: int, vp: VirtualPrinter) -> tuple[float, int]:
    """Median time of ``n`` submissions, each on a quiet machine (the one before printed)."""
    times, status = [], 0
    for _ in range(n):
        start = time.perf_counter()
        r = svc.request("POST", "/api/v1/printers/fuzz/jobs", body, {"Content-Type": "application/json"}, timeout=120)
        times.append(time.perf_counter() - start)
        status = r.status
        if status == 202:
            idle(svc, vp)
    return statistics.median(times), status


def idle(svc: Service, vp: VirtualPrinter, timeout: float = 120) -> None:
    """Until the fuzz printer's queue is empty and the virtual printer has drawn everything."""
    end = time.monotonic() + timeout
    while svc.request("GET", "/api/v1/printers/fuzz").json["queue"] and time.monotonic() < end:
        time.sleep(0.1)
    vp.wait_idle()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bodies", type=int, default=10_000)
    ap.add_argument("--frames", type=int, default=10_000)
    ap.add_argument("--queries", type=int, default=1_000)
    ap.add_argument("--seed", type=int, default=809)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="escpos809-fuzz-"))
    good, fuzzed = (VirtualPrinter(tmp / n, idle_s=0.1).start() for n in ("good", "fuzzed"))
    svc = Service(
        tmp, {"default": good.uri + "?timeout=3&read_timeout=1", "fuzz": fuzzed.uri + "?timeout=3&read_timeout=1"}
    )
    svc.config.write_text(svc.config.read_text() + '[ocpp]\nprinter = "default"\ngrace_s = 0.5\n')
    svc.start(timeout=60)
    try:
        limit = 8 * 1024 * 1024
        timed(svc, small_job(), 10, fuzzed)  # warm
        accept, _ = timed(svc, small_job(), 50, fuzzed)
        print(f"accepting a small receipt job: {accept * 1000:.1f} ms (median of 50, HTTP round trip)")
        print(f"{'worst bodies within the size limit':<36} {'bytes':>10} {'status':>6} {'ms':>8} {'x small':>8}")
        worst = 0.0
        for what, body in worst_bodies(limit).items():
            t, status = timed(svc, body, 5, fuzzed)
            worst = max(worst, t / accept)
            print(f"{what:<36} {len(body):>10,} {status:>6} {t * 1000:>8.1f} {t / accept:>8.1f}")
        print(f"worst refusal: {worst:.1f}x a small job (target < 50x)")

        start = time.perf_counter()
        counts, bad = run(svc, args.seed, args.bodies, args.frames, args.queries)
        took = time.perf_counter() - start
        total = sum(sum(c.values()) for c in counts.values())
        print(f"\nfuzz (seed {args.seed}): {total:,} requests in {took:.1f} s ({total / took:.0f}/s)")
        for kind, c in sorted(counts.items()):
            print(f"  {kind:<12} " + "  ".join(f"{s}: {n:,}" for s, n in sorted(c.items())))
        fives = sum(n for c in counts.values() for s, n in c.items() if s >= 500)
        print(f"answers >= 500: {fives}; bugs found: {len(bad)}")
        for line in bad[:20]:
            print("  " + line)
        r = svc.submit(
            {"type": "receipt", "document": {"blocks": [{"type": "text", "text": "STILL PRINTING"}, {"type": "cut"}]}}
        )
        done = r.status == 202 and svc.wait_state(r.json["id"], timeout=60)["state"] == "done"
        print(f"a good job after the fuzz run: {'printed' if done else 'NOT printed'}")
        return 0 if not bad and worst < 50 and done else 1
    finally:
        svc.stop(20)
        good.stop()
        fuzzed.stop()


if __name__ == "__main__":
    sys.exit(main())
