"""One layout engine: document blocks → laid-out operations for a profile.

Text is wrapped by display width (a CJK character takes two columns, a 2x-wide character
two), columns and key–value lines are composed in characters, images are scaled to the
paper and packed, codes are placed. Both renderers (ESC/POS bytes, PNG preview) consume
the same list, so the preview is the receipt.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Any

from . import document as d
from .errors import InvalidData, InvalidDocument
from .profile import Profile


@dataclass(frozen=True, slots=True)
class Span:
    """A run of characters printed in one style."""

    text: str
    bold: bool = False
    underline: int = 0
    invert: bool = False
    font: str = "A"
    width: int = 1
    height: int = 1


@dataclass(frozen=True, slots=True)
class Line:
    spans: tuple[Span, ...]
    align: str = "left"

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.spans)


@dataclass(frozen=True, slots=True)
class Raster:
    width_bytes: int
    rows: int
    data: bytes
    align: str = "center"


@dataclass(frozen=True, slots=True)
class QrCode:
    data: str
    size: int
    ec: str
    align: str = "center"


@dataclass(frozen=True, slots=True)
class BarcodeOp:
    kind: str
    data: str
    height: int
    width: int
    hri: str
    align: str = "center"


@dataclass(frozen=True, slots=True)
class FeedOp:
    lines: int = 0
    dots: int | None = None


@dataclass(frozen=True, slots=True)
class CutOp:
    mode: str
    feed: int | None


@dataclass(frozen=True, slots=True)
class BeepOp:
    times: int
    duration: int


@dataclass(frozen=True, slots=True)
class DrawerOp:
    pin: int
    on_ms: int
    off_ms: int


@dataclass(frozen=True, slots=True)
class RawOp:
    data: bytes


LayoutOp = Line | Raster | QrCode | BarcodeOp | FeedOp | CutOp | BeepOp | DrawerOp | RawOp

#: printed lines one document may make (about 200 m of paper, two and a half 80 m rolls: a
#: day's report of 20,000 lines fits twice); the layout refuses more, naming the block
MAX_LINES = 50_000
#: image rows one document may print (images, QR codes drawn as images, PDF pages): 20 m of
#: paper, 11.5 MB of raster bytes (twice a PDF job's limit), not gigabytes from a template
MAX_IMAGE_DOTS = 160_000


@lru_cache(maxsize=8192)
def char_width(ch: str) -> int:
    """Columns a character takes: 2 for East Asian wide/full-width, 0 for combining marks."""
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


# anything outside these ranges may be wide (CJK from U+1100) or combining (U+0300-036F, …)
_MAYBE_NOT_ONE_COLUMN = re.compile("[^\x00-\u02ff\u0370-\u0482\u048a-\u0590\u2000-\u20cf\u2100-\u2fff]")


def text_width(text: str) -> int:
    """Display columns of ``text`` (Latin, Greek, Cyrillic, symbols: one per character)."""
    if text.isascii() or not _MAYBE_NOT_ONE_COLUMN.search(text):
        return len(text)
    return sum(map(char_width, text))


def _cut_to(text: str, cols: int) -> tuple[str, str]:
    """Split ``text`` after at most ``cols`` columns (at least one character, so a wide
    character in a one-column cell cannot stall the wrapping)."""
    if len(text) <= cols and text_width(text) <= cols:
        return text, ""
    used = 0
    for i, ch in enumerate(text):
        w = char_width(ch)
        if used + w > cols and i > 0:
            return text[:i], text[i:]
        used += w
    return text, ""


def wrap(text: str, cols: int) -> list[str]:
    """Word-wrap to ``cols`` display columns; explicit newlines kept; long words broken."""
    if cols < 1:
        raise ValueError("cols must be >= 1")
    lines: list[str] = []
    for para in text.split("\n"):
        if text_width(para) <= cols:
            lines.append(para)
            continue
        line, used = "", 0
        for word in para.split(" "):
            w = text_width(word)
            if line and used + 1 + w <= cols:
                line, used = f"{line} {word}", used + 1 + w
                continue
            if not line and w <= cols and (used == 0 or not word):
                line, used = word, w
                continue
            if line or used:
                lines.append(line)
            while w > cols:
                head, word = _cut_to(word, cols)
                lines.append(head)
                w = text_width(word)
            line, used = word, w
        lines.append(line)
    return lines


def pad(text: str, cols: int, align: str) -> str:
    gap = cols - text_width(text)
    if gap <= 0:
        return text
    if align == "right":
        return " " * gap + text
    if align == "center":
        return " " * (gap // 2) + text + " " * (gap - gap // 2)
    return text + " " * gap


class Layout:
    """Lays out documents for one profile."""

    def __init__(self, profile: Profile):
        self.profile = profile
        #: when its PDF pages must all be drawn: one budget for a document's pdf blocks
        self.pdf_deadline: float | None = None

    def columns(self, style: Span) -> int:
        return self.profile.columns(style.font, style.width)

    def _span(self, doc: d.Document, s: d.Style) -> Span:
        return Span("", s.bold, s.underline, s.invert, s.font or doc.font, s.width, s.height)

    def run(self, doc: d.Document) -> list[LayoutOp]:
        return list(self.iter(doc))

    def iter(self, doc: d.Document) -> Iterator[LayoutOp]:
        """The laid-out operations as they are made, line by line: a long document (or a table
        of thousands of rows) is never held laid out whole. Raises InvalidDocument (naming the
        block) for a block that does not fit this profile's paper, or when the document passes
        :data:`MAX_LINES` or :data:`MAX_IMAGE_DOTS`."""
        lines = dots = 0
        for i, block in enumerate(doc.blocks):
            try:
                for op in self._ops(doc, block):
                    if type(op) is Line:
                        lines += 1
                        if lines > MAX_LINES:
                            raise ValueError(f"the document prints more than {MAX_LINES:,} lines here")
                    elif type(op) is Raster:
                        dots += op.rows
                        if dots > MAX_IMAGE_DOTS:
                            mm = MAX_IMAGE_DOTS / self.profile.dpi * 25.4
                            raise ValueError(
                                f"the document's images print more than {MAX_IMAGE_DOTS:,} dots ({mm:,.0f} mm) here"
                            )
                    yield op
            except ValueError as exc:  # does not fit this profile's paper, or too long: say which block
                raise InvalidDocument([(f"blocks/{i}", str(exc))]) from None

    def _lines(self, texts: Iterable[str], span: Span, align: str) -> Iterator[LayoutOp]:
        strip = align != "right" and not (span.underline or span.invert)  # trailing blanks print nothing
        style = _style_of(span)
        return (Line((Span(t.rstrip(" ") if strip else t, *style),), align) for t in texts)

    def block(self, doc: d.Document, b: d.Block) -> list[LayoutOp]:
        """One block laid out (its operations in a list)."""
        return list(self._ops(doc, b))

    def _ops(self, doc: d.Document, b: d.Block) -> Iterable[LayoutOp]:
        try:
            lay = _BLOCK_LAYOUT[type(b)]
        except KeyError:
            raise TypeError(f"not a block: {b!r}") from None
        return lay(self, doc, b)

    def _text(self, doc: d.Document, b: d.Text) -> Iterable[LayoutOp]:
        span = self._span(doc, b.style)
        cols = self.columns(span)
        texts = wrap(b.text, cols) if b.wrap else [_cut_to(t, cols)[0] for t in b.text.split("\n")]
        return self._lines(texts, span, b.align)

    def _rule(self, doc: d.Document, b: d.Rule) -> Iterable[LayoutOp]:
        span = self._span(doc, b.style)
        return self._lines([b.char * (self.columns(span) // char_width(b.char) or 1)], span, "left")

    def _key_value(self, doc: d.Document, b: d.KeyValue) -> Iterable[LayoutOp]:
        span = self._span(doc, b.style)
        return self._lines(key_value(b.key, b.value, self.columns(span)), span, "left")

    def _columns(self, doc: d.Document, b: d.Columns) -> Iterable[LayoutOp]:
        span = self._span(doc, b.style)
        return self._lines(table_lines(b, self.columns(span)), span, "left")

    def _qr(self, doc: d.Document, b: d.QR) -> list[LayoutOp]:
        native = b.native and self.profile.qr_form != "image"  # a unit without native QR
        return [QrCode(b.data, b.size, b.ec, b.align) if native else self.qr_image(b)]

    def image(self, doc: d.Document, b: d.ImageBlock) -> Raster:
        from PIL import Image

        from .raster import dither_mode, rasterize

        if b.image is not None:
            return Raster(
                *rasterize(b.image, self.profile.width_dots, b.width, dither_mode(b.dither), b.threshold), align=b.align
            )
        src: io.BytesIO | Path
        if b.data is not None:
            src = io.BytesIO(b.data)
        elif b.path is not None:
            p = Path(b.path)
            src = doc.base / p if doc.base and not p.is_absolute() else p
        else:
            raise ValueError("an image block needs data, a path or an image")
        with Image.open(src) as img:
            try:
                img.load()
            except Exception as exc:  # noqa: BLE001 - corrupt past its header (doccheck reads only that):
                # Pillow's decoders say so with OSError, struct.error, SyntaxError, EOFError …
                raise InvalidData(f"the image cannot be decoded: {exc or type(exc).__name__}") from None
            return Raster(
                *rasterize(img, self.profile.width_dots, b.width, dither_mode(b.dither), b.threshold), align=b.align
            )

    def pdf(self, doc: d.Document, b: d.PdfBlock) -> list[LayoutOp]:
        """Each page with ink as an image, a cut after each (unless ``cut`` is none)."""
        from . import pdf
        from .raster import dither_mode, rasterize

        if b.data is not None:
            data = b.data
        elif b.path is not None:
            p = Path(b.path)
            data = (doc.base / p if doc.base and not p.is_absolute() else p).read_bytes()
        else:
            raise ValueError("a pdf block needs data or a path")
        prof = self.profile
        self.pdf_deadline = self.pdf_deadline or pdf.deadline_from_now()
        out: list[LayoutOp] = []
        for page in pdf.render(data, b.pages, b.scale, prof.dpi, prof.width_dots, self.pdf_deadline):
            out.append(Raster(*rasterize(page, prof.width_dots, None, dither_mode(b.dither), b.threshold), b.align))
            if b.cut != "none":
                out.append(CutOp(b.cut, 3))
        return out

    def qr_image(self, b: d.QR) -> Raster:
        from PIL import Image

        from .paper.codes import make_qr
        from .raster import pack

        data = b.data.encode("utf-8")
        qr = make_qr(data, b.ec)
        if qr is None:
            raise InvalidData(f"QR data ({len(data)} bytes) does not fit a QR code at error level {b.ec}")
        matrix = qr.get_matrix()
        n = len(matrix)
        img = Image.new("1", (n, n), 1)
        img.putdata([0 if v else 1 for row in matrix for v in row])
        img = img.resize((n * b.size, n * b.size), Image.Resampling.NEAREST)
        if img.width > self.profile.width_dots:
            raise ValueError(
                f"QR code is {img.width} dots wide at size {b.size}; the paper has {self.profile.width_dots}"
            )
        return Raster(*pack(img), align=b.align)


#: how a block (of the key's type: the third argument) is laid out
_BlockLayout = Callable[[Layout, d.Document, Any], Iterable[LayoutOp]]
_BLOCK_LAYOUT: dict[type, _BlockLayout] = {
    d.Text: Layout._text,
    d.Rule: Layout._rule,
    d.KeyValue: Layout._key_value,
    d.Columns: Layout._columns,
    d.ImageBlock: lambda self, doc, b: [self.image(doc, b)],
    d.PdfBlock: Layout.pdf,
    d.QR: Layout._qr,
    d.Barcode: lambda self, doc, b: [BarcodeOp(b.kind, b.data, b.height, b.width, b.hri, b.align)],
    d.Feed: lambda self, doc, b: [FeedOp(b.lines, b.dots)],
    d.Cut: lambda self, doc, b: [CutOp(b.mode, b.feed)],
    d.Beep: lambda self, doc, b: [BeepOp(b.times, b.duration)],
    d.Drawer: lambda self, doc, b: [DrawerOp(b.pin, b.on_ms, b.off_ms)],
    d.Raw: lambda self, doc, b: [RawOp(b.data)],
}


def _style_of(span: Span) -> tuple:
    return (span.bold, span.underline, span.invert, span.font, span.width, span.height)


def key_value(key: str, value: str, cols: int) -> list[str]:
    """Key left, value right-aligned on the key's last line (or its own line if no room)."""
    if len(key) + len(value) < cols and "\n" not in key:  # the usual case: one line
        gap = cols - text_width(key) - text_width(value)
        if gap > 0:
            return [key + " " * gap + value]
    value = _cut_to(value, cols)[0]
    room = cols - text_width(value) - 1
    keys = wrap(key, max(room, 1)) if room >= 1 else wrap(key, cols)
    if room >= 1 and text_width(keys[-1]) <= room:
        return keys[:-1] + [pad(keys[-1], cols - text_width(value), "left") + value]
    return keys + [pad(value, cols, "right")]


def column_widths(cols: list[d.Column], total: int, gap: int) -> list[int]:
    """Character widths: integers as given, fractions of what is left after fixed columns and gaps."""
    avail = total - gap * (len(cols) - 1)
    fixed = sum(int(c.width) for c in cols if not (isinstance(c.width, float) and c.width <= 1))
    rest = avail - fixed
    frac = [i for i, c in enumerate(cols) if isinstance(c.width, float) and c.width <= 1]
    widths = [max(1, int(c.width * rest)) if i in frac else int(c.width) for i, c in enumerate(cols)]
    if frac and sum(cols[i].width for i in frac) >= 0.999:  # fractions fill the line: no lost column
        widths[frac[-1]] += avail - sum(widths)
    if sum(widths) > avail:
        raise ValueError(f"columns need {sum(widths) + gap * (len(cols) - 1)} characters; the line has {total}")
    return widths


def table(b: d.Columns, total: int) -> list[str]:
    return list(table_lines(b, total))


def table_lines(b: d.Columns, total: int) -> Iterator[str]:
    """The table's lines, row by row as they are made."""
    widths = column_widths(list(b.columns), total, b.gap)
    sep = " " * b.gap
    for row in chain((b.header,) if b.header else (), b.rows):
        cells = [wrap(row[i] if i < len(row) else "", w) for i, w in enumerate(widths)]
        for k in range(max(len(c) for c in cells)):
            parts = [
                pad(c[k] if k < len(c) else "", w, col.align)
                for c, w, col in zip(cells, widths, b.columns, strict=True)
            ]
            yield sep.join(parts).rstrip()
