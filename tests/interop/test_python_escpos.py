"""python-escpos 3.1, driven through its public API, printing to the virtual printer over TCP:
what it sends must be understood (no ``unknown`` but for commands the firmware lacks), every
code it prints must read back from the paper, column images must equal raster images."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from escpos.printer import Network
from PIL import Image, ImageDraw

from tests.interop.printer import NOT_IN_FIRMWARE, Job, VirtualPrinter, cropped, decoded

#: the Xprinter profile of escpos-printer-db (python-escpos ships it): this printer's family
PROFILE = "NT-80-V-UL"
#: FS . : the printer powers on in GB18030 mode (§1); python-escpos has no call for it, so the
#: raw command goes first, as its documentation shows for commands it lacks
SINGLE_BYTE = b"\x1c\x2e"


def print_with(vp: VirtualPrinter, use: Callable[[Network], object]) -> Job:
    before = len(list(vp.out.glob("job-*")))
    p = Network(vp.host, port=vp.port, timeout=10, profile=PROFILE)
    p.open()
    try:
        use(p)
    finally:
        p.close()
    return vp.wait_job(before + 1)


def picture() -> Image.Image:
    """A 200 x 60 test picture (a frame and a diagonal: any misplaced column shows)."""
    im = Image.new("1", (200, 60), 1)
    d = ImageDraw.Draw(im)
    d.rectangle((4, 4, 195, 55), outline=0, width=4)
    d.line((0, 0, 199, 59), fill=0, width=3)
    return im


def test_text_styles_and_accents(virtual_printer):
    def use(p: Network) -> None:
        p._raw(SINGLE_BYTE)
        p.set(bold=True, underline=1, double_height=True, double_width=True, align="center")
        p.textln("Big")
        p.set(font="b", invert=True, flip=True)
        p.textln("Turned")
        p.set_with_default()
        p.textln("Grüße 15,40 € ñ")
        p.block_text("a fairly long line of words " * 3, columns=24)

    job = print_with(virtual_printer, use)
    assert job.unknown_commands() <= set(NOT_IN_FIRMWARE)  # set() sends GS b (smoothing)
    texts = [op["text"] for op in job.kinds("text")]
    assert texts[:3] == ["Big", "Turned", "Grüße 15,40 € ñ"]
    big, turned = job.kinds("text")[:2]
    assert big["height"] >= 48 and big["align"] == 1 and turned.get("upside_down") is True
    assert job.log["draw_warnings"] == []


# (python-escpos name, data, function type, zxing format, text read back: the check digit as
# the symbology's rule gives it, written out here; zxing-cpp gives UPC-A and UPC-E in their
# EAN-13 form, UPC-E 0123456 expanded to UPC-A 0 12345 00006 5)
BARCODES = [
    ("UPC-A", "01234567890", "A", "UPCA", "0012345678905"),
    ("UPC-E", "01234565", "A", "UPCE", "0012345000065"),
    ("EAN13", "400638133393", "A", "EAN13", "4006381333931"),
    ("EAN8", "9638507", "A", "EAN8", "96385074"),
    ("CODE39", "ABC-12", "A", "Code39", "ABC-12"),
    ("ITF", "12345678", "A", "ITF", "12345678"),
    ("NW7", "A40156B", "A", "Codabar", "A40156B"),
    ("UPC-A", "01234567890", "B", "UPCA", "0012345678905"),
    ("UPC-E", "01234565", "B", "UPCE", "0012345000065"),
    ("EAN13", "400638133393", "B", "EAN13", "4006381333931"),
    ("EAN8", "9638507", "B", "EAN8", "96385074"),
    ("CODE39", "ABC-12", "B", "Code39", "ABC-12"),
    ("ITF", "12345678", "B", "ITF", "12345678"),
    ("NW7", "A40156B", "B", "Codabar", "A40156B"),
    ("CODE93", "CODE93", "B", "Code93", "CODE93"),
    ("CODE128", "{BCHG-2024", "B", "Code128", "CHG-2024"),
]


@pytest.mark.parametrize(("bc", "code", "function", "fmt", "text"), BARCODES)
def test_barcodes_read_back(virtual_printer, bc, code, function, fmt, text):
    job = print_with(virtual_printer, lambda p: p.barcode(code, bc, function_type=function, width=3))
    assert job.unknown() == [] and len(job.kinds("barcode")) == 1
    assert decoded(job.paper(), only=fmt) == [(fmt, text)]


@pytest.mark.parametrize("width", [2, 4])
def test_itf_and_codabar_are_as_wide_as_the_firmware_draws_them(virtual_printer, width):
    """GS w n: narrow bars n dots, wide ones from the firmware's table (print801 Command_1D77:
    5, 8, 10, 13, 15 for n = 2-6), so a 4-dot module does not run off the paper."""
    job = print_with(virtual_printer, lambda p: p.barcode("12345678901234", "ITF", width=width, function_type="B"))
    dots = cropped(job.pages[0])
    wide = {2: 5, 4: 10}[width]
    # ITF: start 4 narrow, 7 digit pairs of 2 wide + 3 narrow bars and spaces each, stop wide + 2 narrow
    assert dots.shape[1] == 4 * width + 7 * (4 * wide + 6 * width) + (wide + 2 * width)
    assert ("ITF", "12345678901234") in decoded(job.paper())


def test_qr_native_and_as_an_image_read_back(virtual_printer):
    url = "https://charge.example.com/r/2024/000123?s=ABCDEFGHJKLMNPQRS"

    def use(p: Network) -> None:
        p.qr(url, native=True, size=6, ec=1)
        p.qr(url, native=False, size=6)

    job = print_with(virtual_printer, use)
    assert job.unknown() == [] and len(job.kinds("qr")) == 1 and len(job.kinds("raster")) == 1
    assert decoded(job.paper()).count(("QRCode", url)) == 2


def test_software_barcode_reads_back(virtual_printer):
    job = print_with(virtual_printer, lambda p: p.barcode("4006381333931", "EAN13", force_software="bitImageRaster"))
    assert job.unknown() == [] and ("EAN13", "4006381333931") in decoded(job.paper())


def test_column_image_is_the_raster_image(virtual_printer):
    """ESC * bands (24-dot, double density) and GS v 0 draw the same dots, and a band feeds the
    paper once: the column job is no longer than the raster one but for the last band's padding."""
    raster = print_with(virtual_printer, lambda p: p.image(picture(), impl="bitImageRaster"))
    column = print_with(virtual_printer, lambda p: p.image(picture(), impl="bitImageColumn"))
    assert raster.unknown() == [] and column.unknown() == []
    assert len(column.kinds("column_image")) == 3  # 60 rows: three bands of 24
    assert (cropped(column.pages[0]) == cropped(raster.pages[0])).all()
    assert column.pages[0].height - raster.pages[0].height <= 24


def test_everyday_commands(virtual_printer):
    def use(p: Network) -> None:
        p._raw(SINGLE_BYTE)
        p.charcode("CP858")
        p.textln("Total 15,40 €")
        p.print_and_feed(2)
        p.line_spacing(40)
        p.ln(2)
        p.line_spacing()
        p.control("HT")
        p.textln("tab")
        p.buzzer(2, 4)
        p.cashdraw(2)
        p.panel_buttons(False)
        p.panel_buttons(True)
        p.cut(mode="PART")
        p.cut()

    job = print_with(virtual_printer, use)
    assert job.unknown() == [] and [op["kind"] for op in job.ops if op["kind"] == "warning"] == []
    assert "Total 15,40 €" in job.text()
    assert [op["mode"] for op in job.kinds("cut")] == ["partial", "full"]
    assert len(job.kinds("beep")) == 1 and len(job.kinds("drawer")) == 1


def test_graphics_is_unknown_as_on_the_printer(virtual_printer):
    """GS ( L is not in the firmware: it reads GS ( L and prints the rest as characters."""
    job = print_with(virtual_printer, lambda p: p.image(picture(), impl="graphics"))
    assert job.unknown_commands() == {"1d 28 4c"}
