"""The reference receipt of ../shared/reference/peers.md §6, built by escpos809 and by python-escpos 3.1."""

from __future__ import annotations

import contextlib
import io

from PIL import Image

from escpos809.demo import logo  # noqa: F401 - the reference logo (peers.md §6), shared with the demo

ITEMS = [
    ("Ladevorgang AC 22 kW", "0.00"),
    ("Energie 0-10 kWh @ 0,39", "3.90"),
    ("Energie 10-20 kWh @ 0,39", "3.90"),
    ("Energie 20-23,456 kWh @ 0,39", "1.35"),
    ("Startgebühr", "1.00"),
    ("Standzeit 0-60 min", "0.00"),
    ("Standzeit 60-95 min @ 0,10/min", "3.50"),
    ("Roaming-Aufschlag", "0.50"),
    ("Parkgebühr Zone B", "2.00"),
    ("Rabatt Mitgliedschaft", "-1.00"),
    ("Kabelmiete Typ 2", "0.00"),
    ("Service-Pauschale", "0.25"),
]
TOTALS = [("Zwischensumme", "15.40 €"), ("davon MwSt. 19%", "2.46 €")]
QR_URL = "https://charge.example.com/r/2024/000123?s=ABCDEFGHJKLMNPQRS"


def two_col(left: str, right: str, cols: int = 48) -> str:
    return left[: cols - len(right) - 1].ljust(cols - len(right)) + right


def escpos809_document(logo_img: Image.Image):
    from escpos809 import document as d

    bold2 = d.Style(bold=True, width=2, height=2)
    blocks = [
        d.ImageBlock(image=logo_img),
        d.Text("VOLTPARK CHARGING", bold2, "center"),
        d.Text("Hauptstraße 12, 10115 Berlin\nLadepunkt DE*VPK*E0001*1", align="center"),
        d.Rule("-"),
    ]
    blocks += [d.KeyValue(name, price + " €") for name, price in ITEMS]
    blocks += [d.Rule("-")] + [d.KeyValue(k, v) for k, v in TOTALS]
    blocks += [
        d.KeyValue("SUMME", "15.40 €", d.Style(bold=True, height=2)),
        d.Feed(1),
        d.Barcode("code128", "CHG2024000123", 64, 2, "below"),
        d.Feed(1),
        d.QR(QR_URL, 6, "M"),
        d.Text("Danke für Ihren Besuch!", align="center"),
        d.Cut("full", 0),
    ]
    return d.Document(tuple(blocks))


def build_escpos809(logo_img: Image.Image) -> bytes:
    from escpos809.profile import load_profile
    from escpos809.receipt import render

    return render(escpos809_document(logo_img), load_profile()).data


def build_python_escpos(logo_img: Image.Image) -> bytes:
    from escpos.constants import QR_ECLEVEL_M
    from escpos.printer import Dummy

    p = Dummy(profile="TM-T20II")
    with contextlib.redirect_stdout(io.StringIO()):  # it print()s; don't time the terminal
        p.hw("INIT")
        p.image(logo_img, center=True)
        p.set(align="center", bold=True, double_width=True, double_height=True)
        p.text("VOLTPARK CHARGING\n")
        p.set(align="center", bold=False, normal_textsize=True)
        p.text("Hauptstraße 12, 10115 Berlin\n")
        p.text("Ladepunkt DE*VPK*E0001*1\n")
        p.set(align="left")
        p.text("-" * 48 + "\n")
        for name, price in ITEMS:
            p.text(two_col(name, price + " €") + "\n")
        p.text("-" * 48 + "\n")
        for k, v in TOTALS:
            p.text(two_col(k, v) + "\n")
        p.set(bold=True, double_height=True)
        p.text(two_col("SUMME", "15.40 €") + "\n")
        p.set(bold=False, normal_textsize=True)
        p.text("\n")
        p.barcode("{BCHG2024000123", "CODE128", height=64, width=2, pos="BELOW", align_ct=True, function_type="B")
        p.text("\n")
        p.set(align="center")
        p.qr(QR_URL, native=True, size=6, ec=QR_ECLEVEL_M)
        p.text("Danke für Ihren Besuch!\n")
        p.cut()
    return p.output
