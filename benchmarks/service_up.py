"""Waiting for a print service a benchmark started: the one way the benchmarks do it."""

from __future__ import annotations

import http.client
import subprocess
import time
from pathlib import Path


def wait_up(port: int, proc: subprocess.Popen, log: Path, tries: int = 400) -> None:
    """Return once ``GET /healthz`` on 127.0.0.1:``port`` answers 200; stop the benchmark with
    the log's tail if the service exits or never answers (about 20 s)."""
    for _ in range(tries):
        if proc.poll() is not None:
            raise SystemExit("service exited: " + log.read_text()[-2000:])
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("service did not start: " + log.read_text()[-2000:])
