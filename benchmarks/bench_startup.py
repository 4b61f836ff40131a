"""Start-up: what a new ``escpos809`` process costs before and while it does its job.

    python3 benchmarks/bench_startup.py [--runs 20]

Each command runs as a new process, as a user or a script starts it, interleaved with a bare
``python -c pass`` of the same interpreter (and of /usr/bin/python3), medians of ``--runs``:

- ``escpos809 --help``, and the peer's ``python-escpos --help`` (python-escpos 3.1);
- ``escpos809 status`` and ``escpos809 print`` (a text file, confirmed) against a virtual
  printer (``escpos809 emulate``, started once, not timed);
- ``escpos809 serve`` until its first ``/healthz`` answers (a memory:// printer, no zeroconf).

The ratios say what the program adds to starting Python at all. The venv's own interpreter
runs setuptools' editable-install finder from a ``.pth`` file at every start (``-X
importtime``: ``__editable___escpos809_*_finder``); a wheel install has no such finder, which
is why /usr/bin/python3 is printed too. The CUPS filter's figure is in bench_cups_filter.py.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from fresh_process import ENV, note, warm  # noqa: E402

from tests.emulator.emulate import emulate  # noqa: E402

SCRIPT = str(Path(sys.executable).with_name("escpos809"))
PEER = str(Path(sys.executable).with_name("python-escpos"))  # python-escpos 3.1's command line


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, env=ENV)
    took = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)}: exit {proc.returncode}: {proc.stderr.decode(errors='replace')}")
    return took


def serve_to_healthz(tmp: Path) -> float:
    """Seconds from starting ``escpos809 serve`` to the first answer of ``/healthz``."""
    port = free_port()
    cmd = [SCRIPT, "serve", "--port", str(port), "--db", str(tmp / f"jobs-{port}.db"), "--no-zeroconf"]
    t = time.perf_counter()
    proc = subprocess.Popen([*cmd, "-p", "mem=memory://"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    r.read()
                return time.perf_counter() - t
            except OSError:
                if proc.poll() is not None:
                    raise SystemExit(f"serve exited: {proc.stderr.read().decode() if proc.stderr else ''}") from None
                time.sleep(0.002)
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    runs = ap.parse_args().runs
    print(
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}: others' work shares the cores, "
        f"figures on a busy machine; medians of {runs} interleaved runs"
    )
    if note():
        print(note())
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        vp = emulate(tmp / "paper")
        try:
            line = vp.stdout.readline() if vp.stdout else ""
            uri = line.split(" on ", 1)[1].strip()
            text = tmp / "receipt.txt"
            text.write_text("".join(f"line {i} of a short receipt\n" for i in range(8)))
            cmds = {
                f"{sys.executable} -c pass": lambda: timed([sys.executable, "-c", "pass"]),
                "/usr/bin/python3 -c pass": lambda: timed(["/usr/bin/python3", "-c", "pass"]),
                "escpos809 --help": lambda: timed([SCRIPT, "--help"]),
                "python-escpos --help (the peer)": lambda: timed([PEER, "--help"]),
                "escpos809 status": lambda: timed([SCRIPT, "status", "-p", uri]),
                "escpos809 print (text, confirmed)": lambda: timed([SCRIPT, "print", "-p", uri, str(text)]),
                "escpos809 serve -> first /healthz": lambda: serve_to_healthz(tmp),
            }
            for args in (["--help"], ["status", "-p", uri], ["print", "-p", uri, str(text)]):
                warm([SCRIPT, *args])
            warm([PEER, "--help"])
            serve_to_healthz(tmp)  # bytecode for the service, untimed
            times: dict[str, list[float]] = {k: [] for k in cmds}
            for r in range(runs):
                names = list(cmds)
                for name in names[r % len(names) :] + names[: r % len(names)]:
                    times[name].append(cmds[name]())
        finally:
            vp.terminate()
            vp.wait(10)
    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    bare, system = med[f"{sys.executable} -c pass"], med["/usr/bin/python3 -c pass"]
    for name, ms in med.items():
        print(f"  {name:<52} {ms:7.1f} ms   {ms / bare:5.1f}x venv python   {ms / system:5.1f}x /usr/bin/python3")
    peer = med["python-escpos --help (the peer)"] / med["escpos809 --help"]
    print(f"  --help: python-escpos / escpos809 {peer:.1f}x")


if __name__ == "__main__":
    main()
