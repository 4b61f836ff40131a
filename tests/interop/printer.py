"""The virtual printer as the interop tests use it: one ``escpos809 emulate`` process for the
session, jobs sent to it over TCP, and what it printed read back from its folder (job.json and
the page PNGs)."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from tests.emulator.emulate import emulate

#: what the firmware does not have: these stay ``unknown`` (their bytes print as characters)
NOT_IN_FIRMWARE = {
    "1d 62": "GS b (smoothing)",
    "1d 28 4c": "GS ( L (graphics)",
    "1b 28 41": "ESC ( A (beeper)",
}


@dataclass
class Job:
    """One printed job: its operations (job.json) and pages (PNG, mode L)."""

    log: dict[str, Any]
    pages: list[Image.Image] = field(default_factory=list)

    @property
    def ops(self) -> list[dict[str, Any]]:
        return self.log["ops"]

    def kinds(self, kind: str) -> list[dict[str, Any]]:
        return [op for op in self.ops if op["kind"] == kind]

    def unknown(self) -> list[str]:
        """The ``unknown`` commands (their bytes), as job.json records them."""
        return [op["bytes"] for op in self.kinds("unknown")]

    def unknown_commands(self) -> set[str]:
        """The unknown commands that begin with ESC / GS / FS (the stray bytes after them, which
        the firmware prints as characters, left out)."""
        return {
            " ".join(b.split()[:3]) if b.startswith("1d 28") else " ".join(b.split()[:2])
            for b in self.unknown()
            if b[:2] in ("1b", "1d", "1c")
        }

    def text(self) -> str:
        return "\n".join(op["text"] for op in self.kinds("text"))

    def paper(self) -> Image.Image:
        """All pages one above the other, with a white margin (the paper's edge outside the
        print area: a decoder needs the quiet zone)."""
        width = max(p.width for p in self.pages)
        whole = Image.new("L", (width, sum(p.height for p in self.pages)), 255)
        y = 0
        for p in self.pages:
            whole.paste(p, (0, y))
            y += p.height
        return ImageOps.expand(whole, border=32, fill=255)


class VirtualPrinter:
    """``escpos809 emulate`` in its own process, its paper in ``out``."""

    def __init__(self, out: Path):
        self.out = out
        self.proc = emulate(out)
        first = self.proc.stdout.readline() if self.proc.stdout else ""
        if not first.startswith("virtual OCPP-809 printing on tcp://"):
            self.proc.kill()
            raise RuntimeError(
                f"emulate did not start: {first!r} {self.proc.stderr.read() if self.proc.stderr else ''}"
            )
        host_port = first.split()[-1].removeprefix("tcp://")
        self.host, port = host_port.rsplit(":", 1)
        self.port = int(port)

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)

    def _jobs(self) -> int:
        return len(list(self.out.glob("job-*")))

    def send(self, data: bytes) -> Job:
        """Print ``data`` as one job (one connection) and read back what came out."""
        before = self._jobs()
        with socket.create_connection((self.host, self.port), timeout=10) as s:
            s.sendall(data)
        return self.wait_job(before + 1)

    def wait_job(self, number: int, timeout: float = 30.0) -> Job:
        """Job ``number`` once the printer has finished it."""
        path = self.out / f"job-{number:04d}" / "job.json"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                log = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                log = {}
            if log.get("state") == "done":
                pages = [Image.open(path.parent / name).convert("L") for name in log["pages"]]
                return Job(log, pages)
            time.sleep(0.05)
        raise TimeoutError(f"job {number} not done after {timeout} s: {path}")


def decoded(image: Image.Image, only: str | None = None) -> list[tuple[str, str]]:
    """(format, text) of every symbol zxing-cpp finds on the paper; ``only``: look for this
    format alone (zxing reads a UPC-A as an EAN-13 starting with 0 otherwise)."""
    import zxingcpp

    kw = {"formats": getattr(zxingcpp.BarcodeFormat, only)} if only else {}
    return [(r.format.name, r.text) for r in zxingcpp.read_barcodes(image, **kw)]


def ink(image: Image.Image) -> np.ndarray:
    """The paper as booleans (True = a printed dot)."""
    return np.array(image.convert("L")) < 128


def cropped(image: Image.Image) -> np.ndarray:
    """The printed dots, cropped to their bounding box."""
    dots = ink(image)
    rows, cols = np.flatnonzero(dots.any(axis=1)), np.flatnonzero(dots.any(axis=0))
    if not len(rows):
        return dots[:0, :0]
    return dots[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def run(args: list[str], cwd: Path) -> bytes:
    """A helper process's stdout (its stderr shown when it fails)."""
    res = subprocess.run(args, cwd=cwd, capture_output=True, timeout=120)
    if res.returncode:
        raise RuntimeError(f"{args} failed ({res.returncode}): {res.stderr.decode(errors='replace')[-2000:]}")
    return res.stdout
