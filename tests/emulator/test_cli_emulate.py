"""`escpos809 emulate` and `escpos809 demo` as real processes."""

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from escpos809.printer import Printer
from tests.emulator.emulate import ENV, ROOT, emulate


def test_emulate_prints_where_it_listens_and_where_paper_goes(tmp_path):
    out = tmp_path / "paper"
    proc = emulate(out, "--serial", "--jobs", "1")
    try:
        first = proc.stdout.readline()
        assert first.startswith("virtual OCPP-809 printing on tcp://127.0.0.1:")
        uri = first.split()[-1]
        serial = proc.stdout.readline()
        assert serial.startswith("serial serial:///dev/pts/")
        assert proc.stdout.readline().strip() == f"paper goes to {out}"
        with Printer(uri) as p:
            p.initialize()
            p.text("Hallo\n")
            p.cut()
        stdout, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert "job 1 (tcp 127.0.0.1:" in stdout and str(out / "job-0001" / "page-1.png") in stdout
    assert (out / "job-0001" / "job.json").exists()


def test_emulate_port_in_use_is_one_line(tmp_path):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    port = s.getsockname()[1]
    res = subprocess.run(
        [sys.executable, "-m", "escpos809.cli", "emulate", "--port", str(port), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=ROOT,
        timeout=30,
    )
    s.close()
    assert res.returncode == 1 and res.stderr.startswith("escpos809: cannot listen on 127.0.0.1:")


def test_demo_on_the_built_in_virtual_printer(tmp_path):
    zxingcpp = pytest.importorskip("zxingcpp")
    res = subprocess.run(
        [sys.executable, "-m", "escpos809.cli", "demo", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=ROOT,
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    png = Path(res.stdout.splitlines()[0].split("printed ", 1)[1])
    assert png.exists() and png.is_relative_to(tmp_path)
    found = {r.text for r in zxingcpp.read_barcodes(Image.open(png))}
    assert "https://charge.example.com/r/2024/000123?s=ABCDEFGHJKLMNPQRS" in found and "CHG2024000123" in found
