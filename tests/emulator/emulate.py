"""``escpos809 emulate`` as users run it, in its own process: one launcher for the emulator
tests (and the benchmark that runs them at full counts)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
#: no user config: the emulator's defaults only
ENV = {**os.environ, "ESCPOS809_CONFIG": "/nonexistent.toml"}


def emulate(out: Path, *extra: str, port: int = 0) -> subprocess.Popen:
    """Start ``escpos809 emulate`` on ``port`` (0: any free one) with its paper in ``out``, the
    status and discovery ports off; ``extra`` options follow. Text pipes for stdout/stderr."""
    args = ["--port", str(port), "--status-port", "-1", "--discovery-port", "-1", "--out", str(out), *extra]
    return subprocess.Popen(
        [sys.executable, "-m", "escpos809.cli", "emulate", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        cwd=ROOT,
    )
