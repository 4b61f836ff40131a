"""The sample receipt ``escpos809 demo`` prints: a charging receipt with logo, items, VAT,
barcode and QR code — a document like any other, laid out by the layout engine, its money
figures computed by :mod:`escpos809.money` from the items."""

from __future__ import annotations

from decimal import Decimal

from PIL import Image, ImageDraw, ImageFont

from . import document as d
from .money import Bill, Item, fmt

# gross prices at 19 % VAT; the energy and idle lines are quantity x unit price
ITEMS = (
    Item("Ladevorgang AC 22 kW", Decimal("0.00")),
    Item("Energie 23,456 kWh @ 0,39 €", Decimal("0.39"), Decimal("23.456")),
    Item("Startgebühr", Decimal("1.00")),
    Item("Standzeit 60-95 min @ 0,10 €/min", Decimal("0.10"), Decimal(35)),
    Item("Rabatt Mitgliedschaft", Decimal("-1.00")),
)
QR_URL = "https://charge.example.com/r/2024/000123?s=ABCDEFGHJKLMNPQRS"
BARCODE = "CHG2024000123"


def logo() -> Image.Image:
    """The demo operator's logo: a name, a frame and a grey ramp (shows the dithering)."""
    img = Image.new("RGB", (384, 120), "white")
    draw = ImageDraw.Draw(img)
    for x in range(384):
        draw.line([x, 86, x, 110], fill=(int(255 * x / 383),) * 3)
    draw.rectangle([0, 0, 383, 119], outline="black", width=3)
    draw.text((20, 18), "VOLTPARK", fill="black", font=ImageFont.load_default(size=52))
    return img


def euro(amount: Decimal) -> str:
    return f"{fmt(amount)} €"


SAMPLE_BILL = Bill(ITEMS)


def document(bill: Bill = SAMPLE_BILL) -> d.Document:
    """The demo receipt for ``bill`` (default: the sample charging session)."""
    big, bold_tall = d.Style(bold=True, width=2, height=2), d.Style(bold=True, height=2)
    blocks: list = [
        d.ImageBlock(image=logo()),
        d.Text("VOLTPARK CHARGING", big, "center"),
        d.Text("Hauptstraße 12, 10115 Berlin\nLadepunkt DE*VPK*E0001*1", align="center"),
        d.Rule(),
        *(d.KeyValue(i.name, euro(i.total)) for i in bill.items),
        d.Rule(),
        d.KeyValue("SUMME", euro(bill.total), bold_tall),
        *(d.KeyValue(f"davon MwSt. {s.rate} %", euro(s.vat)) for s in bill.shares),
        d.Feed(),
        d.Barcode("code128", BARCODE, height=64, width=2),
        d.QR(QR_URL, size=6, ec="M"),
        d.Text("Danke für Ihren Besuch!", align="center"),
        d.Cut("partial", 0),
    ]
    return d.Document(tuple(blocks))
