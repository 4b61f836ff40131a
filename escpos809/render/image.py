"""Laid-out operations → PNG preview, drawn by the paper renderer the virtual printer uses.

The operations are turned straight into paper operations (:mod:`escpos809.paper`: same cells,
line heights and placement rules as the printer), without going through bytes: printing the
ESC/POS rendering to the virtual printer must give the same picture, which the tests check.
Only raw bytes (a ``raw`` block, :func:`preview_bytes`) need a printer model to say what they
print: the virtual printer's interpreter, named by :data:`BYTES_READER` and loaded on first use.
"""

from __future__ import annotations

from collections.abc import Iterable

from PIL import Image

from .. import layout as L
from ..errors import InvalidData, InvalidInput
from ..paper.codes import qr_modules
from ..paper.draw import render_pages
from ..paper.ops import Cell, Op
from ..plugins import resolve
from ..profile import Profile

DEFAULT_LINE_SPACING = 32  # ESC 2 on this family
#: bytes → (paper operations, dots advanced): what the printer prints for raw bytes
BYTES_READER = "escpos809.emulator.interpreter:read_bytes"
_ALIGN = {"left": 0, "center": 1, "right": 2}
#: paper one preview draws at most: 50,000 dots is about 6 m, some 1,500 lines of text (its
#: image, 576 grey pixels wide, is 29 MB); a longer job is refused, not drawn
MAX_PREVIEW_DOTS = 50_000


class PreviewTooLong(InvalidInput):
    """A job longer than a preview draws (:data:`MAX_PREVIEW_DOTS`)."""

    http_title = "Preview too long"


def _bounded(dots: int) -> None:
    if dots > MAX_PREVIEW_DOTS:
        raise PreviewTooLong(
            f"the job is more than {MAX_PREVIEW_DOTS:,} dots ({MAX_PREVIEW_DOTS * 25.4 / 203 / 1000:.1f} m) of paper "
            f"({dots:,} so far); a preview draws at most {MAX_PREVIEW_DOTS:,}: print it, or preview a part of it"
        )


def paper_ops(ops: Iterable[L.LayoutOp], profile: Profile) -> list[Op]:
    """The paper operations the printer makes of laid-out operations (cells, heights, places);
    raises :class:`PreviewTooLong` as soon as they pass :data:`MAX_PREVIEW_DOTS`."""
    fonts = profile.font_cells
    width = profile.width_dots
    out: list[Op] = []
    y = 0

    def add(kind: str, height: int = 0, **args) -> None:
        nonlocal y
        out.append(Op(kind, args, y, height))
        y += height
        _bounded(y)

    for op in ops:
        if isinstance(op, L.Line):
            cells = [
                Cell(ch, s.font, s.bold, s.underline, s.width, s.height, s.invert, L.char_width(ch) == 2)
                for s in op.spans
                for ch in s.text
            ]
            if not cells:
                add("feed", DEFAULT_LINE_SPACING, dots=DEFAULT_LINE_SPACING)
                continue
            height = max(max(c.dots(fonts)[1] for c in cells), DEFAULT_LINE_SPACING)
            add("text", height, cells=cells, align=_ALIGN[op.align], left=0, area=width)
        elif isinstance(op, L.Raster):
            add(
                "raster",
                op.rows,
                width_bytes=op.width_bytes,
                rows=op.rows,
                scale=[1, 1],
                align=_ALIGN[op.align],
                left=0,
                data=op.data,
            )
        elif isinstance(op, L.QrCode):
            modules = qr_modules(op.data.encode("utf-8"), op.ec)
            if modules is None:  # the ESC/POS rendering refuses it too
                raise InvalidData(
                    f"QR data ({len(op.data.encode())} bytes) does not fit a QR code at error level {op.ec}"
                )
            add(
                "qr",
                modules * op.size,
                data=op.data,
                size=op.size,
                ec=op.ec,
                model=2,
                modules=modules,
                align=_ALIGN[op.align],
                left=0,
            )
        elif isinstance(op, L.BarcodeOp):
            hri_h = fonts["A"][1] * ((op.hri in ("above", "both")) + (op.hri in ("below", "both")))
            add(
                "barcode",
                op.height + hri_h,
                type=op.kind,
                data=op.data,
                raw=op.data,
                bar_height=op.height,
                module=op.width,
                hri=op.hri,
                hri_font="A",
                align=_ALIGN[op.align],
                left=0,
            )
        elif isinstance(op, L.FeedOp):
            dots = op.dots if op.dots is not None else op.lines * DEFAULT_LINE_SPACING
            if dots:
                add("feed", dots, dots=dots)
        elif isinstance(op, L.CutOp):
            if op.feed:
                add("feed", op.feed, dots=op.feed)
            add("cut", mode=op.mode, feed=op.feed)
        elif isinstance(op, L.BeepOp):
            add("beep", times=op.times, duration_ms=op.duration * 50)
        elif isinstance(op, L.DrawerOp):
            add("drawer", pin=op.pin, on_ms=op.on_ms, off_ms=op.off_ms)
        elif isinstance(op, L.RawOp):
            # raw bytes are opaque to the layout: let the printer model say what they print
            raw_ops, advanced = resolve(BYTES_READER)(
                op.data, width, fonts, dict(profile.codepages), chinese=False, max_dots=MAX_PREVIEW_DOTS - y
            )
            for raw_op in raw_ops:
                raw_op.y += y
                out.append(raw_op)
            y += advanced
            _bounded(y)
    return out


def preview(ops: Iterable[L.LayoutOp], profile: Profile) -> list[Image.Image]:
    """One image per cut, exactly as the virtual printer would draw the ESC/POS rendering."""
    return render_pages(paper_ops(ops, profile), profile.width_dots, profile.font_cells)


def preview_bytes(data: bytes, profile: Profile) -> list[Image.Image]:
    """What the virtual printer prints for ESC/POS ``data`` (any bytes: raw jobs too), one image per cut."""
    ops, dots = resolve(BYTES_READER)(
        data, profile.width_dots, profile.font_cells, dict(profile.codepages), max_dots=MAX_PREVIEW_DOTS
    )
    _bounded(dots)
    return render_pages(ops, profile.width_dots, profile.font_cells)
