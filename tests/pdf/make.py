"""PDFs made by the tests themselves (reportlab draws them; no file is fetched): text pages,
a QR code drawn as vector shapes, encrypted, broken, absurdly long or with many pages."""

from __future__ import annotations

import io

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import pdfencrypt
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

RECEIPT = (80 * mm, 200 * mm)  # a receipt-shaped page: 80 mm wide


def _canvas(size=A4, **kw) -> tuple[io.BytesIO, canvas.Canvas]:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=size, invariant=True, **kw)  # invariant: the same bytes every run
    return buf, c


def text_pages(*texts: str, size=A4, font_size: float = 18) -> bytes:
    """One page per text, each line of it from the top left margin down."""
    buf, c = _canvas(size)
    for text in texts:
        c.setFont("Helvetica", font_size)
        y = size[1] - 30 * mm
        for line in text.split("\n"):
            c.drawString(20 * mm, y, line)
            y -= font_size * 1.4
        c.showPage()
    c.save()
    return buf.getvalue()


def with_qr(title: str, data: str, size=A4) -> bytes:
    """A title and a QR code of ``data`` (vector squares, as an invoice would carry it)."""
    buf, c = _canvas(size)
    c.setFont("Helvetica-Bold", 22)
    c.drawString(20 * mm, size[1] - 30 * mm, title)
    qr = QrCodeWidget(data)
    d = Drawing(60 * mm, 60 * mm)
    d.add(qr)
    x0, y0, x1, y1 = qr.getBounds()
    d.scale(60 * mm / (x1 - x0), 60 * mm / (y1 - y0))
    renderPDF.draw(d, c, 20 * mm, size[1] - 100 * mm)
    c.showPage()
    c.save()
    return buf.getvalue()


def encrypted(text: str = "secret") -> bytes:
    """A page that needs the user password "user" to open."""
    buf, c = _canvas(encrypt=pdfencrypt.StandardEncryption("user", "owner", strength=128))
    c.drawString(72, 700, text)
    c.showPage()
    c.save()
    return buf.getvalue()


def blank_pages(count: int, size=A4) -> bytes:
    buf, c = _canvas(size)
    for _ in range(count):
        c.showPage()
    c.save()
    return buf.getvalue()


def long_page(length_mm: float, width_mm: float = 80, ink_every_mm: float = 100) -> bytes:
    """One page ``length_mm`` long with a mark every ``ink_every_mm`` (so trimming keeps it all)."""
    size = (width_mm * mm, length_mm * mm)
    buf, c = _canvas(size)
    y = 0.0
    while y <= length_mm - 5:
        c.rect(5 * mm, y * mm, (width_mm - 10) * mm, 2 * mm, fill=1)
        y += ink_every_mm
    c.rect(5 * mm, (length_mm - 3) * mm, (width_mm - 10) * mm, 2 * mm, fill=1)
    c.showPage()
    c.save()
    return buf.getvalue()


def busy(squares: int) -> bytes:
    """One page of ``squares`` tiny filled squares: small to send, slow to draw."""
    buf, c = _canvas()
    for i in range(squares):
        c.rect(50 + i % 400, 50 + (i // 400) % 700, 0.5, 0.5, stroke=0, fill=1)
    c.showPage()
    c.save()
    return buf.getvalue()


def broken(pdf: bytes) -> bytes:
    """The first third of a PDF: the header is right, the rest (xref, trailer) is gone."""
    return pdf[: len(pdf) // 3]


def form_bomb(depth: int, fan: int = 10) -> bytes:
    """One page drawing a form XObject that draws the next ``fan`` times, ``depth`` levels down:
    a page of one drawing object that PDFium takes ``fan ** depth`` squares to load (written by
    hand: reportlab reuses a form, it does not nest them like this)."""
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 226 400] /Resources << /XObject << /X %d 0 R >> >> "
        b"/Contents 4 0 R >>" % (5 + depth),
        _stream(b"", b"q /X Do Q"),
        _stream(b"/Type /XObject /Subtype /Form /BBox [0 0 226 400]", b"0 0 0 rg 10 10 0.5 0.5 re f"),
    ]
    for k in range(1, depth + 1):
        draws = b" ".join(b"q 1 0 0 1 %d %d cm /X Do Q" % (j % 3, j % 5) for j in range(fan))
        res = b"/Type /XObject /Subtype /Form /BBox [0 0 226 400] /Resources << /XObject << /X %d 0 R >> >>" % (4 + k)
        objs.append(_stream(res, draws))
    return _raw(objs)


def fill_bomb(fills: int) -> bytes:
    """One 80 mm x 2 m page painted over ``fills`` times (greys in turn): few objects (within the
    limit) and little memory, but every fill covers the whole page: seconds of drawing."""
    content = b" ".join(b"%.1f g 0 0 226 5669 re f" % ((i % 7) / 10) for i in range(fills))
    return _raw(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 226 5669] /Contents 4 0 R >>",
            _stream(b"", content),
        ]
    )


def page_tree(depth: int = 0, loop: bool = False) -> bytes:
    """A page reached through ``depth`` nested page-tree nodes, or (``loop``) a tree whose node
    lists itself as its own kid: PDFium counts the pages but cannot get to them."""
    page = b"<< /Type /Page /MediaBox [0 0 226 400] >>"
    if loop:
        return _raw([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>", page])
    nodes = [b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % (k + 3) for k in range(depth)]
    return _raw([b"<< /Type /Catalog /Pages 2 0 R >>", *nodes, page])


def _raw(objs: list[bytes]) -> bytes:
    """A PDF of these objects (numbered from 1, the first the catalog) with its xref table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (i, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def _stream(entries: bytes, data: bytes) -> bytes:
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (entries, len(data), data)
