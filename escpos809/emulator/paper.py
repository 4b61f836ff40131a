"""Operations → paper: one PIL image per cut, 576 dots wide at 203 dpi.

Text uses a real monospace font drawn into the printer's cells (12x24 font A, 9x17 font B) and
scaled by dot doubling like the printer; QR codes are drawn from the ``qrcode`` package's matrix
and barcodes from ``python-barcode``'s module patterns, so a decoder can read them back.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from .interpreter import make_qr
from .ops import Cell, Op

log = logging.getLogger(__name__)

_INVERT = bytes(255 - i for i in range(256))
_FONT_FILES = ("DejaVuSansMono.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
               "LiberationMono-Regular.ttf", "FreeMono.ttf")
_CJK_FILES = ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
              "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
CUT_MARGIN = 24


@lru_cache(maxsize=8)
def _font(px: int, cjk: bool = False) -> ImageFont.ImageFont:
    for name in (_CJK_FILES if cjk else ()) + _FONT_FILES:
        try:
            return ImageFont.truetype(name, px)
        except OSError:
            continue
    return ImageFont.load_default(px)


@lru_cache(maxsize=4096)
def _glyph(char: str, w: int, h: int, bold: bool, double_byte: bool) -> Image.Image:
    """One character in a w x h cell (mode 'L', black on white)."""
    img = Image.new("L", (w, h), 255)
    d = ImageDraw.Draw(img)
    px = round(h * 0.83) if not double_byte else round(h * 0.9)  # 20 px in a 24-dot cell
    font = _font(px, double_byte)
    d.text((w / 2, h * 0.45), char, font=font, fill=0, anchor="mm", stroke_width=1 if bold else 0, stroke_fill=0)
    return img


def _cell_image(cell: Cell, fonts: dict[str, tuple[int, int]]) -> Image.Image:
    bw, bh = fonts[cell.font]
    if cell.double_byte:
        bw = bh
    img = _glyph(cell.char, bw, bh, cell.bold, cell.double_byte)
    if cell.width > 1 or cell.height > 1:
        img = img.resize((bw * cell.width, bh * cell.height), Image.Resampling.NEAREST)  # dot doubling
    if cell.underline and not cell.inverse:
        img = img.copy()
        ImageDraw.Draw(img).rectangle([0, img.height - cell.underline, img.width, img.height - 1], fill=0)
    if cell.inverse:
        img = img.point(lambda v: 255 - v)
    return img


def _x(align: int, left: int, area: int, width: int, paper: int) -> int:
    area = min(area, paper - left)
    return left + {0: 0, 1: max(0, (area - width) // 2), 2: max(0, area - width)}.get(align, 0)


def _draw_text(page: Image.Image, op: Op, top: int, fonts, paper: int) -> None:
    cells = [_cell_image(c, fonts) for c in op.args["cells"]]
    width = sum(c.width for c in cells)
    line_h = max(c.height for c in cells)
    x = _x(op.args["align"], op.args["left"], op.args["area"], width, paper)
    for img in cells:
        page.paste(img, (x, top + line_h - img.height))  # characters sit on a common baseline
        x += img.width


def _draw_raster(page: Image.Image, op: Op, top: int, paper: int) -> None:
    x_bytes, rows = op.args["width_bytes"], op.args["rows"]
    img = Image.frombytes("1", (x_bytes * 8, rows), op.args["data"].translate(_INVERT))
    sx, sy = op.args["scale"]
    if (sx, sy) != (1, 1):
        img = img.resize((img.width * sx, img.height * sy), Image.Resampling.NEAREST)
    x = _x(op.args["align"], op.args["left"], paper, img.width, paper)
    page.paste(img.convert("L"), (x, top))


def _draw_qr(page: Image.Image, op: Op, top: int, paper: int) -> None:
    matrix = make_qr(op.args["data"].encode("utf-8"), op.args["ec"]).get_matrix()
    n = len(matrix)
    img = Image.new("L", (n, n), 255)
    img.putdata([0 if v else 255 for row in matrix for v in row])
    size = op.args["size"]
    img = img.resize((n * size, n * size), Image.Resampling.NEAREST)
    page.paste(img, (_x(op.args["align"], op.args["left"], paper, img.width, paper), top))


_PYBARCODE = {"code128": "code128", "ean13": "ean13", "ean8": "ean8", "upca": "upca", "code39": "code39",
              "itf": "itf", "codabar": "codabar"}
_BODY_DIGITS = {"ean13": 12, "ean8": 7, "upca": 11}


def barcode_modules(kind: str, data: str) -> str | None:
    """The bar pattern ('1' = black module) for a symbology, or None when it cannot be drawn."""
    import barcode
    from barcode.errors import BarcodeError

    if kind == "code93":
        from .code93 import modules
        try:
            return modules(data)
        except ValueError:
            return None
    name = _PYBARCODE.get(kind)
    if name is None:  # UPC-E: drawn as a labelled box (see the job log for the data)
        return None
    text = data[:_BODY_DIGITS[kind]] if kind in _BODY_DIGITS else data
    cls = barcode.get_barcode_class(name)
    try:
        if kind == "code39":  # ESC/POS CODE39 carries no check character
            return "".join(cls(text.strip("*"), add_checksum=False).build())
        return "".join(cls(text).build())
    except (BarcodeError, ValueError, KeyError, IndexError, TypeError) as exc:
        log.info("cannot draw %s %r: %s", kind, data, exc)
        return None


def _draw_barcode(page: Image.Image, op: Op, top: int, fonts, paper: int) -> None:
    a = op.args
    pattern = barcode_modules(a["type"], a["data"])
    module, bar_h = a["module"], a["bar_height"]
    hri_font = a["hri_font"]
    hri_h = fonts[hri_font][1]
    label = [Cell(ch, font=hri_font) for ch in a["data"]]
    if pattern is None:  # symbology we cannot draw: a hatched box with the data, never silence
        width = min(paper, max(len(a["data"]) * 11 * module, 40))
        bars = Image.new("L", (width, bar_h), 255)
        ImageDraw.Draw(bars).rectangle([0, 0, width - 1, bar_h - 1], outline=0)
    else:
        quiet = "0" * 10
        pattern = quiet + pattern + quiet
        bars = Image.new("L", (len(pattern), 1), 255)
        bars.putdata([0 if m == "1" else 255 for m in pattern])
        bars = bars.resize((len(pattern) * module, bar_h), Image.Resampling.NEAREST)
    x = _x(a["align"], a["left"], paper, bars.width, paper)
    y = top
    hri_op = Op("text", {"cells": label, "align": a["align"], "left": a["left"], "area": paper})
    if a["hri"] in ("above", "both"):
        _draw_text(page, hri_op, y, fonts, paper)
        y += hri_h
    page.paste(bars, (x, y))
    y += bar_h
    if a["hri"] in ("below", "both"):
        _draw_text(page, hri_op, y, fonts, paper)


def render_pages(ops: list[Op], width: int = 576, fonts: dict[str, tuple[int, int]] | None = None,
                 cut_line: bool = True) -> list[Image.Image]:
    """Draw the operations; a new image starts after every cut. Mode 'L' images."""
    fonts = fonts or {"A": (12, 24), "B": (9, 17)}
    pages: list[list[Op]] = [[]]
    for op in ops:
        pages[-1].append(op)
        if op.kind == "cut":
            pages.append([])
    if not pages[-1] and len(pages) > 1:
        pages.pop()
    out = []
    for page_ops in pages:
        if not any(op.height or op.kind == "cut" for op in page_ops):
            continue  # only signals after the last cut (status, beep): no paper
        start = page_ops[0].y
        end = max(op.y + op.height for op in page_ops)
        cut = page_ops[-1].kind == "cut"
        img = Image.new("L", (width, max(1, end - start) + (CUT_MARGIN if cut else 0)), 255)
        for op in page_ops:
            top = op.y - start
            if op.kind == "text":
                _draw_text(img, op, top, fonts, width)
            elif op.kind == "raster":
                _draw_raster(img, op, top, width)
            elif op.kind == "qr":
                _draw_qr(img, op, top, width)
            elif op.kind == "barcode":
                _draw_barcode(img, op, top, fonts, width)
        if cut and cut_line:
            d = ImageDraw.Draw(img)
            y = img.height - CUT_MARGIN // 2
            dash = 12 if page_ops[-1].args.get("mode") == "full" else 4
            for x in range(0, width, dash * 2):
                d.line([x, y, x + dash, y], fill=128)
        out.append(img)
    return out
