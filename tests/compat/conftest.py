"""The virtual printer over TCP for the python-escpos tests, one per module, and what it printed."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image, ImageDraw

from tests.emulator.emulate import emulate


@dataclass
class Printed:
    """One job as the virtual printer recorded it (``job.json`` and its pages)."""

    folder: Path
    job: dict[str, Any] = field(default_factory=dict)

    @property
    def ops(self) -> list[dict[str, Any]]:
        return self.job["ops"]

    def kinds(self, kind: str) -> list[dict[str, Any]]:
        return [op for op in self.ops if op["kind"] == kind]

    @property
    def texts(self) -> list[str]:
        return [op["text"] for op in self.kinds("text")]

    @property
    def unknown(self) -> list[dict[str, Any]]:
        return self.kinds("unknown") + self.kinds("warning")

    @property
    def cuts(self) -> list[str]:
        return [op["mode"] for op in self.kinds("cut")]

    def codes(self) -> list[tuple[str, str]]:
        """(format, text) of every barcode and QR code zxing-cpp finds on the pages."""
        found = []
        for page in self.job["pages"]:
            for r in zxingcpp.read_barcodes(Image.open(self.folder / page)):
                found.append((r.format.name, r.text))
        return found


class VirtualPaper:
    """A running ``escpos809 emulate`` and its paper folder."""

    def __init__(self, uri: str, out: Path):
        self.uri, self.out = uri, out

    @contextlib.contextmanager
    def job(self) -> Iterator[Printed]:
        """Yields the job printed inside the block (filled in when the block's connection has
        closed and the printer has finished the job)."""
        before = set(self.out.glob("job-*"))
        printed = Printed(self.out)
        yield printed
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            new = sorted(set(self.out.glob("job-*")) - before)
            log = new[-1] / "job.json" if new else None
            if log is not None and log.exists():
                data = json.loads(log.read_text("utf-8"))
                if data["state"] == "done":
                    printed.folder, printed.job = new[-1], data
                    return
            time.sleep(0.05)
        raise AssertionError("the virtual printer recorded no finished job")


def _start(out: Path, *extra: str) -> tuple[Any, str]:
    proc = emulate(out, *extra)
    first = proc.stdout.readline()
    assert first.startswith("virtual OCPP-809 printing on tcp://"), first + proc.stderr.read()
    return proc, first.split()[-1]


@pytest.fixture(scope="module")
def paper(tmp_path_factory) -> Iterator[VirtualPaper]:
    out = tmp_path_factory.mktemp("paper")
    proc, uri = _start(out)
    try:
        yield VirtualPaper(uri, out)
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


@pytest.fixture(scope="module")
def silent(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """A virtual printer that takes data but never answers a status request: its TCP and
    serial (pseudo-terminal) URIs."""
    proc, uri = _start(tmp_path_factory.mktemp("silent"), "--silent", "--serial")
    try:
        yield uri, proc.stdout.readline().split()[-1]
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


@pytest.fixture
def images(tmp_path, monkeypatch) -> Path:
    """The image files python-escpos's examples open, in the working directory."""
    for name, size in (("logo.gif", (256, 96)), ("hocus-pocus.gif", (300, 120)), ("creature5.gif", (120, 120))):
        img = Image.new("L", size, 255)
        d = ImageDraw.Draw(img)
        d.rectangle([4, 4, size[0] - 5, size[1] - 5], outline=0, width=6)
        d.ellipse([size[0] // 4, 20, size[0] * 3 // 4, size[1] - 20], fill=0)
        img.save(tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path
