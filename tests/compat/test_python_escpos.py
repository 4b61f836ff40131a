"""Escpos809 (python-escpos on escpos809's transports) on the virtual OCPP-809 over TCP, and
its bytes against values written out from ../shared/reference/ocpp809-commands.md."""

from __future__ import annotations

import contextlib
import io
import json
import time

import pytest
from escpos.constants import QR_ECLEVEL_M
from escpos.exceptions import ImageWidthError
from escpos.printer import Network, Serial
from PIL import Image, ImageDraw

from escpos809.compat.python_escpos import Escpos809
from escpos809.errors import Escpos809Error, InvalidURI, UnsupportedCommand
from tests.emulator.emulate import emulate

GREETING = "Grüße € ñ ç Ø"
URL = "https://charge.example.com/r/2024/000123?s=ABCDEFGHJKLMNPQRS"


def memory() -> Escpos809:
    return Escpos809("memory://compat")


def written(p: Escpos809) -> bytes:
    """What ``p`` sent after the connection's first ``FS .`` (§1: Chinese mode at power-on)."""
    out = bytes(p.printer.transport.written)
    assert out.startswith(bytes.fromhex("1C 2E")), out[:8].hex(" ")
    return out[2:]


# --- on the virtual printer ---------------------------------------------------------------------


def test_accents_print_as_accents_where_stock_python_escpos_prints_hanzi(paper):
    host, port = paper.uri.removeprefix("tcp://").split(":")
    with paper.job() as stock:
        n = Network(host, int(port), timeout=5)
        n.hw("INIT")
        n.set_with_default()
        n.textln(GREETING)
        n.close()
    # the failure this adapter exists for, seen on the same virtual printer
    assert stock.texts != [GREETING] and stock.unknown
    with paper.job() as job:
        p = Escpos809(paper.uri)
        p.textln(GREETING)  # no INIT: the stock job's ESC @ left the printer in Chinese mode
        p.hw("INIT")
        p.set_with_default()
        p.textln(GREETING)
        p.hw("INIT")  # ESC @: back to the power-on page; the next text selects its page again
        p.textln("Ø € ß")
        p.textln("收据 Grüße")  # CJK in Chinese mode, then single-byte again
        p.close()
    assert job.texts == [GREETING, GREETING, "Ø € ß", "收据 Grüße"] and job.unknown == []


def test_a_page_forced_with_charcode_is_sent_again_after_esc_at(paper):
    with paper.job() as job:
        p = Escpos809(paper.uri)
        p.charcode("CP858")
        p.textln("€ 5")
        p.hw("INIT")
        p.textln("€ 6")
        p.close()
    assert job.texts == ["€ 5", "€ 6"] and job.unknown == []


@pytest.mark.parametrize("impl", ["bitImageRaster", "graphics"])
def test_images_in_each_mode_print_right(paper, impl):
    with paper.job() as job:
        p = Escpos809(paper.uri)
        p.qr(URL, ec=QR_ECLEVEL_M, size=4, image_arguments={"impl": impl, "center": True})
        p.close()
    assert job.unknown == [] and job.codes() == [("QRCode", URL)]
    assert job.kinds("raster") and not job.kinds("column_image")  # GS ( L is no-op in the firmware


def test_column_images_print_right(paper):
    # 24-dot bands at a line height of 24 (ESC 3 24), one after the other
    with paper.job() as job:
        p = Escpos809(paper.uri)
        p.qr(URL, ec=QR_ECLEVEL_M, size=4, image_arguments={"impl": "bitImageColumn", "center": True})
        p.close()
    assert job.kinds("column_image") and job.unknown == []
    assert job.codes() == [("QRCode", URL)]


def test_native_qr_centred_and_not(paper):
    with paper.job() as job:
        p = Escpos809(paper.uri)
        p.qr(URL, native=True, size=5, ec=QR_ECLEVEL_M, center=True)  # stock: NotImplementedError
        p.qr("left", native=True, size=5)
        p.close()
    qrs = job.kinds("qr")
    assert [(q["data"], q["align"], q["size"]) for q in qrs] == [(URL, 1, 5), ("left", 0, 5)]
    assert qrs[0]["ec"] == "M" and job.unknown == []
    assert sorted(text for _, text in job.codes()) == sorted([URL, "left"])


def test_barcodes_cash_drawer_and_cuts(paper):
    with paper.job() as job:
        p = Escpos809(paper.uri)
        p.barcode("{BCHG2024000123", "CODE128", 64, 2, function_type="B")
        p.barcode("4006381333931", "EAN13", 64, 2)
        p.cashdraw(2)
        p.cashdraw(5)
        p.cut(mode="FULL", feed=False)  # stock: GS V 66 0, a partial cut
        p.text("next\n")
        p.cut(mode="PART", feed=False)
        p.text("last\n")
        p.cut()
        p.close()
    assert job.unknown == []
    assert [(c["mode"], c["command"]) for c in job.kinds("cut")] == [
        ("full", "GS V 0"),
        ("partial", "GS V 1"),
        ("full", "GS V 0"),
    ]
    assert [(d["pin"], d["on_ms"]) for d in job.kinds("drawer")] == [(2, 100), (5, 100)]
    codes = job.codes()
    assert ("Code128", "CHG2024000123") in codes and ("EAN13", "4006381333931") in codes


def test_status_from_an_answering_printer(paper):
    p = Escpos809(paper.uri)
    try:
        assert p.is_online() is True and p.paper_status() == 2 and p.status().ready
    finally:
        p.close()


def test_silent_printer_is_neither_online_nor_paper_adequate(silent):
    tcp, serial = silent
    stock = Serial(serial.removeprefix("serial://"), timeout=0.5)
    try:
        assert stock.paper_status() == 2  # the defect: stock python-escpos says "paper adequate"
    finally:
        stock.close()
    for uri in (tcp, serial):
        p = Escpos809(uri, timeout=0.5)
        try:
            assert p.paper_status() == 0, uri
            assert p.is_online() is False
            st = p.status()
            assert not st.known and "no reply to DLE EOT 1" in st.reason
        finally:
            p.close()


def test_unreachable_printer_raises_escpos809_errors():
    p = Escpos809("tcp://127.0.0.1:9?connect_timeout=0.5")  # discard port: nothing listens
    with pytest.raises(Escpos809Error):
        p.text("x")
    p.open(raise_not_found=False)  # python-escpos's way: logged, not raised
    assert p.device is None
    with pytest.raises(InvalidURI):
        Escpos809("ipp://printer")


# --- bytes, against the reference ----------------------------------------------------------------


def test_uri_forms_and_timeouts_reach_the_transport():
    p = Escpos809("tcp://192.0.2.1:9100?timeout=3&read_timeout=0.5")
    assert (p.printer.transport.write_timeout, p.printer.transport.read_timeout) == (3.0, 0.5)
    q = Escpos809("tcp://192.0.2.1", timeout=1.5)
    assert (q.printer.transport.write_timeout, q.printer.transport.read_timeout) == (1.5, 1.5)
    for uri in ("serial:///dev/ttyUSB0?baudrate=115200", "usb://0483:5743", "lp:///dev/usb/lp0"):
        assert Escpos809(uri).printer.transport.uri.split(":")[0] == uri.split(":")[0]


def test_in_process_virtual_printer(tmp_path, monkeypatch):
    monkeypatch.setenv("ESCPOS809_PAPER_DIR", str(tmp_path))
    p = Escpos809("virtual://compat")
    p.textln(GREETING)
    p.cut()
    p.close()  # waits until the job is on paper
    log = json.loads(p.printer.transport.last_job.log_path.read_text("utf-8"))
    assert [op.get("text") for op in log["ops"] if op["kind"] == "text"] == [GREETING]
    assert [op["mode"] for op in log["ops"] if op["kind"] == "cut"] == ["full"]


def test_initialise_cancels_chinese_mode():
    p = memory()
    p.hw("INIT")
    p.text("x")
    assert bytes(p.printer.transport.written) == bytes.fromhex("1B 40 1C 2E 78")  # §1: ESC @ then FS .


def test_text_pages_are_the_profiles():
    p = memory()
    p.text("€")
    # CP858 is ESC t 19 in the Xprinter numbering (§3), € is 0xD5 there; Epson's 19 is also CP858,
    # but stock python-escpos picks by its own table order (CP1252 as ESC t 16 = Epson's)
    assert written(p) == bytes.fromhex("1B 74 13 D5")


def test_cut_modes():
    for (mode, feed), hexes in {
        ("FULL", False): "1D 56 00",
        ("PART", False): "1D 56 01",
        ("FULL", True): "1B 64 06 1D 56 00",
        ("PART", True): "1B 64 06 1D 56 01",
    }.items():
        p = memory()
        p.cut(mode=mode, feed=feed)
        assert written(p) == bytes.fromhex(hexes), (mode, feed)
    with pytest.raises(ValueError):
        memory().cut(mode="HALF")


def test_no_commands_the_firmware_lacks():
    p = memory()
    p.set_with_default()
    p.set(smooth=True, density=3, flip=False)
    p.line_spacing(30, 360)
    p.line_spacing(10, 60)
    out = written(p)
    for absent in ("1D 62", "1D 7C", "1B 2B", "1B 41"):  # GS b, GS |, ESC +, ESC A
        assert bytes.fromhex(absent) not in out, absent
    assert out.endswith(bytes.fromhex("1B 33 11 1B 33 22"))  # 30/360 in = 17 dots, 10/60 in = 34 dots


def test_graphics_become_raster_bands_of_the_profile_height():
    img = Image.new("1", (16, 50), 1)
    ImageDraw.Draw(img).rectangle([0, 0, 7, 49], fill=0)
    p = memory()
    p.image(img, impl="graphics")
    out = written(p)
    assert b"\x1d(L" not in out
    # GS v 0, 2 bytes a row, bands of 24 + 24 + 2 rows, each row FF 00
    assert out == b"".join(
        bytes.fromhex("1D 76 30 00 02 00") + bytes([rows, 0]) + b"\xff\x00" * rows for rows in (24, 24, 2)
    )


def test_centring_keeps_the_alignment_in_force():
    p = memory()
    p.set(align="right")
    p.image(Image.new("1", (8, 1), 0), center=True)
    p.qr("x", native=True, center=True)
    p.text("r\n")
    qr = bytes.fromhex("1D 28 6B 04 00 31 41 32 00 1D 28 6B 03 00 31 43 03 1D 28 6B 03 00 31 45 30")
    qr += bytes.fromhex("1D 28 6B 04 00 31 50 30 78 1D 28 6B 03 00 31 51 30 0A")
    assert written(p) == (
        bytes.fromhex("1B 61 02")
        + bytes.fromhex("1B 61 01 1D 76 30 00 01 00 01 00 FF 1B 61 02")  # ESC a 1, GS v 0 1x1 byte, ESC a 2
        + bytes.fromhex("1B 61 01")
        + qr
        + bytes.fromhex("1B 61 02")
        + b"r\n"
    )


def test_column_images_use_a_24_dot_line_height():
    img = Image.new("1", (2, 24), 0)
    p = memory()
    p.image(img, impl="bitImageColumn")
    # ESC 3 24, ESC * 33 (24-dot double density) 2 columns of 3 bytes, LF, ESC 2 (§2, §5)
    assert written(p) == bytes.fromhex("1B 33 18 1B 2A 21 02 00 FF FF FF FF FF FF 0A 1B 32")


def test_native_qr_centred_with_esc_a():
    p = memory()
    p.qr(URL, native=True, size=6, ec=QR_ECLEVEL_M, center=True)
    golden = (  # §6 golden vector (python-escpos 3.1, size 6, ec M)
        bytes.fromhex("1D 28 6B 04 00 31 41 32 00 1D 28 6B 03 00 31 43 06 1D 28 6B 03 00 31 45 31")
        + bytes.fromhex("1D 28 6B 3F 00 31 50 30")
        + URL.encode()
        + bytes.fromhex("1D 28 6B 03 00 31 51 30")
    )
    assert written(p) == bytes.fromhex("1B 61 01") + golden + bytes.fromhex("0A 1B 61 00")
    with pytest.raises(UnsupportedCommand):
        memory().qr("x", native=True, model=1)


def test_barcode_types_without_gs_k_are_drawn():
    p = memory()
    with contextlib.redirect_stdout(io.StringIO()):  # python-escpos print()s its renderer choice
        p.barcode("(01)12345678901231", "GS1-128", check=False)
    assert b"\x1dk" not in written(p) and b"\x1dv0" in written(p)


def test_a_python_escpos_profile_name_is_ignored_with_a_warning(caplog):
    p = Escpos809("memory://", profile="TM-T88III")
    assert p.profile.profile_data["name"] == "OCOM OCPP-809"
    assert "python-escpos profile ignored" in caplog.text


def test_capabilities_profile_in_printer_db_format():
    from escpos.capabilities import CAPABILITIES

    caps = memory().profile
    entry = caps.profile_data
    assert set(entry) == set(CAPABILITIES["profiles"]["default"])  # the database's own keys
    assert set(entry["features"]) == set(CAPABILITIES["profiles"]["default"]["features"])
    assert set(entry["codePages"].values()) <= set(CAPABILITIES["encodings"])
    assert caps.profile_data["media"] == {"dpi": 203, "width": {"mm": 80, "pixels": 576}}
    assert caps.get_columns("a") == 48 and caps.get_columns("b") == 64 and caps.get_font("b") == 1
    assert caps.get_code_pages()["CP858"] == "19" and caps.get_code_pages()["CP1252"] == "16"
    assert not caps.supports("graphics") and caps.supports("bitImageRaster") and caps.supports("qrCode")


# --- attacks ----------------------------------------------------------------------------------------


def test_text_cannot_smuggle_commands_or_crash():
    p = memory()
    p.text("a\x1b@\x1dV\x00b\ud800c\U0001f600\n")  # ESC @, GS V 0, a lone surrogate, an emoji
    out = written(p)
    assert out == b"a?@?V?b?c?\n"  # control bytes and what no page carries print as '?'


def test_text_on_a_page_forced_with_charcode_cannot_smuggle_commands(paper):
    # charcode() hands text to python-escpos's own encoder, which sent control bytes as they
    # were: this text cut the paper, pulsed the drawer and switched the printer off (ESC = 2)
    evil = "A\x1dV\x00B\x10\x14\x01\x00\x05C\x1b=\x02D\x1b@E\x7f"
    with paper.job() as job:
        p = Escpos809(paper.uri)
        p.charcode("CP858")
        p.textln(evil)
        p.textln("€ 7")
        p.close()
    assert job.texts == ["A?V?B?????C?=?D?@E?", "€ 7"]
    assert job.cuts == [] and job.kinds("drawer") == [] and job.unknown == []


def test_bad_arguments_are_python_escpos_errors():
    p = memory()
    with pytest.raises(ValueError):
        p.qr("x", native=True, size=0)
    with pytest.raises(ValueError):
        p.qr("x", native=True, ec=9)
    with pytest.raises(ValueError):
        p.line_spacing(300, 180)
    with pytest.raises(ImageWidthError):
        p.image(Image.new("1", (577, 8), 0))
    assert p.printer.transport.written == b""  # nothing half-sent


def test_tall_image_goes_in_bands():
    p = memory()
    p.image(Image.new("1", (576, 3000), 0), impl="bitImageRaster", fragment_height=960)
    out = written(p)
    assert out.count(b"\x1dv0") == 125 and len(out) == 3000 * 72 + 125 * 8


def test_printer_lost_mid_job_raises_instead_of_hanging(tmp_path):
    proc = emulate(tmp_path, "--drop-after", "5000")
    try:
        uri = proc.stdout.readline().split()[-1]
        p = Escpos809(uri + "?timeout=5")
        with pytest.raises(Escpos809Error):
            for _ in range(50):  # the printer hangs up after 5000 bytes
                p.image(Image.new("1", (576, 240), 0))
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def test_serial_lp_and_usb_links(tmp_path):
    """The same python-escpos calls over serial:// and lp:// (the virtual printer's
    pseudo-terminal) and usb:// (pyusb against a simulated device)."""
    from escpos809.transport.usb import UsbTransport
    from tests.usb_sim import SimBackend, SimPrinter

    proc = emulate(tmp_path, "--serial")
    try:
        proc.stdout.readline()
        pty = proc.stdout.readline().split()[-1]  # "serial serial:///dev/pts/N"
        for uri in (pty, pty.replace("serial://", "lp://")):
            p = Escpos809(uri, timeout=5)
            p.textln(GREETING)
            p.cut(feed=False)
            assert p.paper_status() == 2 and p.is_online()
            p.close()
        deadline = time.monotonic() + 30
        texts: list[str] = []
        while time.monotonic() < deadline and texts != [GREETING, GREETING]:
            texts = []
            for log in sorted(tmp_path.glob("job-*/job.json")):
                texts += [op["text"] for op in json.loads(log.read_text("utf-8"))["ops"] if op["kind"] == "text"]
            time.sleep(0.1)
        assert texts == [GREETING, GREETING]
    finally:
        proc.terminate()
        proc.communicate(timeout=30)

    sim = SimPrinter()
    p = Escpos809(UsbTransport(0x0483, 0x5743, backend=SimBackend(sim)))
    p.textln(GREETING)
    p.cut(feed=False)
    assert p.paper_status() == 2
    p.close()
    assert bytes(sim.received).startswith(bytes.fromhex("1C 2E 47 72 1B 74 13 81 E1 65"))  # FS . "Gr" ESC t 19 "üße"
