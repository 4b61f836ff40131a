"""Probe figures: the probe against every firmware variant, and against random replies.

    python3 benchmarks/bench_probe.py [--fuzz 200]

1. Variants: ``escpos809 probe`` over TCP against ``escpos809 emulate --firmware NAME``: seconds
   for the automatic part (``--batch``) and for the whole run with the sheet (until its paper is
   on disk), the sheet's lines and bytes.
2. Fuzz: printers that answer each request with random bytes (random lengths, sometimes none,
   sometimes hanging up) probed in-process: runs/s, and crashes (exceptions that are not an
   ``Escpos809Error``, target 0).
"""

from __future__ import annotations

import argparse
import random
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ helpers

from escpos809.emulator.firmware import builtin_firmware
from escpos809.errors import Escpos809Error
from escpos809.probe import ask, sheet
from escpos809.profile import load_profile
from escpos809.transport import open_transport
from tests.emulator.emulate import emulate
from tests.probe.paper import cli, jobs, new_job

QUIET = ("--status-port", "-1", "--discovery-port", "-1")


def variants() -> None:
    lines = sheet.plan(load_profile())
    print(f"sheet: {len(lines)} lines, {len(sheet.sheet_bytes(lines))} bytes")
    for name in builtin_firmware():
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp)
            proc = emulate(out, "--firmware", name)
            assert proc.stdout is not None
            uri = proc.stdout.readline().split()[4]
            try:
                start = time.monotonic()
                batch = cli("probe", "--printer", uri, "--batch", *QUIET)
                t_batch = time.monotonic() - start
                before = jobs(out)
                start = time.monotonic()
                full = cli("probe", "--printer", uri, *QUIET)
                new_job(out, before)
                t_full = time.monotonic() - start
                ok = batch.returncode == full.returncode == 0
                verdict = "ok" if ok else "FAILED"
                print(f"{name:8} automatic {t_batch:5.2f} s   with sheet on paper {t_full:5.2f} s   {verdict}")
            finally:
                proc.terminate()
                proc.wait(10)


def _fuzz_server(rng: random.Random) -> tuple[socket.socket, threading.Thread]:
    srv = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        try:
            conn, _ = srv.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(2)
            try:
                while conn.recv(65536):
                    roll = rng.random()
                    if roll < 0.05:
                        return  # hang up
                    if roll < 0.3:
                        continue  # silence
                    conn.sendall(bytes(rng.randrange(256) for _ in range(rng.choice((1, 1, 4, 7, 300)))))
            except OSError:
                return

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return srv, t


def fuzz(count: int, seed: int) -> None:
    rng = random.Random(seed)
    crashes = errors = 0
    start = time.monotonic()
    for _ in range(count):
        srv, t = _fuzz_server(rng)
        uri = f"tcp://127.0.0.1:{srv.getsockname()[1]}"
        try:
            with open_transport(uri, read_timeout=0.02) as tr:
                found = ask.ask(tr, 0.02, buffer_test=False)
                found.lines()
        except Escpos809Error:
            errors += 1
        except Exception as exc:  # noqa: BLE001 - counting what must not happen
            crashes += 1
            print(f"crash: {type(exc).__name__}: {exc}")
        finally:
            srv.close()
            t.join(3)
    took = time.monotonic() - start
    print(f"fuzz: {count} printers in {took:.1f} s ({count / took:.1f}/s), {errors} one-line errors, {crashes} crashes")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fuzz", type=int, default=200)
    ap.add_argument("--seed", type=int, default=809)
    args = ap.parse_args()
    print("figures from a shared, busy machine: compare within one run only")
    variants()
    fuzz(args.fuzz, args.seed)


if __name__ == "__main__":
    main()
