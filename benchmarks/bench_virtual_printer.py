"""Virtual printer figures: fuzzing, a huge stream, and end-of-job confirmation.

    python3 benchmarks/bench_virtual_printer.py [--fuzz 100000] [--text-mb 50] [--receipts 200]

1. Fuzz: seeded random streams biased toward command prefixes (``escpos809.emulator.fuzz``)
   through the interpreter and the renderer: streams/s, exceptions, operations that could not
   be drawn (targets: 0 and 0).
2. Stream: megabytes of text without a cut over TCP to an ``escpos809 emulate`` process, until
   the job is on disk: MB/s and the process's peak resident memory (target <= 300 MB).
3. Confirmation: receipts sent one at a time, each followed by ``GS r 1`` and its reply (the
   reply means the receipt is printed and its page on disk): receipts/s and latency; throttled
   to 300 mm/s, how the reply time compares with the receipt's paper time (>= 1.0).
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ helpers

from escpos809.emulator import VirtualPrinter
from escpos809.emulator.fuzz import streams
from escpos809.emulator.interpreter import Interpreter
from escpos809.paper.draw import render_pages

ROOT = Path(__file__).resolve().parents[1]
GS_R1, CUT = b"\x1dr\x01", b"\x1dVB\x00"


def fuzz(count: int, seed: int) -> None:
    rng = random.Random(seed)
    exceptions = failures = missing = pages = size = 0
    first = None
    t = time.perf_counter()
    for data in streams(seed, count):
        size += len(data)
        try:
            it = Interpreter()
            pos = 0
            while pos < len(data):  # commands split across reads, as from a socket
                step = rng.randrange(1, 64)
                it.feed(data[pos : pos + step])
                pos += step
            it.finish()
            warnings: list[dict] = []
            pages += len(render_pages(it.ops, warnings=warnings))
            # a character no font has is drawn as a replacement mark and reported: drawn, not a failure
            failed = [w for w in warnings if "missing_glyphs" not in w]
            failures += len(failed)
            missing += len(warnings) - len(failed)
            first = first or (failed and (failed[0], data[:80]))
        except Exception as exc:  # noqa: BLE001 - counted and shown
            exceptions += 1
            first = first or (repr(exc), data[:80])
    took = time.perf_counter() - t
    print(f"fuzz: {count:,} streams ({size / 1e6:.1f} MB, seed {seed}) through interpreter + renderer in {took:.1f} s")
    print(
        f"  {count / took:,.0f} streams/s   exceptions {exceptions}   operations not drawn {failures}   "
        f"pages drawn {pages:,}   (targets 0 and 0; {missing} characters no font has, drawn as a mark and reported)"
    )
    if first:
        print(f"  first problem: {first}")


def stream(megabytes: float) -> None:
    # the same run as the CI memory test (tests/emulator/test_memory.py), at the full count
    from tests.emulator.test_memory import stream_text

    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "paper"
        got = stream_text(out, megabytes)
        files = list((out / "job-0001").glob("page-*.png"))
        disk = sum(f.stat().st_size for f in files) / 1e6
    sent, took, peak = got["bytes"], got["seconds"], got["peak_rss_mb"]
    print(
        f"stream: {sent / 1e6:.0f} MB of text ({sent // 48:,} lines, {sent // 48 * 32 * 25.4 / 203 / 1e6:.2f} km of "
        f"paper, no cut) over TCP to `escpos809 emulate`, until recorded"
    )
    print(
        f"  {sent / 1e6 / took:.2f} MB/s ({took:.0f} s)   peak RSS {peak:.0f} MB (target <= 300)   "
        f"{len(files):,} page files, {disk:.0f} MB on disk"
    )


def confirmations(receipts: int) -> None:
    body = b"".join(b"SESSION %06d  line %d of the receipt\n" % (0, i) for i in range(12)) + CUT
    with tempfile.TemporaryDirectory() as d:
        with VirtualPrinter(Path(d) / "fast") as vp:
            latencies = []
            with socket.create_connection(("127.0.0.1", vp.port)) as s:
                t0 = time.perf_counter()
                for _ in range(receipts):
                    t = time.perf_counter()
                    s.sendall(body + GS_R1)
                    assert s.recv(1) == b"\x00"
                    latencies.append(time.perf_counter() - t)
                took = time.perf_counter() - t0
        lat = sorted(latencies)
        print(f"confirm: {receipts} receipts, each followed by GS r 1 and its reply (printed, page on disk)")
        print(
            f"  {receipts / took:,.0f} receipts/s   latency p50 {lat[len(lat) // 2] * 1000:.1f} ms  "
            f"p99 {lat[int(len(lat) * 0.99)] * 1000:.1f} ms"
        )
        with VirtualPrinter(Path(d) / "slow", throttle=True) as vp:
            speed = vp.profile.speed_mm_s * vp.profile.dpi / 25.4
            paper = 12 * 32 / speed
            ratios = []
            with socket.create_connection(("127.0.0.1", vp.port)) as s:
                for _ in range(10):
                    t = time.perf_counter()
                    s.sendall(body + GS_R1)
                    assert s.recv(1) == b"\x00"
                    ratios.append((time.perf_counter() - t) / paper)
        print(
            f"  throttled to {vp.profile.speed_mm_s} mm/s: reply after {statistics.median(ratios):.2f}x the "
            f"receipt's paper time ({paper * 1000:.0f} ms; min {min(ratios):.2f}x, target >= 1.0)"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fuzz", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=809)
    ap.add_argument("--text-mb", type=float, default=50)
    ap.add_argument("--receipts", type=int, default=200)
    args = ap.parse_args()
    print(f"{os.cpu_count()} CPU cores; Python {sys.version.split()[0]}")
    if args.fuzz:
        fuzz(args.fuzz, args.seed)
    if args.text_mb:
        stream(args.text_mb)
    if args.receipts:
        confirmations(args.receipts)


if __name__ == "__main__":
    main()
