"""Volume attacks on the virtual printer and the probe, at full counts (the tests run them small):

* a stream of ``ESC d 255`` (3 bytes feed a quarter of a page) through ``escpos809 emulate``:
  pages drawn, disk used, seconds until the job is on disk (bounded by ``KEEP_PAGES``);
* ``escpos809 probe`` against a peer that sends without end: seconds until it gives up.

    python3 benchmarks/bench_printer_attacks.py [--feed-kb 60]
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.emulator.emulate import ENV, ROOT, emulate  # noqa: E402
from tests.real.servers import torrent_server  # noqa: E402


def feeds(kb: int) -> str:
    with tempfile.TemporaryDirectory() as d:
        out = Path(d)
        proc = emulate(out, "--jobs", "1")
        try:
            line = proc.stdout.readline() if proc.stdout else ""
            port = int(line.rsplit(":", 1)[1].split()[0])
            start = time.monotonic()
            with socket.create_connection(("127.0.0.1", port)) as s:
                s.sendall(b"\x1bd\xff" * (kb * 1024 // 3) + b"end\n")
                s.shutdown(socket.SHUT_WR)
                s.recv(1)
            proc.wait(timeout=3600)
            seconds = time.monotonic() - start
            job = out / "job-0001"
            log = json.loads((job / "job.json").read_text())
            disk = sum(f.stat().st_size for f in job.iterdir()) / 1e6
        finally:
            proc.kill()
            proc.wait()
    return (
        f"{kb} kB of ESC d 255: {len(log['pages'])} pages drawn (truncated: {log['pages_truncated']}), "
        f"{disk:.0f} MB on disk, {seconds:.1f} s"
    )


def torrent_probe() -> str:
    server, uri = torrent_server()
    start = time.monotonic()
    args = ["probe", "--printer", uri, "--batch", "--status-port", "-1", "--discovery-port", "-1"]
    r = subprocess.run(
        [sys.executable, "-m", "escpos809.cli", *args], capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=600
    )
    server.close()
    return f"probe against a torrent: exit {r.returncode} after {time.monotonic() - start:.1f} s: {r.stderr.strip()}"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--feed-kb", type=int, default=60)
    args = ap.parse_args()
    print("(figures from a shared, busy machine)")
    print(feeds(args.feed_kb))
    print(torrent_probe())
    return 0


if __name__ == "__main__":
    sys.exit(main())
