"""Where python-escpos 3.1 is right (native QR, unpadded GS v 0, GS k barcodes) our bytes must
equal its Dummy printer's; where it is wrong (cut mode, no FS .) we must differ."""

import contextlib
import io

import pytest
from PIL import Image, ImageDraw

from escpos809.escpos import codes, commands
from escpos809.raster import image_to_escpos

escpos_printer = pytest.importorskip("escpos.printer")
escpos_constants = pytest.importorskip("escpos.constants")


def dummy_output(action) -> bytes:
    d = escpos_printer.Dummy()
    with contextlib.redirect_stdout(io.StringIO()):  # python-escpos print()s to stdout
        action(d)
    return d.output


@pytest.mark.parametrize(
    "data, size, ec",
    [
        ("https://charge.example.com/r/2024/000123?s=ABCDEFGHJKLMNPQRS", 6, "M"),
        ("WIFI:S:Kiosk;T:WPA;P:secret;;", 8, "H"),
        ("x" * 500, 3, "L"),
    ],
)
def test_native_qr_identical(data, size, ec):
    level = {
        "L": escpos_constants.QR_ECLEVEL_L,
        "M": escpos_constants.QR_ECLEVEL_M,
        "Q": escpos_constants.QR_ECLEVEL_Q,
        "H": escpos_constants.QR_ECLEVEL_H,
    }[ec]
    theirs = dummy_output(lambda d: d.qr(data, native=True, size=size, ec=level))
    assert codes.qr_code(data, size=size, ec=ec) == theirs


@pytest.mark.parametrize(
    "kind, theirs_kind, data, ours_data",
    [
        ("code128", "CODE128", "{BCHG2024000123", "CHG2024000123"),
        ("ean13", "EAN13", "4006381333931", "4006381333931"),
        ("ean8", "EAN8", "96385074", "96385074"),
        ("upca", "UPC-A", "036000291452", "036000291452"),
        ("code39", "CODE39", "ABC-123", "ABC-123"),
        ("itf", "ITF", "12345678", "12345678"),
        ("codabar", "NW7", "A40156B", "A40156B"),
        ("code93", "CODE93", "CODE93", "CODE93"),
    ],
)
def test_barcodes_identical(kind, theirs_kind, data, ours_data):
    theirs = dummy_output(
        lambda d: d.barcode(
            data, theirs_kind, height=64, width=2, pos="BELOW", font="A", align_ct=False, function_type="B", check=False
        )
    )
    ours = codes.barcode(
        kind, ours_data, height=64, width=2, hri="below", hri_font="A", code128_set="B" if kind == "code128" else "auto"
    )
    assert ours == theirs


def test_unpadded_raster_identical():
    img = Image.new("RGB", (40, 30), "white")
    ImageDraw.Draw(img).rectangle([3, 3, 20, 25], fill="black")
    theirs = dummy_output(lambda d: d.image(img, impl="bitImageRaster", center=False))
    assert image_to_escpos(img, 576, band_rows=960) == theirs


def test_where_python_escpos_is_wrong_we_differ():
    # python-escpos cut(mode="FULL", feed=False) sends a *partial* feed-cut; we send GS V 0.
    theirs = dummy_output(lambda d: d.cut(mode="FULL", feed=False))
    assert theirs == bytes.fromhex("1D 56 42 00")
    assert commands.cut("full") == bytes.fromhex("1D 56 00")
    # its hw("INIT") never cancels Chinese mode; ours always does
    assert dummy_output(lambda d: d.hw("INIT")) == b"\x1b@"
    assert commands.initialize() == b"\x1b@\x1c."
