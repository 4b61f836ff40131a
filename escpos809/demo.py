"""The sample receipt `escpos809 demo` prints: a charging receipt with logo, table, barcode, QR."""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

from .escpos import codes, commands as c
from .escpos.codepages import TextEncoder
from .profile import Profile
from .raster import image_to_escpos

ITEMS = [("Ladevorgang AC 22 kW", "0.00"), ("Energie 23,456 kWh @ 0,39", "9.15"), ("Startgebühr", "1.00"),
         ("Standzeit 60-95 min @ 0,10/min", "3.50"), ("Rabatt Mitgliedschaft", "-1.00")]
QR_URL = "https://charge.example.com/r/2024/000123?s=ABCDEFGHJKLMNPQRS"


def logo() -> Image.Image:
    img = Image.new("RGB", (384, 120), "white")
    d = ImageDraw.Draw(img)
    for x in range(384):
        d.line([x, 86, x, 110], fill=(int(255 * x / 383),) * 3)
    d.rectangle([0, 0, 383, 119], outline="black", width=3)
    d.text((20, 18), "VOLTPARK", fill="black", font=ImageFont.load_default(size=52))
    return img


def receipt(profile: Profile) -> bytes:
    enc, cols = TextEncoder(profile), profile.columns("A")
    page: int | None = None
    out = bytearray()

    def text(s: str) -> None:
        nonlocal page
        e = enc.encode(s, page)
        page = e.codepage
        out.extend(e.data)

    def two_col(left: str, right: str) -> str:
        return left[:cols - len(right) - 1].ljust(cols - len(right)) + right + "\n"

    out += c.initialize() + c.align("center")
    out += image_to_escpos(logo(), profile.width_dots, profile.band_rows)
    out += c.bold() + c.char_size(2, 2)
    text("VOLTPARK CHARGING\n")
    out += c.char_size() + c.bold(False)
    text("Hauptstraße 12, 10115 Berlin\nLadepunkt DE*VPK*E0001*1\n")
    out += c.align("left")
    text("-" * cols + "\n")
    for name, price in ITEMS:
        text(two_col(name, price + " €"))
    text("-" * cols + "\n" + two_col("davon MwSt. 19%", "2.01 €"))
    out += c.bold() + c.char_size(1, 2)
    text(two_col("SUMME", "12.65 €"))
    out += c.char_size() + c.bold(False) + c.align("center")
    out += codes.barcode("code128", "CHG2024000123", height=64, width=2) + b"\n"
    out += codes.qr_code(QR_URL, size=6, ec="M", form=profile.qr_form) + b"\n"
    text("Danke für Ihren Besuch!\n")
    out += c.align("left") + c.cut("partial", feed=0)
    return bytes(out)
