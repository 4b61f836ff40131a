"""The virtual printer on real sockets and a real pty: round trips from the encoder, the
paper read back by a real decoder (zxing-cpp), faults end to end."""

import json
import socket
import time

import pytest
from PIL import Image

from escpos809.demo import logo
from escpos809.emulator import VirtualPrinter
from escpos809.errors import PrinterOffline, PrinterTimeout
from escpos809.escpos import commands as c
from escpos809.escpos import vendor
from escpos809.printer import Printer

zxingcpp = pytest.importorskip("zxingcpp")


@pytest.fixture
def vp(tmp_path):
    with VirtualPrinter(tmp_path / "paper", status_port=0, discovery_port=0, serial=True) as printer:
        yield printer


def print_job(vp, send, **kw):
    with Printer(vp.uri, read_timeout=1, write_timeout=2, **kw) as p:
        send(p)
        sockname = p.transport._sock.getsockname()
    return vp.wait_job(f"tcp {sockname[0]}:{sockname[1]}")


def test_round_trip_every_family(vp):
    def send(p):
        p.initialize()
        p.send(c.bold() + c.underline(2) + c.char_size(2, 3) + c.inverse() + c.font("B"))
        p.text("Grüße €\n")
        p.send(c.bold(False) + c.underline(0) + c.char_size() + c.inverse(False) + c.font("A") + c.align("right"))
        p.text("Привет\n")
        p.send(c.feed_lines(2) + c.feed_dots(40))
        p.image(Image.new("L", (64, 30), 0), dither="threshold")
        p.qr("https://example.invalid/r/123", size=5, ec="Q")
        p.barcode("ean13", "4006381333931", height=60, width=2)
        p.beep(2, 3)
        p.alarm(1, 2, "light")
        p.drawer(5)
        p.cut("full", feed=8)
        assert p.status().ready

    job = print_job(vp, send)
    ops = {op.kind: op for op in job.ops}
    texts = [op for op in job.ops if op.kind == "text"]
    assert texts[0].text == "Grüße €"
    cell = texts[0].args["cells"][0]
    assert (cell.bold, cell.underline, cell.width, cell.height, cell.inverse, cell.font) == (True, 2, 2, 3, True, "B")
    assert texts[1].text == "Привет" and texts[1].args["align"] == 2
    assert sum(1 for op in job.ops if op.kind == "raster") == 2  # 30 rows in 24-row bands
    assert ops["qr"].args["data"] == "https://example.invalid/r/123" and ops["qr"].args["ec"] == "Q"
    assert ops["barcode"].args["data"] == "4006381333931"
    assert ops["beep"].args == {"times": 2, "duration_ms": 150}
    assert ops["alarm"].args["mode"] == "light"
    assert ops["drawer"].args["pin"] == 5
    assert ops["cut"].args["mode"] == "full" and ops["cut"].args["feed"] == 8
    assert not [op for op in job.ops if op.kind in ("unknown", "truncated", "warning")]
    log = json.loads(job.log_path.read_text())
    assert log["bytes"] == job.bytes and log["pages"] == ["page-1.png"]


def test_paper_is_read_back_by_a_decoder(vp):
    url = "https://charge.example.com/r/2024/000123?s=ABCDEFGHJKLMNPQRS"

    def send(p):
        p.initialize()
        p.image(logo())
        p.barcode("code128", "CHG2024000123", height=64, width=2)
        p.qr(url, size=6, ec="M")
        p.cut()

    job = print_job(vp, send)
    page = Image.open(job.pages[0])
    assert page.width == 576
    found = {(r.format.name, r.text) for r in zxingcpp.read_barcodes(page)}
    assert ("QRCode", url) in found
    assert ("Code128", "CHG2024000123") in found


def test_one_page_per_cut(vp):
    job = print_job(vp, lambda p: p.send(b"one\n" + c.cut("partial") + b"two\n" + c.cut("full") + b"tail\n"))
    assert len(job.pages) == 3


def test_serial_over_pty(vp):
    with Printer(f"serial://{vp.serial_path}?baudrate=115200", read_timeout=1) as p:
        p.initialize()
        p.text("über serial\n")
        st = p.status()
    assert st.known and st.ready
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not vp.jobs:
        time.sleep(0.05)
    job = vp.jobs[-1]
    assert job.source.startswith("serial") and [op.text for op in job.ops if op.kind == "text"] == ["über serial"]


def test_status_port_answers_esc_v(vp):
    vp.faults.cover_open = True
    with socket.create_connection(("127.0.0.1", vp.status_port), timeout=2) as s:
        s.sendall(vendor.status_port_request())
        reply = s.recv(4)
    from escpos809.escpos.status import decode_asb

    st = decode_asb(reply)
    assert st.known and st.cover_open and not st.online


def test_paper_out_mid_job_then_reload_prints_the_rest(vp):
    vp.faults.paper_mm = 20  # about 160 dots
    with Printer(vp.uri, read_timeout=0.5, write_timeout=0.5) as p:
        p.send(b"line\n" * 10)
        time.sleep(0.3)
        st = p.status()
        assert st.known and st.paper_end and "paper out" in st.problems()
        vp.faults.paper_out, vp.faults.paper_mm, vp.faults.paper_near_end = False, None, False  # new roll
        p.send(b"after\n")
        sock = p.transport._sock.getsockname()
    job = vp.wait_job(f"tcp {sock[0]}:{sock[1]}")
    texts = [op.text for op in job.ops if op.kind == "text"]
    assert texts == ["line"] * 10 + ["after"]  # nothing lost


def test_cover_open_blocks_writes_until_timeout(vp):
    vp.faults.cover_open = True
    with Printer(vp.uri, read_timeout=0.3, write_timeout=0.5) as p:
        st = p.status()
        assert st.cover_open
        with pytest.raises(PrinterTimeout):
            p.send(b"x" * 20_000_000)
    vp.faults.cover_open = False


def test_cutter_error_and_silence(vp):
    vp.faults.cutter_error = True
    with Printer(vp.uri, read_timeout=0.3) as p:
        assert p.status().cutter_error
    vp.faults.cutter_error, vp.faults.silent = False, True
    with Printer(vp.uri, read_timeout=0.2) as p:
        st = p.status()
    assert not st.known and "no reply" in st.reason


def test_drop_connection_mid_job(vp):
    vp.drop_after = 5000
    with pytest.raises(PrinterOffline, match="connection lost|closed the connection"):
        with Printer(vp.uri, write_timeout=2) as p:
            for _ in range(500):
                p.send(b"x" * 1000)
                time.sleep(0.001)
    vp.drop_after = None
    assert vp.wait_idle()
    assert vp.jobs[-1].dropped and vp.jobs[-1].bytes == 5000


def test_slow_link(vp):
    vp.slow_bps = 20_000
    start = time.monotonic()
    print_job(vp, lambda p: p.send(b"y" * 8000 + b"\n"))
    assert time.monotonic() - start >= 0.3  # 8 KB at 20 KB/s


def test_paper_near_end_is_a_warning_not_a_stop(vp):
    vp.faults.paper_mm, vp.faults.near_end_mm = 200, 195
    with Printer(vp.uri, read_timeout=0.5) as p:
        p.send(b"a\nb\n")  # 64 dots = 8 mm: below the near-end mark
        time.sleep(0.2)
        st = p.status()
    assert st.known and st.paper_near_end and st.ready and st.warnings() == ["paper near end"]


def test_throttle_models_300_mm_per_s(tmp_path):
    with VirtualPrinter(tmp_path / "t", throttle=True) as slow:
        start = time.monotonic()
        print_job(slow, lambda p: p.send(c.feed_dots(240) * 5))  # 1,200 dots = 150 mm
        took = time.monotonic() - start
    assert took >= 0.45  # 150 mm at 300 mm/s = 0.5 s


@pytest.mark.parametrize(
    "kind, data, fmt",
    [
        ("code39", "ABC-123", "Code39"),
        ("ean8", "96385074", "EAN8"),
        ("upca", "036000291452", "UPCA"),
        ("itf", "12345678", "ITF"),
        ("codabar", "A40156B", "Codabar"),
        ("ean13", "4006381333931", "EAN13"),
        ("code93", "Code 93!", "Code93"),
    ],
)
def test_each_drawable_symbology_decodes(vp, kind, data, fmt):
    job = print_job(vp, lambda p: p.barcode(kind, data, height=80, width=3, hri="none") or p.cut())
    results = zxingcpp.read_barcodes(Image.open(job.pages[0]))
    # zxing reports UPC-A as the EAN-13 it is a subset of (leading 0)
    assert any(
        (r.format.name, r.text.strip("*")) in ((fmt, data), (fmt, data[1:-1]), ("EAN13", "0" + data)) for r in results
    ), [(r.format.name, r.text) for r in results]


def test_python_escpos_without_fs_dot_prints_hanzi(vp):
    """The peer defect the emulator exists to catch: ESC @ without FS . on a Chinese-mode clone."""
    escpos_printer = pytest.importorskip("escpos.printer")
    import contextlib
    import io

    d = escpos_printer.Dummy()
    with contextlib.redirect_stdout(io.StringIO()):
        d.hw("INIT")
        d._raw(b"\x1bt\x13" + "Straße €".encode("cp858") + b"\n")
    job = print_job(vp, lambda p: p.send(d.output))
    assert [op.text for op in job.ops if op.kind == "text"] != ["Straße €"]
    ours = print_job(vp, lambda p: (p.initialize(), p.text("Straße €\n")))
    assert [op.text for op in ours.ops if op.kind == "text"] == ["Straße €"]
