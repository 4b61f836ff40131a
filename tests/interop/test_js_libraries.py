"""receipt-printer-encoder 4 and receiptline 4 (from npm, pinned in js/package-lock.json and
installed by ``.ci/run`` with ``npm ci``): the bytes they make for each feature (js/make_bytes.mjs,
run by node) printed on the virtual printer over TCP and read back."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.interop.printer import Job, cropped, decoded, run

JS = Path(__file__).parent / "js"


@pytest.fixture(scope="module")
def js_bytes() -> dict[str, bytes]:
    """Every feature's bytes, from one node run."""
    if not (JS / "node_modules").is_dir() or shutil.which("node") is None:
        if os.environ.get("ESCPOS809_REQUIRE_NPM"):  # .ci/run installed them: a failure here
            pytest.fail("node or tests/interop/js/node_modules missing (npm ci in tests/interop/js)")
        pytest.skip("node or tests/interop/js/node_modules missing (npm ci in tests/interop/js)")
    made = json.loads(run(["node", "make_bytes.mjs"], JS))
    return {name: bytes.fromhex(hexed) for name, hexed in made.items()}


@pytest.fixture
def printed(virtual_printer, js_bytes):
    def job(feature: str) -> Job:
        return virtual_printer.send(js_bytes[feature])

    return job


def test_encoder_text_table_and_code_pages(printed):
    job = printed("rpe-text")
    assert job.unknown() == [] and job.log["draw_warnings"] == []
    texts = [op["text"] for op in job.kinds("text")]
    assert texts[:3] == ["Grüße 15,40 € ñ", "bold", "underlined"]
    assert any(t.startswith("Coffee") and t.endswith("3,20 €") for t in texts)
    assert any(t.startswith("Charging 12,3 kWh") and t.endswith("15,40 €") for t in texts)
    assert any("─" in t for t in texts)  # rule(): box drawing through a code page
    assert len(job.kinds("cut")) == 1


def test_encoder_italic_is_unknown_as_on_the_printer(printed):
    assert printed("rpe-italic").unknown_commands() == {"1b 34"}  # ESC 4: not in the firmware


@pytest.mark.parametrize(
    ("symbology", "fmt", "text"),
    [
        ("upca", "UPCA", "0012345678905"),  # zxing-cpp gives UPC-A / UPC-E in EAN-13 form
        ("upce", "UPCE", "0012345000065"),
        ("ean13", "EAN13", "4006381333931"),
        ("ean8", "EAN8", "96385074"),
        ("code39", "Code39", "ABC-12"),
        ("itf", "ITF", "12345678"),
        ("codabar", "Codabar", "A40156B"),
        ("code93", "Code93", "CODE93"),
        ("code128", "Code128", "CHG-2024"),
    ],
)
def test_encoder_barcodes_read_back(printed, symbology, fmt, text):
    job = printed(f"rpe-barcode-{symbology}")
    assert job.unknown() == [] and len(job.kinds("barcode")) == 1
    assert decoded(job.paper(), only=fmt) == [(fmt, text)]


@pytest.mark.parametrize("symbology", ["gs1-128", "gs1-databar-omni", "gs1-databar-limited", "gs1-databar-expanded"])
def test_encoder_gs1_barcodes_are_unknown_as_on_the_printer(printed, symbology):
    """GS k 74-78 are not in the firmware: it reads GS k m; n and the data print as characters."""
    job = printed(f"rpe-barcode-{symbology}")
    assert job.unknown_commands() == {"1d 6b"} and job.kinds("barcode") == []


def test_encoder_qr_code_and_pdf417_read_back(printed):
    qr, pdf = printed("rpe-qrcode"), printed("rpe-pdf417")
    assert qr.unknown() == [] and pdf.unknown() == []
    assert decoded(qr.paper()) == [("QRCode", "https://charge.example.com/r/2024/000123")]
    assert decoded(pdf.paper()) == [("PDF417", "PDF417 from receipt-printer-encoder")]


def test_encoder_column_image_is_the_raster_image(printed):
    raster, column = printed("rpe-image-raster"), printed("rpe-image-column")
    assert raster.unknown() == [] and column.unknown() == []
    assert column.kinds("column_image") and raster.kinds("raster")
    assert (cropped(column.pages[0]) == cropped(raster.pages[0])).all()
    assert abs(column.pages[0].height - raster.pages[0].height) <= 24


def test_encoder_drawer_and_cut(printed):
    job = printed("rpe-pulse-cut")
    assert job.unknown() == [] and len(job.kinds("drawer")) == 1
    assert [op["mode"] for op in job.kinds("cut")] == ["partial"]


def test_receiptline_columns_hold_together(printed):
    """receiptline places its columns with ESC $ / ESC \\: the prices end at the right edge."""
    job = printed("rl-generic-columns")
    assert job.unknown() == []
    rows = {op["text"].split()[0]: op for op in job.kinds("text") if op["text"].strip()}
    assert rows["Coffee"]["text"].endswith("3.20 €") and rows["Charging"]["text"].endswith("15.40 €")
    page = cropped(job.pages[0])
    assert page.shape[1] > 560  # the rightmost price reaches the end of the 576-dot line


def test_receiptline_table_rules_are_drawn(printed):
    job = printed("rl-generic-rules")
    assert job.unknown() == [] and job.log["draw_warnings"] == []
    text = job.text()
    assert "╭" in text and "┼" in text and "╯" in text  # ESC t 1 (Katakana) box drawing
    assert any(op.get("overprint") for op in job.kinds("text"))  # cells written over the rules
    assert "Coffee" in text and "3.20" in text


def test_receiptline_styles_and_accents(printed):
    job = printed("rl-generic-styles")
    assert job.unknown() == [] and "Grüße ñ" in job.text()


def test_receiptline_codes_read_back(printed):
    bars, qr = printed("rl-generic-barcode"), printed("rl-generic-qrcode")
    assert bars.unknown() == [] and qr.unknown() == []
    assert sorted(decoded(bars.paper())) == [("Code128", "CHG-2024"), ("EAN13", "4006381333931")]
    assert decoded(qr.paper()) == [("QRCode", "https://charge.example.com/r/2024/000123")]


def test_receiptline_image_is_the_encoders_image(printed):
    """receiptline's GS v 0 image of the same picture: the same dots as the encoder's."""
    mine, theirs = printed("rl-generic-image"), printed("rpe-image-raster")
    [image] = mine.kinds("raster")
    top = image["y"] - mine.ops[0]["y"]  # paper positions run on from job to job
    drawn = mine.pages[0].crop((0, top, 576, top + image["height"]))  # not the cut mark
    assert mine.unknown() == [] and (cropped(drawn) == cropped(theirs.pages[0])).all()


@pytest.mark.parametrize("feature", ["columns", "rules", "styles", "barcode", "qrcode", "image"])
def test_receiptline_epson_commands_the_firmware_lacks(printed, feature):
    """receiptline's Epson set sends FS ( A (and GS 8 L / GS ( L for images): not in the firmware, they
    stay unknown and their bytes print, as on the printer."""
    job = printed(f"rl-escpos-{feature}")
    expected = {"qrcode": {"1c 28", "1d 38", "1d 28 4c"}, "image": {"1c 28", "1d 38"}}.get(feature, {"1c 28"})
    assert job.unknown_commands() == expected
