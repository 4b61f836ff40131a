"""python-escpos's documented examples, unchanged but for the printer class line, printed on
the virtual OCPP-809 over TCP: what it recorded (job.json) and what zxing-cpp reads off the page.

Sources (python-escpos 3.1): ``doc/user/usage.rst`` ("Define your instance"), the README's
Network example, ``examples/barcodes.py``, ``examples/software_barcode.py``,
``examples/qr_code.py`` and ``examples/receipt.py``. Their image files are drawn by the
``images`` fixture (the originals are not shipped with python-escpos).
"""

from __future__ import annotations

import re
import textwrap
from datetime import datetime
from pathlib import Path

import pytest

from escpos809.compat.python_escpos import Escpos809

pytestmark = pytest.mark.usefixtures("images")


def test_usage_define_your_instance(paper):
    with paper.job() as job:
        # doc/user/usage.rst, "Define your instance"
        p = Escpos809(paper.uri)  # was: p = printer.Usb(0x04b8,0x0202)
        # Print text
        p.text("Hello World\n")
        # Print image
        p.image("logo.gif")
        # Print QR Code
        p.qr("You can readme from your smartphone")
        # Print barcode
        p.barcode("4006381333931", "EAN13", 64, 2, "", "")
        # Cut paper
        p.cut()
        p.close()
    assert job.texts[0] == "Hello World"
    assert job.unknown == [] and job.cuts == ["full"]
    assert ("QRCode", "You can readme from your smartphone") in job.codes()
    assert ("EAN13", "4006381333931") in job.codes()


def test_readme_network_example(paper):
    with paper.job() as job:
        kitchen = Escpos809(paper.uri)  # was: kitchen = Network("192.168.1.100") #Printer IP Address
        kitchen.text("Hello World\n")
        kitchen.barcode("4006381333931", "EAN13", 64, 2, "", "")
        kitchen.cut()
        kitchen.close()
    assert job.texts == ["Hello World"] and job.unknown == [] and job.cuts == ["full"]
    assert job.codes() == [("EAN13", "4006381333931")]


def test_examples_barcodes(paper):
    with paper.job() as job:
        p = Escpos809(paper.uri)  # was: p = Usb(0x0416, 0x5011, profile="TM-T88II")

        # Print software and then hardware barcode with the same content
        p.barcode("123456", "CODE39", width=2, force_software=True)
        p.text("\n")
        p.text("\n")
        p.barcode("123456", "CODE39")
        p.close()
    assert job.unknown == []
    assert len(job.kinds("raster")) > 0 and len(job.kinds("barcode")) == 1  # software, then hardware
    found = [text for fmt, text in job.codes() if fmt == "Code39"]
    assert len(found) == 2 and all(t.startswith("123456") for t in found), found


def test_examples_software_barcode(paper):
    with paper.job() as job:
        p = Escpos809(paper.uri)  # was: p = Usb(0x0416, 0x5011, profile="POS-5890")

        # Some software barcodes
        p.barcode("Hello", "code128", width=2, force_software="bitImageRaster")
        p.barcode("1234", "code39", width=2, force_software=True)
        p.close()
    assert job.unknown == [] and job.kinds("barcode") == []  # both drawn by python-barcode, sent as GS v 0
    # python-barcode draws Code 128 at 203 dpi with modules rounded to 1-2 dots, which zxing-cpp
    # cannot read off its own image either; the Code 39 (with its check character "A") reads
    assert ("Code39", "1234A") in job.codes()
    assert len({op["y"] for op in job.kinds("raster")}) >= 2 * 3  # two pictures, several bands each


@pytest.mark.parametrize("content", ["https://charge.example.com/r/2024/000123", "Grüße"])
def test_examples_qr_code(paper, content):
    with paper.job() as job:
        # Adapt to your needs
        p = Escpos809(paper.uri)  # was: p = Usb(0x0416, 0x5011, profile="POS-5890")
        p.qr(content, center=True)
        p.close()
    assert job.unknown == [] and job.codes() == [("QRCode", content)]
    raster = job.kinds("raster")
    assert raster and all(op["align"] == 1 and op["width_bytes"] < 72 for op in raster)  # ESC a 1, not padding


# examples/receipt.py, from "items = [" to the final cut; the class line changed
items = [
    {"sku": 666, "desc": "Dragon Tears", "price": 5.6},
    {"sku": 661, "desc": "Lizard Tongue", "price": 7.77},
    {"sku": 911, "desc": "Bat Wing", "price": 13.7},
    {"sku": 42, "desc": "Towel", "price": 19.99},
]
tax_percent = 0.05
header = {"sku": "SKU", "desc": "Product Description", "price": "Price"}
header_format = "{sku:<6} {desc:<33} {price:<6}"
item_format = "{sku:>06} {desc:<33} {price:>6.2f}"
subtotals_format = "{dummy:6} {desc:>33} {price:>6.2f}"
timestamp = datetime(2012, 12, 21, 11, 59, 59)
served_by = "Imruryg the Brave"
address = """57 Dandelion Tower Drive
Glimmerhollow, TQ, 981-PPU
Phone: +1-403-555-2106"""
disclaimer = """For entertainment purposes only.
Do not use for summoning demons and/or conjuration of spirits.
Magick should only be perfomed by trained professionals.
All sales are final. No refunds or exchanges for enchanted items.
Hocus Pocus will not be responsible for any damages, injuries, or
losses that occur while using or misusing these items.
Always check local bylaws and regulations before invoking any spells.
"""
disclaimer_width = 64


def justify(txt: str, width: int) -> str:
    prev_txt = txt
    while (n := width - len(txt)) > 0:
        txt = re.sub(r"(\s+)", r"\1 ", txt, count=n)
        if txt == prev_txt:
            break
    return txt.rjust(width)


def print_receipt(uri: str) -> None:
    p = Escpos809(uri)  # was: p = printer.Usb(0x04B8, 0x0E20, profile="TM-T88P80")
    p.set_with_default()
    p.image("hocus-pocus.gif", center=True)
    p.ln(1)
    p.set_with_default(align="center")
    for line in address.split("\n"):
        p.textln(line)
    p.ln(1)
    p.set_with_default(align="left")
    p.textln(timestamp.strftime("%A, %B %d, %Y   %I:%M%P"))
    p.set_with_default(align="right")
    p.textln("Served by: " + served_by)
    p.ln(2)
    p.set_with_default()
    p.line_spacing(80, 180)
    p.set_with_default(bold=True, underline=True)
    p.textln(header_format.format(**header))
    p.set_with_default()
    for idx, item in enumerate(items):
        txt = item_format.format(**item)
        if idx == len(items) - 1:
            p.set_with_default(underline=True)
        p.textln(txt)
    p.set_with_default()
    subtotal = sum([x["price"] for x in items])
    p.textln(subtotals_format.format(dummy="", desc="subtotal", price=subtotal))
    tax_amount = subtotal * tax_percent
    tax_desc = "Guild Tax (%d%%)" % (int(tax_percent * 100.0))  # noqa: UP031 (the example's own line)
    p.textln(subtotals_format.format(dummy="", desc=tax_desc, price=tax_amount))
    p.set_with_default(align="right", custom_size=True, width=2, height=2)
    total_amount = subtotal + tax_amount
    total_text_line = subtotals_format.format(dummy="", desc="Total", price=total_amount).strip()
    p.textln(total_text_line)
    p.ln(4)
    txt = disclaimer.replace("\n", " ")
    txt = re.sub("  +", " ", txt)
    txt = textwrap.wrap(txt, width=disclaimer_width)
    txt = [justify(x, disclaimer_width) for x in txt]
    p.set_with_default(font="b")
    for line in txt:
        p.textln(line)
    p.set_with_default()
    p.ln(2)
    p.image("creature5.gif", center=True)
    p.cut(mode="PART", feed=True)
    p.close()


def test_examples_receipt(paper):
    with paper.job() as job:
        print_receipt(paper.uri)
    # stock python-escpos sends GS b (smooth) in every set_with_default(): an unknown command here
    assert job.unknown == [] and job.cuts == ["partial"]
    texts = job.texts
    assert "Served by: Imruryg the Brave" in texts and "TOTAL" not in texts
    assert "Friday, December 21, 2012   11:59am" in texts
    line = next(op for op in job.kinds("text") if op["text"] == "000666 Dragon Tears                        5.60")
    assert line["height"] == 90  # line_spacing(80, 180): 80/180 inch at 203 dpi, as ESC 3 90
    total = next(op for op in job.kinds("text") if op["text"] == "Total  49.41")
    assert total["align"] == 2
    assert any(len(t) == disclaimer_width for t in texts)  # font B: 64 columns
    assert len(job.kinds("raster")) >= 2  # both pictures


def test_readme_after_example(paper):
    """README "Existing python-escpos code": the "after" code as written there."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    section = readme.split("## Existing python-escpos code", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    after = code.split("# after\n", 1)[1].replace('"tcp://192.168.1.50"', repr(paper.uri))
    with paper.job() as job:
        scope: dict = {}
        exec(after + "p.close()\n", scope)
    assert job.texts == ["Grüße € ñ ç Ø"] and job.unknown == [] and job.cuts == ["full"]
    assert [q["align"] for q in job.kinds("qr")] == [1]
    assert sorted(job.codes()) == [("EAN13", "4006381333931"), ("QRCode", "https://example.com/r/1")]
