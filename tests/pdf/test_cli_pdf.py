"""``escpos809 print FILE.pdf`` and ``preview FILE.pdf`` as processes, printing to
``escpos809 emulate`` over TCP: what lands on its paper (page PNGs, job.json), and refusals
that leave the paper untouched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.emulator.emulate import emulate
from tests.pdf import make

zxingcpp = pytest.importorskip("zxingcpp")
ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ESCPOS809_CONFIG": "/nonexistent.toml"}
    env.pop("ESCPOS809_PRINTER", None)
    return subprocess.run(
        [sys.executable, "-m", "escpos809.cli", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60
    )


@pytest.fixture(scope="module")
def printer(tmp_path_factory):
    """A virtual printer process on a TCP port, and the folder its paper goes to."""
    out = tmp_path_factory.mktemp("paper")
    proc = emulate(out)
    try:
        uri = proc.stdout.readline().split(" on ", 1)[1].strip()
        assert uri.startswith("tcp://127.0.0.1:")
        yield uri, out
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def jobs(out: Path) -> list[Path]:
    return sorted(out.glob("job-*"))


def test_pages_print_each_with_its_cut(printer, tmp_path):
    uri, out = printer
    before = len(jobs(out))
    invoice = tmp_path / "invoice.pdf"
    invoice.write_bytes(
        make.text_pages("Invoice 2024-001\nCharging 23.5 kWh", "Page two", "Page three", "Page four\nTotal 9.99 EUR")
    )
    res = cli("print", str(invoice), "--printer", uri, "--pages", "1-2,4")
    assert res.returncode == 0, res.stderr
    (job,) = jobs(out)[before:]
    log = json.loads((job / "job.json").read_text())
    assert log["state"] == "done" and log["confirmed"] == 1  # the printer said it printed it all
    assert [p["end"] for p in log["page_info"]] == ["cut", "cut", "cut"]  # three pages, three cuts
    cuts = [op for op in log["ops"] if op["kind"] == "cut"]
    assert len(cuts) == 3 and {c["mode"] for c in cuts} == {"partial"}
    for name in log["pages"]:
        assert Image.open(job / name).width == 576


def test_a_qr_code_drawn_in_the_pdf_scans_from_the_paper(printer, tmp_path):
    uri, out = printer
    before = len(jobs(out))
    pdf = tmp_path / "ticket.pdf"
    pdf.write_bytes(make.with_qr("PARKING", "https://example.com/t/7781"))
    res = cli("print", str(pdf), "--printer", uri, "--cut-mode", "full")
    assert res.returncode == 0, res.stderr
    (job,) = jobs(out)[before:]
    log = json.loads((job / "job.json").read_text())
    assert [op["mode"] for op in log["ops"] if op["kind"] == "cut"] == ["full"]
    page = Image.open(job / log["pages"][0])
    assert "https://example.com/t/7781" in {r.text for r in zxingcpp.read_barcodes(page)}


@pytest.mark.parametrize(
    "make_pdf, args, message",
    [
        (make.encrypted, (), "the PDF is encrypted (it needs a password)"),
        (lambda: make.broken(make.text_pages("x" * 40)), (), "the PDF cannot be read"),
        (lambda: make.blank_pages(150), (), "the PDF has 150 pages; at most 100"),
        (lambda: make.text_pages("A", "B"), ("--pages", "2-5"), "page 5 asked for; the PDF has 2 pages"),
        (lambda: make.long_page(5000), (), "page 1 is 5,000 mm long"),
        (lambda: make.blank_pages(2), (), "the chosen pages are blank"),
        (lambda: make.text_pages("WIDE " * 12), ("--scale", "actual"), "print it with scale fit or at most"),
        (lambda: make.page_tree(loop=True), (), "page 2 cannot be read: the PDF's page tree is broken"),
        (lambda: make.form_bomb(9), (), "draw"),  # 10**9 squares: out of time or memory
    ],
)
def test_refusals_print_nothing(printer, tmp_path, make_pdf, args, message):
    uri, out = printer
    before = len(jobs(out))
    pdf = tmp_path / "bad.pdf"
    pdf.write_bytes(make_pdf())
    res = cli("print", str(pdf), "--printer", uri, *args)
    assert res.returncode == 7, res
    assert res.stderr.count("\n") == 1 and res.stderr.startswith(f"escpos809: {pdf}: ") and message in res.stderr
    assert len(jobs(out)) == before  # the printer was never even opened


def test_bad_scale_is_a_usage_error(tmp_path):
    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(make.text_pages("A"))
    res = cli("print", str(pdf), "--printer", "memory://", "--scale", "1000")
    assert res.returncode == 2 and "scale must be fit, actual or a percentage from 10 to 400" in res.stderr


def test_preview_draws_what_prints(printer, tmp_path):
    uri, out = printer
    pdf = tmp_path / "two.pdf"
    pdf.write_bytes(make.text_pages("Preview one", "Preview two"))
    res = cli("preview", str(pdf), "-o", str(tmp_path / "p.png"), "--scale", "80")
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == [str(tmp_path / "p.png"), str(tmp_path / "p-2.png")]
    before = len(jobs(out))
    assert cli("print", str(pdf), "--printer", uri, "--scale", "80%").returncode == 0
    (job,) = jobs(out)[before:]
    for mine, paper in zip(["p.png", "p-2.png"], sorted(job.glob("page-*.png")), strict=True):
        a, b = Image.open(tmp_path / mine).convert("1"), Image.open(paper).convert("1")
        assert a.size == b.size and a.tobytes() == b.tobytes()  # the same renderer: the same dots


def test_killed_while_rendering_prints_nothing(printer, tmp_path):
    """Every page is rendered before the printer is opened: a print killed mid-render leaves
    no job, not half of one (the same file, left alone, prints in full)."""
    import signal
    import time

    uri, out = printer
    pdf = tmp_path / "slow.pdf"
    pdf.write_bytes(make.busy(19_000))
    before = len(jobs(out))
    start = time.monotonic()
    assert cli("print", str(pdf), "--pages", ",".join(["1"] * 10), "--printer", uri).returncode == 0
    took = time.monotonic() - start
    assert len(jobs(out)) == before + 1
    env = {**os.environ, "ESCPOS809_CONFIG": "/nonexistent.toml"}
    proc = subprocess.Popen(
        # five times the pages: killed at 0.6 of the time ten take, it is far from done rendering
        [sys.executable, "-m", "escpos809.cli", "print", str(pdf), "--pages", ",".join(["1"] * 50), "--printer", uri],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(took * 0.6)  # past the start-up, into the rendering
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    time.sleep(0.5)
    assert len(jobs(out)) == before + 1  # no new job: not a byte reached the printer
