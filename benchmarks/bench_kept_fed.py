"""Is the printer kept fed? 100 receipts over a modelled serial link into a small buffer.

    python3 benchmarks/bench_kept_fed.py [--receipts 100] [--baud 115200] [--buffer 4096]

The virtual printer runs as users run it (``escpos809 emulate --throttle --baud 115200
--receive-buffer 4096``, its own process): bytes come down a 115,200-baud 8N1 line (11,520
bytes/s), wait in a 4 KB receive buffer, and print at 300 mm/s; ``GS r 1`` is answered once
the paper before it is printed. A receipt cannot print faster than its bytes arrive nor than
its paper moves, so the best a driver can do is max(wire time, paper time) for the whole run;
the figure is the driver's time against that (target: within 3 %).

Two receipts, so both limits are met: the reference receipt (peers.md §6, with its logo:
the wire is the limit) and the same receipt without the logo (text: the paper is the limit).
Three ways to send: as the print service does (``Printer.send_job``, the next receipt on its
way while the last one's confirmation comes back, ``service.worker.PIPELINE`` in flight); the
peer, python-escpos 3.1's Network printer, which writes everything and confirms nothing (one
``GS r 1`` at the end marks the paper done); and one confirmed job at a time
(``Printer.print_job``, as ``escpos809 print`` does per call), which leaves the printer
waiting between receipts.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from reference_receipt import escpos809_document, logo  # noqa: E402

from escpos809 import document as d  # noqa: E402
from escpos809.emulator.interpreter import Interpreter  # noqa: E402
from escpos809.emulator.link import baud_to_bytes_per_s  # noqa: E402
from escpos809.printer import Printer  # noqa: E402
from escpos809.profile import load_profile  # noqa: E402
from escpos809.receipt import render  # noqa: E402
from escpos809_service.worker import PIPELINE  # noqa: E402
from tests.emulator.emulate import emulate  # noqa: E402

GS_R1 = 3  # bytes of the GS r 1 behind each job


def receipts(profile) -> dict[str, bytes]:
    ref = escpos809_document(logo())
    text = d.Document(tuple(b for b in ref.blocks if not isinstance(b, d.ImageBlock)))
    return {"reference (logo)": render(ref, profile).data, "text only": render(text, profile).data}


def paper_s(data: bytes, profile) -> float:
    """The receipt's paper time as the throttled virtual printer counts it: the height of every
    operation its interpreter makes of the bytes, at the profile's speed."""
    ops: list = []
    interp = Interpreter(profile.width_dots, profile.font_cells, dict(profile.codepages))
    interp.sink = ops.append
    interp.feed(data)
    interp.finish()
    return sum(op.height for op in ops) / (profile.speed_mm_s * profile.dpi / 25.4)


def start_printer(out: Path, baud: int, buffer: int) -> tuple[subprocess.Popen, str]:
    proc = emulate(out, "--throttle", "--baud", str(baud), "--receive-buffer", str(buffer))
    line = proc.stdout.readline() if proc.stdout else ""
    if " on " not in line:
        proc.kill()
        raise SystemExit(f"escpos809 emulate did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}")
    return proc, line.split(" on ", 1)[1].strip()


def pipelined(uri: str, data: bytes, count: int, profile) -> float:
    """As the service's worker: send_job, at most PIPELINE jobs unconfirmed, then the rest."""
    with Printer(uri, profile, write_timeout=120, read_timeout=5) as p:
        budget = p.confirm_budget(data) * PIPELINE
        t = time.perf_counter()
        for _ in range(count):
            p.send_job(data)
            while p.awaiting > PIPELINE:
                p.confirm(budget)
        while p.awaiting:
            p.confirm(budget)
        return time.perf_counter() - t


def python_escpos(uri: str, data: bytes, count: int, profile) -> float:
    """The peer: python-escpos 3.1's Network printer writes every receipt without waiting (it
    confirms nothing); one GS r 1 after the last says when the paper is done."""
    from escpos.printer import Network

    host, port = uri.removeprefix("tcp://").rsplit(":", 1)
    p = Network(host, int(port), timeout=120)
    p.open()
    try:
        t = time.perf_counter()
        for _ in range(count):
            p._raw(data)
        p._raw(b"\x1dr\x01")
        if not p.device.recv(1):
            raise SystemExit("the virtual printer closed the connection")
        return time.perf_counter() - t
    finally:
        p.close()


def one_at_a_time(uri: str, data: bytes, count: int, profile) -> float:
    """Each receipt sent and confirmed before the next is sent."""
    with Printer(uri, profile, write_timeout=120, read_timeout=5) as p:
        t = time.perf_counter()
        for _ in range(count):
            p.print_job(data)
        return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--receipts", type=int, default=100)
    ap.add_argument("--one-at-a-time", type=int, default=10, help="receipts for the unpipelined comparison")
    ap.add_argument("--peer-receipts", type=int, default=100, help="receipts python-escpos sends (0: skip it)")
    ap.add_argument("--baud", type=int, default=115_200)
    ap.add_argument("--buffer", type=int, default=4096)
    args = ap.parse_args()
    profile = load_profile()
    rate = baud_to_bytes_per_s(args.baud)
    load = os.getloadavg()[0]
    print(
        f"kept fed: {args.baud:,} baud 8N1 ({rate:,} bytes/s), {args.buffer:,}-byte receive buffer, "
        f"{profile.speed_mm_s} mm/s; escpos809 emulate --throttle in its own process "
        f"({os.cpu_count()} cores, load {load:.1f}: a busy machine adds to every figure)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        proc, uri = start_printer(Path(tmp) / "paper", args.baud, args.buffer)
        try:
            for name, data in receipts(profile).items():
                wire, paper = (len(data) + GS_R1) / rate, paper_s(data, profile)
                print(
                    f"{name}: {len(data):,} bytes = {wire * 1000:.0f} ms on the wire, "
                    f"{paper * 1000:.0f} ms of paper ({'wire' if wire > paper else 'paper'}-bound)"
                )
                per_receipt: dict[str, float] = {}
                for label, how, count in (
                    (f"pipelined ({PIPELINE} in flight)", pipelined, args.receipts),
                    ("python-escpos (no confirmations)", python_escpos, args.peer_receipts),
                    ("one at a time", one_at_a_time, args.one_at_a_time),
                ):
                    if not count:
                        continue
                    best = count * max(wire, paper)
                    took = how(uri, data, count, profile)
                    per_receipt[label] = took / count
                    print(
                        f"  {label:<34} {count:>4} receipts in {took:7.2f} s; max(wire, paper) {best:7.2f} s; "
                        f"{took / best - 1:+6.1%} (target within +3 %)"
                    )
                ours, peer = (
                    per_receipt.get(f"pipelined ({PIPELINE} in flight)"),
                    per_receipt.get("python-escpos (no confirmations)"),
                )
                if ours and peer:
                    print(f"  per receipt: escpos809 pipelined / python-escpos {ours / peer:.3f}x (1.0: as fast)")
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
