"""Operations → paper: one PIL image per cut, 576 dots wide at 203 dpi.

Text uses a real monospace font drawn into the printer's cells (12x24 font A, 9x17 font B) and
scaled by dot doubling like the printer; QR codes are drawn from the ``qrcode`` package's matrix
and barcodes from ``python-barcode``'s module patterns, so a decoder can read them back.

Drawing never loses a page: an operation that cannot be drawn is skipped and reported (which
one, why) through the ``warnings`` list the caller passes in; the rest of the page is drawn.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .handlers import make_qr
from .ops import Cell, Op

log = logging.getLogger(__name__)

_INVERT = bytes(255 - i for i in range(256))
_FONT_FILES = ("DejaVuSansMono.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
               "LiberationMono-Regular.ttf", "FreeMono.ttf")
_CJK_FILES = ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
              "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
CUT_MARGIN = 24
DRAWN = ("text", "raster", "qr", "barcode", "column_image")  # the kinds that put dots on paper


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
    if not char.isprintable() or char == " ":
        return img  # control, format and separator characters print blank (text layout refuses some)
    d = ImageDraw.Draw(img)
    px = round(h * 0.83) if not double_byte else round(h * 0.9)  # 20 px in a 24-dot cell
    font = _font(px, double_byte)
    try:
        d.text((w / 2, h * 0.45), char, font=font, fill=0, anchor="mm", stroke_width=1 if bold else 0, stroke_fill=0)
    except (ValueError, RuntimeError, OSError) as exc:  # a character the font engine cannot lay out
        log.info("cannot draw %r: %s", char, exc)
        return Image.new("L", (w, h), 255)
    return img


@lru_cache(maxsize=4096)
def _cell_array(cell: Cell, fonts_key: tuple) -> np.ndarray:
    """The cell as dots (uint8 rows, 0 = black): glyph, dot doubling, underline, reverse."""
    fonts = dict(fonts_key)
    bw, bh = fonts[cell.font]
    if cell.double_byte:
        bw = bh
    img = _glyph(cell.char, bw, bh, cell.bold, cell.double_byte)
    if cell.width > 1 or cell.height > 1:
        img = img.resize((bw * cell.width, bh * cell.height), Image.Resampling.NEAREST)  # dot doubling
    a = np.array(img, dtype=np.uint8)
    if cell.underline and not cell.inverse:
        a[max(0, a.shape[0] - cell.underline):, :] = 0
    if cell.inverse:
        a = 255 - a
    a.setflags(write=False)
    return a


def _x(align: int, left: int, area: int, width: int, paper: int) -> int:
    area = min(area, paper - left)
    return left + {0: 0, 1: max(0, (area - width) // 2), 2: max(0, area - width)}.get(align, 0)


def _draw_cells(page: Image.Image, cells: list[Cell], align: int, left: int, area: int, top: int,
                fonts: dict[str, tuple[int, int]], paper: int) -> None:
    if not cells:
        return  # an empty line (HRI of an empty barcode): nothing to draw
    key = tuple(sorted(fonts.items()))
    arrays = [_cell_array(c, key) for c in cells]
    heights = {a.shape[0] for a in arrays}
    line_h = max(heights)
    if len(heights) == 1:
        line = np.hstack(arrays)
    else:  # characters sit on a common baseline
        line = np.full((line_h, sum(a.shape[1] for a in arrays)), 255, dtype=np.uint8)
        x = 0
        for a in arrays:
            line[line_h - a.shape[0]:, x:x + a.shape[1]] = a
            x += a.shape[1]
    x = _x(align, left, area, line.shape[1], paper)
    page.paste(Image.fromarray(np.ascontiguousarray(line), "L"), (x, top))


def _draw_text(page: Image.Image, op: Op, top: int, fonts, paper: int) -> None:
    a = op.args
    _draw_cells(page, a["cells"], a["align"], a["left"], a["area"], top, fonts, paper)


def _draw_raster(page: Image.Image, op: Op, top: int, paper: int) -> None:
    x_bytes, rows = op.args["width_bytes"], op.args["rows"]
    img = Image.frombytes("1", (x_bytes * 8, rows), op.args["data"].translate(_INVERT))
    sx, sy = op.args["scale"]
    if (sx, sy) != (1, 1):
        img = img.resize((img.width * sx, img.height * sy), Image.Resampling.NEAREST)
    x = _x(op.args["align"], op.args["left"], paper, img.width, paper)
    page.paste(img.convert("L"), (x, top))


def _draw_column_image(page: Image.Image, op: Op, top: int, paper: int) -> None:
    """``ESC *``: columns of 1 (8-dot) or 3 (24-dot) bytes, MSB on top; single density (m = 0,
    32) doubles each column's width."""
    a = op.args
    per_col = 3 if a["mode"] in (32, 33) else 1
    cols = len(a["data"]) // per_col
    if not cols:
        return
    bits = np.unpackbits(np.frombuffer(a["data"][:cols * per_col], dtype=np.uint8).reshape(cols, per_col), axis=1)
    dots = np.where(bits.T == 1, 0, 255).astype(np.uint8)  # rows x columns
    if a["mode"] in (0, 32):
        dots = np.repeat(dots, 2, axis=1)
    x = _x(a.get("align", 0), a.get("left", 0), paper, dots.shape[1], paper)
    page.paste(Image.fromarray(np.ascontiguousarray(dots), "L"), (x, top))


def _draw_qr(page: Image.Image, op: Op, top: int, paper: int) -> None:
    raw = op.args.get("raw")
    qr = make_qr(raw if isinstance(raw, (bytes, bytearray)) else op.args["data"].encode("utf-8"), op.args["ec"])
    if qr is None:
        raise ValueError("the data does not fit a QR code")
    matrix = qr.get_matrix()
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

    if not data:
        return None  # no symbol without data: drawn as an empty box
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
    # the printer prints a blank for a character it has no HRI glyph for (control characters)
    label = [Cell(ch if ch.isprintable() else " ", font=hri_font) for ch in a["data"]]
    if pattern is None:  # symbology we cannot draw: a box with the data, never silence
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
    if a["hri"] in ("above", "both"):
        _draw_cells(page, label, a["align"], a["left"], paper, y, fonts, paper)
        y += hri_h
    page.paste(bars, (x, y))
    y += bar_h
    if a["hri"] in ("below", "both"):
        _draw_cells(page, label, a["align"], a["left"], paper, y, fonts, paper)


def has_paper(ops: list[Op]) -> bool:
    """Whether these operations move paper or cut it (else they make no page)."""
    return any(op.height or op.kind == "cut" for op in ops)


def draw_page(ops: list[Op], width: int = 576, fonts: dict[str, tuple[int, int]] | None = None,
              cut_line: bool = True, warnings: list[dict[str, Any]] | None = None,
              first_index: int = 0, indices: list[int] | None = None) -> Image.Image:
    """Draw one page: ``ops`` from its first operation to its cut (if the last one is a cut).

    An operation that cannot be drawn is skipped; ``warnings`` (when given) gets
    ``{"op": index, "kind", "y", "error"}`` for it, ``index`` counted from ``first_index`` (or
    taken from ``indices``, one per operation).
    """
    fonts = fonts or {"A": (12, 24), "B": (9, 17)}
    start = ops[0].y
    end = max(op.y + op.height for op in ops)
    cut = ops[-1].kind == "cut"
    img = Image.new("L", (width, max(1, end - start) + (CUT_MARGIN if cut else 0)), 255)
    for n, op in enumerate(ops):
        if op.kind not in DRAWN:
            continue
        top = op.y - start
        try:
            if op.kind == "text":
                _draw_text(img, op, top, fonts, width)
            elif op.kind == "raster":
                _draw_raster(img, op, top, width)
            elif op.kind == "qr":
                _draw_qr(img, op, top, width)
            elif op.kind == "column_image":
                _draw_column_image(img, op, top, width)
            else:
                _draw_barcode(img, op, top, fonts, width)
        except Exception as exc:  # noqa: BLE001 - one bad operation must not lose the page
            log.warning("cannot draw %s at y=%d: %s: %s", op.kind, op.y, type(exc).__name__, exc)
            if warnings is not None:
                warnings.append({"op": indices[n] if indices else first_index + n, "kind": op.kind, "y": op.y,
                                 "error": f"{type(exc).__name__}: {exc}"})
    if cut and cut_line:
        d = ImageDraw.Draw(img)
        y = img.height - CUT_MARGIN // 2
        dash = 12 if ops[-1].args.get("mode") == "full" else 4
        for x in range(0, width, dash * 2):
            d.line([x, y, x + dash, y], fill=128)
    return img


def split_pages(ops: list[Op]) -> list[tuple[int, list[Op]]]:
    """Each page as (index of its first operation, its operations): a page ends at every cut;
    pages without paper (signals after the last cut) are left out."""
    pages: list[tuple[int, list[Op]]] = [(0, [])]
    for n, op in enumerate(ops):
        pages[-1][1].append(op)
        if op.kind == "cut":
            pages.append((n + 1, []))
    return [(i, p) for i, p in pages if p and has_paper(p)]


def render_pages(ops: list[Op], width: int = 576, fonts: dict[str, tuple[int, int]] | None = None,
                 cut_line: bool = True, warnings: list[dict[str, Any]] | None = None) -> list[Image.Image]:
    """Draw the operations; a new image starts after every cut. Mode 'L' images. Operations
    that cannot be drawn are skipped and listed in ``warnings``."""
    return [draw_page(page_ops, width, fonts, cut_line, warnings, first) for first, page_ops in split_pages(ops)]
