"""python-escpos's receipt example (examples/receipt.py, tests/compat) through stock python-escpos
and through escpos809's Escpos809, to the virtual printer over TCP.

    .venv/bin/python benchmarks/bench_python_escpos.py

Prints, for each: the median time from the first call to the printer having the job on paper
(the connection closed, job.json done), the bytes sent, and what the virtual printer found
wrong (unknown commands, warnings). Stock python-escpos runs through its Network class.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from escpos.printer import Network  # noqa: E402

import tests.compat.test_python_escpos_examples as example  # noqa: E402
from escpos809.compat.python_escpos import Escpos809  # noqa: E402
from tests.emulator.emulate import emulate  # noqa: E402

RUNS = 10


def wait_done(out: Path, n: int) -> dict:
    log = out / f"job-{n:04d}" / "job.json"
    while True:
        if log.exists() and (data := json.loads(log.read_text("utf-8")))["state"] == "done":
            return data
        time.sleep(0.01)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work, out = Path(tmp), Path(tmp) / "paper"
        for name, size in (("hocus-pocus.gif", (300, 120)), ("creature5.gif", (120, 120))):
            img = Image.new("L", size, 255)
            ImageDraw.Draw(img).ellipse([10, 10, size[0] - 10, size[1] - 10], fill=0)
            img.save(work / name)
        os.chdir(work)
        proc = emulate(out)
        uri = proc.stdout.readline().split()[-1]
        host, port = uri.removeprefix("tcp://").split(":")
        makers = {
            "stock python-escpos": lambda: Network(host, int(port), timeout=10),
            "Escpos809": lambda: Escpos809(uri),
        }
        job = 0
        try:
            for label, make in makers.items():
                example.Escpos809 = lambda _uri, make=make: make()  # the example's printer line
                times, last = [], {}
                for _ in range(RUNS):
                    t0 = time.perf_counter()
                    with contextlib.redirect_stdout(io.StringIO()):  # python-escpos print()s notes
                        example.print_receipt(uri)
                    job += 1
                    last = wait_done(out, job)
                    times.append(time.perf_counter() - t0)
                bad = [op for op in last["ops"] if op["kind"] in ("unknown", "warning")]
                print(
                    f"{label:20s} median {statistics.median(times) * 1000:7.1f} ms  "
                    f"{last['bytes']:6d} bytes  {len(bad)} unknown/warnings"
                )
        finally:
            proc.terminate()
            proc.communicate(timeout=30)
    print(f"({RUNS} runs each; the virtual printer draws every page, so most of the time is its drawing)")


if __name__ == "__main__":
    main()
