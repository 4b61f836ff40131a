"""escpos809's backend, filter and PPD under a real, private cupsd, printing to virtual
printers over TCP: what a user sees after ``escpos809 cups install``."""

from __future__ import annotations

import os
import stat
import subprocess
import time
from pathlib import Path

import pytest
import qrcode
import zxingcpp
from PIL import Image, ImageDraw

from escpos809.emulator import VirtualPrinter
from escpos809.escpos import commands
from tests.cups.conftest import job_state
from tests.service.conftest import free_port, printed_texts

URL = "https://receipts.example/r/8d849668"


@pytest.fixture
def vprinter(tmp_path):
    vp = VirtualPrinter(tmp_path / "paper").start()
    yield vp
    vp.stop()


_queues = iter(range(1, 1000))


def add_queue(cupsd, printer_uri: str, raw: bool = False) -> str:
    name = f"{'raw' if raw else 'ppd'}809_{next(_queues)}"
    args = ["cups", "install", *cupsd.dirs(), "--queue", name, "--printer", printer_uri] + (["--raw"] if raw else [])
    proc = cupsd.escpos809(*args)
    assert proc.returncode == 0, proc.stderr
    assert f"queue {name} -> escpos809:{printer_uri}" in proc.stdout
    return name


def wait_jobs(vp: VirtualPrinter, n: int, timeout: float = 30) -> list:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        jobs = [j for j in vp.jobs if j.pages]
        if len(jobs) >= n:
            vp.wait_idle()
            return jobs
        time.sleep(0.05)
    raise AssertionError(f"{len(vp.jobs)} jobs on the virtual printer, expected {n}")


def receipt_pdf(path: Path) -> Path:
    """A one-page 80 mm wide PDF with a heading and a QR code, as an application would print."""
    page = Image.new("L", (576, 700), 255)
    draw = ImageDraw.Draw(page)
    draw.rectangle((0, 0, 575, 40), fill=0)
    draw.text((20, 60), "CHARGING RECEIPT", fill=0)
    page.paste(qrcode.make(URL, border=2).get_image().convert("L").resize((320, 320), Image.NEAREST), (128, 120))
    page.save(path, resolution=203)
    return path


ESCPOS = (
    commands.initialize() + b"RAW ESC/POS THROUGH CUPS\n" + commands.feed_lines(3) + commands.cut("partial", feed=0)
)


def test_install_puts_lp_runnable_programs_in_serverbin(cupsd):
    for prog in (cupsd.root / "bin/backend/escpos809", cupsd.root / "bin/filter/rastertoescpos809"):
        st = prog.stat()
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (0, 0o755)  # 0755: cupsd runs it as lp, not root
    assert (cupsd.root / "etc/escpos809.types").read_text().splitlines()[-1] == "application/vnd.escpos"
    listed = cupsd.run("lpinfo", "--include-schemes", "escpos809", "-v", check=True).stdout
    assert "network escpos809" in listed  # cupsd ran the backend's discovery


def test_raw_queue_passes_escpos_through_once_per_copy(cupsd, vprinter, tmp_path):
    queue = add_queue(cupsd, vprinter.uri, raw=True)
    data = tmp_path / "job.bin"
    data.write_bytes(ESCPOS)
    job = cupsd.lp(queue, "-n", "2", str(data))
    cupsd.wait_job_done(job)
    jobs = wait_jobs(vprinter, 1)
    assert printed_texts(vprinter).count("RAW ESC/POS THROUGH CUPS") == 2  # the backend made the copies
    assert [op.kind for op in jobs[0].ops].count("cut") == 2
    assert jobs[0].bytes >= 2 * len(ESCPOS)
    assert job_state(cupsd, queue, job)["job-state"] == "completed"
    log = cupsd.error_log()
    assert f"[Job {job}] PAGE: 1 1" in log and f"[Job {job}] PAGE: 2 1" in log  # a page line per copy
    assert "escpos809 backend pid" in log and " uid 7 " in log  # ran as lp


def test_pdf_through_the_filter_prints_a_readable_qr(cupsd, vprinter, tmp_path):
    queue = add_queue(cupsd, vprinter.uri)
    job = cupsd.lp(queue, "-o", "PageSize=X80MMY200MM", str(receipt_pdf(tmp_path / "receipt.pdf")))
    cupsd.wait_job_done(job)
    [vjob] = wait_jobs(vprinter, 1)
    assert job_state(cupsd, queue, job)["job-state"] == "completed"
    kinds = [op.kind for op in vjob.ops]
    assert kinds.count("raster") >= 10 and kinds.count("cut") == 1
    page = Image.open(vjob.pages[0])
    assert [r.text for r in zxingcpp.read_barcodes(page)] == [URL]
    # the 200 mm page (1598 rows) has its blank end trimmed: 700 rows of art, 3 lines fed, cut
    assert page.height < 1100, page.height


def test_plain_text_and_copies_are_not_multiplied(cupsd, vprinter, tmp_path):
    queue = add_queue(cupsd, vprinter.uri)
    text = tmp_path / "hello.txt"
    text.write_text("Hello from CUPS\nsecond line\n")
    job = cupsd.lp(queue, "-n", "2", "-o", "CutMedia=Page", str(text))
    cupsd.wait_job_done(job)
    [vjob] = wait_jobs(vprinter, 1)
    kinds = [op.kind for op in vjob.ops]
    assert kinds.count("cut") == 2  # pdftopdf made two pages; the filter printed each once
    assert len(vjob.pages) == 2
    for png in vjob.pages:
        img = Image.open(png).convert("L")
        ink = img.histogram()[:128]
        ink = sum(ink)
        assert ink > 500 and img.height < 400  # two lines of text, blank tail trimmed


def test_escpos_document_format_through_a_ppd_queue(cupsd, vprinter, tmp_path):
    queue = add_queue(cupsd, vprinter.uri)
    data = tmp_path / "job.bin"
    data.write_bytes(ESCPOS)
    job = cupsd.lp(queue, "-o", "document-format=application/vnd.escpos", str(data))
    cupsd.wait_job_done(job)
    wait_jobs(vprinter, 1)
    assert printed_texts(vprinter) == ["RAW ESC/POS THROUGH CUPS"]


def test_printer_offline_job_is_retried_and_printed_when_it_comes_back(cupsd, tmp_path):
    port = free_port()
    queue = add_queue(cupsd, f"tcp://127.0.0.1:{port}", raw=True)
    data = tmp_path / "job.bin"
    data.write_bytes(ESCPOS)
    job = cupsd.lp(queue, str(data))
    deadline = time.monotonic() + 20
    while "connection refused" not in cupsd.error_log() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "connection refused" in cupsd.error_log()
    assert job_state(cupsd, queue, job)["job-state"] in ("pending", "pending-held", "processing")
    vp = VirtualPrinter(tmp_path / "paper", port=port).start()
    try:
        cupsd.wait_job_done(job, timeout=40)
        wait_jobs(vp, 1)
        assert printed_texts(vp) == ["RAW ESC/POS THROUGH CUPS"]  # once
        assert job_state(cupsd, queue, job)["job-state"] == "completed"
    finally:
        vp.stop()


def test_paper_out_shows_a_state_reason_and_the_job_waits(cupsd, vprinter, tmp_path):
    queue = add_queue(cupsd, vprinter.uri, raw=True)
    vprinter.faults.paper_out = True
    data = tmp_path / "job.bin"
    data.write_bytes(ESCPOS)
    job = cupsd.lp(queue, str(data))
    deadline = time.monotonic() + 20
    seen = ""
    while time.monotonic() < deadline:
        seen = cupsd.run("lpstat", "-l", "-p", queue).stdout
        if "media-empty-error" in seen:
            break
        time.sleep(0.1)
    assert "media-empty-error" in seen, seen
    assert printed_texts(vprinter) == []
    vprinter.faults.paper_out = False  # a new roll
    cupsd.wait_job_done(job, timeout=40)
    wait_jobs(vprinter, 1)
    assert printed_texts(vprinter) == ["RAW ESC/POS THROUGH CUPS"]
    assert "media-empty-error" not in cupsd.run("lpstat", "-l", "-p", queue).stdout


def test_unknown_printer_uri(cupsd, tmp_path):
    proc = cupsd.escpos809("cups", "install", *cupsd.dirs(), "--queue", "bad809", "--printer", "foo://x")
    assert proc.returncode == 7
    assert (
        proc.stderr.strip().splitlines() == [proc.stderr.strip()] and "unknown scheme 'foo'" in proc.stderr
    )  # one line, no traceback
    # a queue made by hand with a bad URI: the backend stops the queue and keeps the job
    cupsd.run("lpadmin", "-p", "bad809", "-E", "-v", "escpos809:foo://x", check=True)
    data = tmp_path / "job.bin"
    data.write_bytes(ESCPOS)
    job = cupsd.lp("bad809", str(data))
    deadline = time.monotonic() + 20
    out = ""
    while time.monotonic() < deadline:
        out = cupsd.run("lpstat", "-l", "-p", "bad809").stdout
        if "disabled" in out:
            break
        time.sleep(0.1)
    assert "disabled" in out and "unknown scheme 'foo'" in out, out
    assert job_state(cupsd, "bad809", job)["job-state"] == "pending"


def run_backend(cupsd, *args, env=None, stdin=b""):
    backend = cupsd.root / "bin/backend/escpos809"
    return subprocess.run([str(backend), *args], input=stdin, capture_output=True, env={**os.environ, **(env or {})})


@pytest.mark.parametrize(
    "uri, code, message",
    [
        ("escpos809:foo://x", 4, "unknown scheme 'foo'"),
        ("escpos809:", 4, "is not escpos809:<printer URI>"),
        ("socket://127.0.0.1:9100", 4, "is not escpos809:<printer URI>"),
        ("escpos809:tcp://127.0.0.1:1", 6, "connection refused"),
    ],
)
def test_backend_exit_codes(cupsd, uri, code, message):
    proc = run_backend(cupsd, "1", "user", "title", "1", "", env={"DEVICE_URI": uri})
    assert proc.returncode == code, proc.stderr
    assert message in proc.stderr.decode()
    assert proc.stdout == b""


def test_backend_lists_printers_found_by_udp_discovery(cupsd, tmp_path):
    with VirtualPrinter(tmp_path / "paper", discovery_port=0) as vp:
        proc = run_backend(cupsd, env={"ESCPOS809_DISCOVERY": f"127.0.0.1:{vp.discovery_port}"})
    lines = proc.stdout.decode().splitlines()
    assert proc.returncode == 0
    assert lines[0] == 'network escpos809 "Unknown" "OCOM OCPP-809 (escpos809: tcp, serial, usb, lp)"'
    assert (
        'network escpos809:tcp://127.0.0.1:9100 "OCOM OCPP-809" "OCOM OCPP-809 at 127.0.0.1 (escpos809)" '
        '"MFG:OCOM;CMD:ESC/POS;MDL:OCPP-809;CLS:PRINTER;" ""'
    ) in lines


def test_uninstall_removes_queues_and_files(cupsd, vprinter):
    queue = add_queue(cupsd, vprinter.uri)
    proc = cupsd.escpos809("cups", "uninstall", *cupsd.dirs(), "--queue", queue)
    assert proc.returncode == 0 and f"removed queue {queue}" in proc.stdout
    assert queue not in cupsd.run("lpstat", "-v").stdout
    assert (cupsd.root / "bin/backend/escpos809").exists()  # only the queue went


def test_backend_gives_a_not_ready_job_back_for_a_retry(cupsd, vprinter, tmp_path):
    vprinter.faults.cover_open = True
    data = tmp_path / "job.bin"
    data.write_bytes(ESCPOS)
    proc = run_backend(
        cupsd,
        "1",
        "user",
        "title",
        "1",
        "",
        str(data),
        env={"DEVICE_URI": f"escpos809:{vprinter.uri}", "ESCPOS809_BACKEND_WAIT": "1.5"},
    )
    err = proc.stderr.decode()
    assert proc.returncode == 6, err  # CUPS_BACKEND_RETRY: held, retried; not lost
    assert "+cover-open-error" in err and "ERROR: printer not ready after 1.5 s: cover open" in err
    assert err.count("+cover-open-error") == 1  # said once while waiting, not at every poll
    assert printed_texts(vprinter) == []
