"""Operations → paper: one PIL image per cut, 576 dots wide at 203 dpi.

Text uses a real monospace font drawn into the printer's cells (12x24 font A, 9x17 font B) and
scaled by dot doubling like the printer; QR codes are drawn from the ``qrcode`` package's matrix
and barcodes and other symbols from zint (:mod:`.codes`), so a decoder can read them back.

Drawing never loses a page: an operation that cannot be drawn is skipped and reported (which
one, why) through the ``warnings`` list the caller passes in; the rest of the page is drawn.
Nor is anything lost silently: a character that no font has is drawn as a replacement mark
(:mod:`.glyphs`), logged, and reported the same way.
"""

from __future__ import annotations

import logging
import struct
import zlib
from typing import Any

import numpy as np
from PIL import Image

from . import glyphs
from .codes import barcode_row, make_qr, matrix
from .glyphs import describe, glyph, missing_glyphs
from .ops import Cell, Op

log = logging.getLogger(__name__)

CUT_MARGIN = 24
DRAWN = ("text", "raster", "qr", "barcode", "column_image", "symbol")  # the kinds that put dots on paper


_ARRAYS: dict[tuple, dict[Cell, np.ndarray]] = {}


def _cell_array(cell: Cell, fonts_key: tuple) -> np.ndarray:
    """The cell as dots (uint8 rows, 0 = black): glyph, dot doubling, underline, reverse."""
    cache = _ARRAYS.setdefault(fonts_key, {})
    a = cache.get(cell)
    if a is not None:
        return a
    if len(cache) >= 4096:
        cache.clear()
    fonts = dict(fonts_key)
    bw, bh = fonts[cell.font]
    if cell.advance:
        a = np.full((bh * cell.height, cell.advance), 255, dtype=np.uint8)
        a.setflags(write=False)
        cache[cell] = a
        return a
    if cell.double_byte:
        bw = bh
    img = glyph(cell.char, bw, bh, cell.bold, cell.double_byte)
    if cell.width > 1 or cell.height > 1:
        img = img.resize((bw * cell.width, bh * cell.height), Image.Resampling.NEAREST)  # dot doubling
    a = np.array(img, dtype=np.uint8)
    if cell.underline and not cell.inverse:
        a[max(0, a.shape[0] - cell.underline) :, :] = 0
    if cell.inverse:
        a = 255 - a
    a.setflags(write=False)
    cache[cell] = a
    return a


def _x(align: int, left: int, area: int, width: int, paper: int) -> int:
    area = min(area, paper - left)
    return left + {0: 0, 1: max(0, (area - width) // 2), 2: max(0, area - width)}.get(align, 0)


def _blit(page: np.ndarray, a: np.ndarray, x: int, y: int, over: bool = False) -> None:
    """Put ``a`` on the page at (x, y), clipped to the page (what PIL's paste does); ``over``:
    keep the dots already there (a head heats a dot once: overprinting adds, never erases)."""
    h, w = a.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, page.shape[1]), min(y + h, page.shape[0])
    if x0 < x1 and y0 < y1:
        part = a[y0 - y : y1 - y, x0 - x : x1 - x]
        if over:
            np.minimum(page[y0:y1, x0:x1], part, out=page[y0:y1, x0:x1])
        else:
            page[y0:y1, x0:x1] = part


def _draw_cells(
    page: np.ndarray,
    cells: list[Cell],
    align: int,
    left: int,
    area: int,
    top: int,
    fonts: dict[str, tuple[int, int]],
    paper: int,
    over: bool = False,
) -> None:
    if not cells:
        return  # an empty line (HRI of an empty barcode): nothing to draw
    key = tuple(sorted(fonts.items()))
    cache = _ARRAYS.get(key, {})
    try:
        arrays = [cache[c] for c in cells]
    except KeyError:
        arrays = [cache[c] if c in cache else _cell_array(c, key) for c in cells]
    line_h, w = arrays[0].shape
    width = w * len(arrays)
    x = _x(align, left, area, width, paper)
    if not over and x >= 0 and x + width <= page.shape[1] and 0 <= top and top + line_h <= page.shape[0]:
        try:  # the usual case: cells of one size, inside the page: straight into it
            np.concatenate(arrays, axis=1, out=page[top : top + line_h, x : x + width])
            return
        except ValueError:
            pass
    # characters of different sizes sit on a common baseline; or the line is clipped
    line_h, width = max([a.shape[0] for a in arrays]), sum([a.shape[1] for a in arrays])
    x = _x(align, left, area, width, paper)
    line = np.full((line_h, width), 255, dtype=np.uint8)
    x0 = 0
    for a in arrays:
        line[line_h - a.shape[0] :, x0 : x0 + a.shape[1]] = a
        x0 += a.shape[1]
    _blit(page, line, x, top, over)


def _draw_text(page: np.ndarray, op: Op, top: int, fonts, paper: int) -> None:
    a = op.args
    _draw_cells(page, a["cells"], a["align"], a["left"], a["area"], top, fonts, paper, a.get("overprint", False))


def _dots(bits: np.ndarray, sx: int = 1, sy: int = 1) -> np.ndarray:
    """1 = black bits → page values, each dot repeated sx times across and sy times down."""
    a = np.where(bits != 0, 0, 255).astype(np.uint8)
    if sx > 1:
        a = np.repeat(a, sx, axis=1)
    if sy > 1:
        a = np.repeat(a, sy, axis=0)
    return a


def _draw_raster(page: np.ndarray, op: Op, top: int, paper: int) -> None:
    a = op.args
    x_bytes, rows = a["width_bytes"], a["rows"]
    data = np.frombuffer(bytes(a["data"][: x_bytes * rows]).ljust(x_bytes * rows, b"\0"), dtype=np.uint8)
    sx, sy = a["scale"]
    img = _dots(np.unpackbits(data.reshape(rows, x_bytes), axis=1), sx, sy)  # MSB = leftmost dot
    _blit(page, img, _x(a["align"], a["left"], paper, img.shape[1], paper), top)


def _draw_column_image(page: np.ndarray, op: Op, top: int, paper: int) -> None:
    """Column-format image (``ESC *``, ``ESC K``, ``GS /``): columns of ``per_col`` bytes, MSB on
    top, each column ``sx`` dots wide and each bit ``sy`` dots tall (the firmware draws ``ESC *``
    single density twice as wide and its 8-dot modes three times as tall: print801
    ``Command_1B2A``). ``x``: where the image starts in its line of ``line_width`` dots."""
    a = op.args
    per_col, sx, sy = a["per_col"], a["sx"], a["sy"]
    cols = len(a["data"]) // per_col
    if not cols:
        return
    bits = np.unpackbits(np.frombuffer(a["data"][: cols * per_col], dtype=np.uint8).reshape(cols, per_col), axis=1)
    img = _dots(bits.T, sx, sy)
    x = _x(a["align"], a["left"], a["area"], a["line_width"], paper) + a["x"]
    _blit(page, img, x, top + a["drop"])


def _draw_symbol(page: np.ndarray, op: Op, top: int, paper: int) -> None:
    """A 2D symbol drawn from zint's matrix (PDF417, Data Matrix, micro QR): ``module_w`` x
    ``module_h`` dots a module."""
    a = op.args
    raw = a["raw"]
    data = bytes(raw) if isinstance(raw, (bytes, bytearray)) else raw.encode("utf-8")
    mods = matrix(a["symbology"], data, **a["options"])
    img = _dots(mods, a["module_w"], a["module_h"])
    if img.shape[1] > paper - a["left"]:
        raise ValueError(f"{img.shape[1]} dots wide: more than the print area (the printer prints an error line)")
    _blit(page, img, _x(a["align"], a["left"], paper, img.shape[1], paper), top)


def _draw_qr(page: np.ndarray, op: Op, top: int, paper: int) -> None:
    raw = op.args.get("raw")
    # bytes(): the qrcode package would take a bytearray for text and encode its repr
    qr = make_qr(bytes(raw) if isinstance(raw, (bytes, bytearray)) else op.args["data"].encode("utf-8"), op.args["ec"])
    if qr is None:
        raise ValueError("the data does not fit a QR code")
    size = op.args["size"]
    img = _dots(np.array(qr.get_matrix(), dtype=bool), size, size)
    _blit(page, img, _x(op.args["align"], op.args["left"], paper, img.shape[1], paper), top)


def _draw_barcode(page: np.ndarray, op: Op, top: int, fonts, paper: int) -> None:
    a = op.args
    row = barcode_row(a["type"], a["data"], a["module"])
    bar_h = a["bar_height"]
    hri_font = a["hri_font"]
    hri_h = fonts[hri_font][1]
    # the printer prints a blank for a character it has no HRI glyph for (control characters)
    label = [Cell(ch if ch.isprintable() else " ", font=hri_font) for ch in a["data"]]
    if row is None:  # data the symbology cannot carry: a box with the data, never silence
        width = min(paper, max(len(a["data"]) * 11 * a["module"], 40))
        bars = np.full((bar_h, width), 255, dtype=np.uint8)
        bars[[0, -1], :] = 0
        bars[:, [0, -1]] = 0
    else:
        if len(row) > paper - a["left"]:
            # print801 Command_1D6B: a barcode wider than the print area only feeds its height
            raise ValueError(f"{len(row)} dots wide: more than the print area (the printer feeds blank paper)")
        bars = _dots(np.tile(row, (bar_h, 1)))
    x = _x(a["align"], a["left"], paper, bars.shape[1], paper)
    y = top
    if a["hri"] in ("above", "both"):
        _draw_cells(page, label, a["align"], a["left"], paper, y, fonts, paper)
        y += hri_h
    _blit(page, bars, x, y)
    y += bar_h
    if a["hri"] in ("below", "both"):
        _draw_cells(page, label, a["align"], a["left"], paper, y, fonts, paper)


def _missing_in(op: Op) -> list[str]:
    """The characters of a text or barcode operation that were drawn as replacement marks."""
    if op.kind == "text":
        return missing_glyphs(c.char for c in op.args["cells"])
    # a barcode's label: what _draw_barcode draws of its data (a control character is a blank)
    return missing_glyphs(ch for ch in op.args["data"] if ch.isprintable()) if op.kind == "barcode" else []


def has_paper(ops: list[Op]) -> bool:
    """Whether these operations move paper or cut it (else they make no page)."""
    return any(op.height or op.kind == "cut" for op in ops)


def paint(
    ops: list[Op],
    width: int = 576,
    fonts: dict[str, tuple[int, int]] | None = None,
    cut_line: bool = True,
    warnings: list[dict[str, Any]] | None = None,
    first_index: int = 0,
    indices: list[int] | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Draw one page as dots (rows x ``width``, uint8, 0 = black, 255 = white): ``ops`` from its
    first operation to its cut (if the last one is a cut).

    An operation that cannot be drawn is skipped; ``warnings`` (when given) gets
    ``{"op": index, "kind", "y", "error"}`` for it, ``index`` counted from ``first_index`` (or
    taken from ``indices``, one per operation). An operation with characters no font has is
    drawn with replacement marks and gets ``{"op", "kind", "y", "error", "missing_glyphs":
    ["U+E000", ...]}``; they are logged as a warning too, once per page. ``out``: a buffer to draw into when it is big
    enough (a page is drawn in a view of it), so a long stream does not allocate page after page.
    """
    fonts = fonts or {"A": (12, 24), "B": (9, 17)}
    start = ops[0].y
    end = max(op.y + op.height for op in ops)
    cut = ops[-1].kind == "cut"
    rows = max(1, end - start) + (CUT_MARGIN if cut else 0)
    if out is not None and out.shape[0] >= rows and out.shape[1] == width:
        page = out[:rows]
        page.fill(255)  # one call: numpy lets go of the GIL in it, and getting it back can take ms
    else:
        page = np.full((rows, width), 255, dtype=np.uint8)
    lost_on_page: set[str] = set()
    for n, op in enumerate(ops):
        if op.kind not in DRAWN:
            continue
        top = op.y - start
        try:
            if op.kind == "text":
                _draw_text(page, op, top, fonts, width)
            elif op.kind == "raster":
                _draw_raster(page, op, top, width)
            elif op.kind == "qr":
                _draw_qr(page, op, top, width)
            elif op.kind == "column_image":
                _draw_column_image(page, op, top, width)
            elif op.kind == "symbol":
                _draw_symbol(page, op, top, width)
            else:
                _draw_barcode(page, op, top, fonts, width)
        except Exception as exc:  # noqa: BLE001 - one bad operation must not lose the page
            log.warning("cannot draw %s at y=%d: %s: %s", op.kind, op.y, type(exc).__name__, exc)
            if warnings is not None:
                warnings.append(
                    {
                        "op": indices[n] if indices else first_index + n,
                        "kind": op.kind,
                        "y": op.y,
                        "error": f"{type(exc).__name__}: {exc}",
                    }
                )
            continue
        if op.args.get("upside_down"):  # ESC { 1: the printer turns each line half round
            strip = page[top : top + op.args["rows"]]
            strip[:] = strip[::-1, ::-1].copy()
        lost = _missing_in(op) if glyphs.MISSING else None
        if lost:
            lost_on_page.update(lost)
            if warnings is not None:
                warnings.append(
                    {
                        "op": indices[n] if indices else first_index + n,
                        "kind": op.kind,
                        "y": op.y,
                        "error": f"no font has a glyph for {', '.join(map(describe, lost))}: "
                        "drawn as a replacement mark",
                        "missing_glyphs": [f"U+{ord(c):04X}" for c in lost],
                    }
                )
    if lost_on_page:
        log.warning(
            "no font has a glyph for %s: drawn as replacement marks (page from y=%d)",
            ", ".join(map(describe, sorted(lost_on_page))),
            start,
        )
    if cut and cut_line:  # dashes in the margin: long for a full cut, short for a partial one
        y = page.shape[0] - CUT_MARGIN // 2
        dash = 12 if ops[-1].args.get("mode") == "full" else 4
        for x in range(0, width, dash * 2):
            page[y, x : x + dash + 1] = 0
    return page


def draw_page(
    ops: list[Op],
    width: int = 576,
    fonts: dict[str, tuple[int, int]] | None = None,
    cut_line: bool = True,
    warnings: list[dict[str, Any]] | None = None,
    first_index: int = 0,
    indices: list[int] | None = None,
) -> Image.Image:
    """:func:`paint` as a mode 'L' image."""
    return Image.fromarray(paint(ops, width, fonts, cut_line, warnings, first_index, indices), "L")


def png_bytes(dots: np.ndarray, level: int = 3) -> bytes:
    """Dots (0 = black, 255 = white) as a 1-bit greyscale PNG: the paper has no grey, and this
    is a tenth of the size of an 8-bit one and much faster to write than through Pillow."""
    h, w = dots.shape
    packed = np.packbits(dots >= 128, axis=1)  # PNG greyscale 1 bit: 1 = white, leftmost dot = MSB
    raw = np.zeros((h, packed.shape[1] + 1), dtype=np.uint8)  # each row starts with filter type 0
    raw[:, 1:] = packed

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw.tobytes(), level))
        + chunk(b"IEND", b"")
    )


def split_pages(ops: list[Op]) -> list[tuple[int, list[Op]]]:
    """Each page as (index of its first operation, its operations): a page ends at every cut;
    pages without paper (signals after the last cut) are left out."""
    pages: list[tuple[int, list[Op]]] = [(0, [])]
    for n, op in enumerate(ops):
        pages[-1][1].append(op)
        if op.kind == "cut":
            pages.append((n + 1, []))
    return [(i, p) for i, p in pages if p and has_paper(p)]


def render_pages(
    ops: list[Op],
    width: int = 576,
    fonts: dict[str, tuple[int, int]] | None = None,
    cut_line: bool = True,
    warnings: list[dict[str, Any]] | None = None,
) -> list[Image.Image]:
    """Draw the operations; a new image starts after every cut. Mode 'L' images. Operations
    that cannot be drawn are skipped and listed in ``warnings``."""
    return [draw_page(page_ops, width, fonts, cut_line, warnings, first) for first, page_ops in split_pages(ops)]
