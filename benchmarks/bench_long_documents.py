"""Long documents through the print service over real HTTP: a day's report of 20,000 lines
accepted, rendered and printed on the virtual printer; a 40,000-block invalid document refused
with its paths, in time against a small job's; the preview of the long job refused before
drawing; and the library rendering the report in bounded memory.

    python3 benchmarks/bench_long_documents.py [--lines 20000] [--bad-blocks 40000] [--small 200] [--bad-runs 20]

Targets (issue 17): the 40,000-block invalid document refused in <= 50x a small job's time;
memory bounded (the peak does not grow with the document the way the output does).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_service import get, receipt, start_service  # noqa: E402

from escpos809 import document as d  # noqa: E402
from escpos809.emulator import VirtualPrinter  # noqa: E402
from escpos809.profile import load_profile  # noqa: E402
from escpos809.receipt import render_to  # noqa: E402


def report(lines: int) -> dict:
    """A day's charging report: a title, one table row per session, a total, a cut."""
    rows = [
        [f"11-25 {i // 60 % 24:02d}:{i % 60:02d}", f"CP-{i % 37:03d}", f"{i * 0.173:.3f} kWh", f"{i * 0.061:.2f}"]
        for i in range(lines - 2)
    ]
    cols = [{"width": 11}, {"width": 6}, {"width": 0.6, "align": "right"}, {"width": 0.4, "align": "right"}]
    return {
        "blocks": [
            {"type": "text", "text": "DAY REPORT 2026-11-25", "bold": True},
            {"type": "columns", "columns": cols, "rows": rows},
            {"type": "kv", "key": "Sessions", "value": str(lines - 2)},
            {"type": "cut"},
        ]
    }


def post(port: int, path: str, body: bytes) -> tuple[int, bytes, float]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    t = time.perf_counter()
    c.request("POST", path, body, {"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    return r.status, data, time.perf_counter() - t


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmHWM:"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=20_000)
    ap.add_argument("--bad-blocks", type=int, default=40_000)
    ap.add_argument("--small", type=int, default=200, help="small jobs timed for the reference figure")
    ap.add_argument("--bad-runs", type=int, default=20, help="refusals timed, spread among the small jobs")
    args = ap.parse_args()
    print(f"{os.cpu_count()} CPU cores; Python {sys.version.split()[0]}; load average {os.getloadavg()[0]:.2f}")
    jobs = "/api/v1/printers/default/jobs"
    with tempfile.TemporaryDirectory() as tmp:
        vp = VirtualPrinter(Path(tmp) / "paper").start()
        (Path(tmp) / "svc").mkdir()
        proc, port = start_service(Path(tmp) / "svc", vp.uri)
        try:
            vp.faults.cover_open = True  # small jobs queue up: the figures are accepting alone
            bad = json.dumps(
                {
                    "type": "receipt",
                    "document": {
                        "blocks": [{"type": "text", "text": f"line {i}", "bold": "yes"} for i in range(args.bad_blocks)]
                    },
                }
            ).encode()
            small_times, bad_times = [], []
            post(port, jobs, receipt(0)), post(port, jobs, bad)  # warm: caches, validators built once
            every = max(1, args.small // args.bad_runs)
            # interleaved, and each request alike on a new connection: the machine's load drifts
            # over both the same way
            for k in range(args.small):
                small_times.append(post(port, jobs, receipt(k))[2])
                if k % every == 0 and len(bad_times) < args.bad_runs:
                    status, body, seconds = post(port, jobs, bad)
                    assert status == 422, (status, body[:300])
                    bad_times.append(seconds)
            small, refused = statistics.median(small_times), statistics.median(bad_times)
            problem = json.loads(body)
            print(f"small receipt job accepted (202): median {small * 1000:.2f} ms over {len(small_times)}")
            print(
                f"{args.bad_blocks:,}-block invalid document ({len(bad) / 1e6:.1f} MB) refused (422): median "
                f"{refused * 1000:.1f} ms over {len(bad_times)} = {refused / small:.0f}x a small job (target <= 50x)"
            )
            errors = problem["errors"]
            print(f"  first paths: {', '.join(e['path'] for e in errors[:3])} … {errors[-1]['message']}")

            for j in get(port, "/api/v1/jobs?limit=500")["jobs"]:  # the small jobs are not printed
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                c.request("DELETE", f"/api/v1/jobs/{j['id']}")
                c.getresponse().read()
            vp.faults.cover_open = False
            doc = report(args.lines)
            body_bytes = json.dumps({"type": "receipt", "document": doc}).encode()
            rss_before = peak_rss_mb(proc.pid)
            status, answer, seconds = post(port, jobs, body_bytes)
            assert status == 202, answer[:300]
            job = json.loads(answer)
            t0 = time.perf_counter()
            while get(port, f"/api/v1/jobs/{job['id']}")["state"] != "done":
                time.sleep(0.05)
            printed = time.perf_counter() - t0
            vp.wait_idle(60)
            record = vp.jobs[-1]
            print(
                f"{args.lines:,}-line report ({len(body_bytes) / 1e6:.1f} MB of JSON): accepted in {seconds:.2f} s "
                f"({job['bytes']:,} bytes of ESC/POS), printed and confirmed {printed:.2f} s later "
                f"(virtual printer unthrottled; {record.ops_total:,} paper operations)"
            )
            print(f"  service peak RSS {rss_before:.0f} MB before the report, {peak_rss_mb(proc.pid):.0f} MB after")
            t = time.perf_counter()
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            c.request("GET", f"/api/v1/jobs/{job['id']}/preview.png")
            r = c.getresponse()
            detail = json.loads(r.read()).get("detail", "")
            print(f"  its preview: {r.status} in {(time.perf_counter() - t) * 1000:.0f} ms ({detail})")
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            vp.stop()

    profile = load_profile()
    for lines in (args.lines // 10, args.lines, args.lines * 2):
        parsed = d.from_dict(report(lines))
        sizes: list[int] = []
        tracemalloc.start()
        t = time.perf_counter()
        render_to(parsed, lambda chunk, sizes=sizes: sizes.append(len(chunk)), profile)
        seconds = time.perf_counter() - t
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(
            f"library, {lines:,} lines rendered in chunks: {sum(sizes):,} bytes in {len(sizes)} chunks, "
            f"{seconds:.2f} s under tracemalloc, peak {peak / 1e6:.1f} MB"
        )
    print("(figures from a shared, busy 2-core machine)")


if __name__ == "__main__":
    main()
