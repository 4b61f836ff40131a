"""PDF pages on the receipt paper without CUPS: PDFium (pypdfium2) renders each chosen page in
grey at the printer's resolution, blank margins are trimmed, and the page goes on as an image
(``raster.rasterize`` dithers it; ``layout`` puts a cut after it).

Everything that can refuse a PDF does so before anything prints: :func:`check` (cheap: it opens
the file and reads page sizes, loading no page) runs when a document is validated, :func:`render`
checks the trimmed sizes of every page before it draws the first one at full size. Pages are
loaded and drawn only in a child process with a deadline (``pdfchild``): PDFium cannot be
interrupted, and a page's content can take it minutes to load.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .errors import InvalidInput

if TYPE_CHECKING:
    from PIL import Image

#: pages one job may print (a PDF may have more: choose with ``pages``)
MAX_PAGES = 100
#: one page's printed length in dots: about 2 m of paper at 203 dpi
MAX_PAGE_DOTS = 16_000
#: the whole job's printed length in dots: about 10 m of paper
MAX_JOB_DOTS = 80_000
#: drawing objects on one page: an invoice has hundreds; 200,000 tiny squares take PDFium
#: seconds to draw (objects nested in a form XObject count as one: ``pdfchild.DRAW_SECONDS``
#: bounds the time those take)
MAX_PAGE_OBJECTS = 20_000
#: ``scale`` as a percentage of the PDF's own size; ``fit`` never enlarges beyond the highest
MIN_PERCENT, MAX_PERCENT = 10, 400
#: grey levels darker than this are ink; lighter ones are a margin (JPEG noise, paper tints)
INK_BELOW = 240
#: white kept around the ink when margins are trimmed (PDF units: 2 mm), so a code at the edge of
#: what is printed keeps a quiet zone
KEEP_MARGIN = 72 * 2 / 25.4
#: PDFium is not thread-safe (not even for two documents): one check at a time in a process
_PDFIUM = threading.Lock()

Scale = Literal["fit", "actual"] | int
_POINTS_PER_INCH = 72


def scale_of(value: object) -> Scale:
    """``fit``, ``actual``, or a percentage (``150``, ``"150"``, ``"150%"``); PdfRefused otherwise."""
    if value in ("fit", "actual"):
        return "fit" if value == "fit" else "actual"
    text = str(value).removesuffix("%") if isinstance(value, (int, str)) and not isinstance(value, bool) else ""
    if text.isascii() and text.isdigit() and len(text) <= 4 and MIN_PERCENT <= int(text) <= MAX_PERCENT:
        return int(text)
    shown = repr(value)[:30]
    raise PdfRefused(f"scale must be fit, actual or a percentage from {MIN_PERCENT} to {MAX_PERCENT}; got {shown}")


class PdfRefused(InvalidInput):
    """A PDF that cannot print as asked: not a PDF, broken, encrypted, sizes beyond the limits."""

    http_title = "Invalid PDF"


class PagesError(PdfRefused):
    """``pages`` names pages the PDF cannot give (syntax, missing pages, too many)."""


class DrawRefused(PdfRefused):
    """A PDF that cannot be drawn within the budget (time, memory), or that crashed PDFium."""


def page_numbers(spec: str | None, count: int) -> list[int]:
    """The pages (0-based, in the order given) that ``spec`` names in a PDF of ``count`` pages:
    ``None`` or ``"all"`` is every page, else ``"1-3,5,8-"`` (1-based, ``8-`` = 8 to the end).
    PdfRefused for bad syntax, pages the PDF lacks, or more than :data:`MAX_PAGES`."""
    if spec is None or spec.strip() == "all":
        if count > MAX_PAGES:
            raise PagesError(f"the PDF has {count:,} pages; at most {MAX_PAGES} print in one job: choose some pages")
        return list(range(count))
    ranges: list[tuple[int, int]] = []
    total = 0
    for part in spec.split(","):
        first, dash, last = part.strip().partition("-")
        if not _number(first) or (dash and last and not _number(last)) or (not dash and last):
            raise PagesError(f"pages must be like 1-3,5,8- (1-based); got {spec[:40]!r}")
        lo, hi = int(first), (int(last) if last else count) if dash else int(first)
        if lo < 1 or hi < lo:
            raise PagesError(f"page range {part.strip()!r} is empty or starts before page 1")
        if hi > count:
            raise PagesError(f"page {hi:,} asked for; the PDF has {count:,} page{'s' if count != 1 else ''}")
        total += hi - lo + 1
        if total > MAX_PAGES:  # counted before any list is built: "1-999999999" costs nothing
            raise PagesError(f"pages {spec[:40]!r} name more than {MAX_PAGES}; at most {MAX_PAGES} print in one job")
        ranges.append((lo, hi))
    return [p - 1 for lo, hi in ranges for p in range(lo, hi + 1)]


def _number(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 9


@dataclass(frozen=True)
class _Page:
    index: int
    scale: float  # dots per PDF unit
    crop: tuple[float, float, float, float]  # PDF units cut off: left, bottom, right, top
    width: int  # dots, after trimming
    height: int


def _open(data: bytes):  # -> pypdfium2.PdfDocument (its types are not checked)
    import pypdfium2 as pdfium

    if not data.lstrip()[:5] == b"%PDF-":
        raise PdfRefused("not a PDF (it does not start with %PDF-)")
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise PdfRefused("the PDF is encrypted (it needs a password); save an unprotected copy") from None
        raise PdfRefused(f"the PDF cannot be read ({str(exc)[:120]})") from None


def _base_scale(scale: Scale, width_pt: float, dpi: int, width_dots: int) -> float:
    """Dots per PDF unit before trimming: ``fit`` fills the paper with the whole page."""
    if scale == "fit":
        return min(width_dots / width_pt, dpi / _POINTS_PER_INCH * MAX_PERCENT / 100)
    return dpi / _POINTS_PER_INCH * (100 if scale == "actual" else scale) / 100


def _sizes(doc, pages: list[int], scale: Scale, dpi: int, width_dots: int) -> list[tuple[float, float, float]]:
    """(width, height, dots per unit) of each page as the PDF gives it, without loading the
    page; PdfRefused for a page of no size or one too long to print even before trimming."""
    import pypdfium2 as pdfium

    out = []
    for i in pages:
        try:
            width_pt, height_pt = doc.get_page_size(i)
        except pdfium.PdfiumError:  # the page tree leads nowhere (a loop, too deep, no page)
            raise PdfRefused(f"page {i + 1} cannot be read: the PDF's page tree is broken") from None
        if not (width_pt >= 1 and height_pt >= 1):
            raise PdfRefused(f"page {i + 1} has no size ({width_pt:g} x {height_pt:g} units)")
        s = _base_scale(scale, width_pt, dpi, width_dots)
        if height_pt * s > MAX_PAGE_DOTS * 2:  # trimming may shorten it, but not this much
            mm = height_pt / _POINTS_PER_INCH * 25.4
            raise PdfRefused(f"page {i + 1} is {mm:,.0f} mm long; at most {_mm(MAX_PAGE_DOTS, dpi)} print per page")
        out.append((width_pt, height_pt, s))
    return out


def _count_objects(doc, pages: list[int]) -> None:
    """PdfRefused for a page of more than :data:`MAX_PAGE_OBJECTS` drawing objects (loads it)."""
    import pypdfium2.raw as pdfium_c

    for i in pages:
        if (objects := pdfium_c.FPDFPage_CountObjects(doc[i])) > MAX_PAGE_OBJECTS:
            raise PdfRefused(f"page {i + 1} draws {objects:,} objects; at most {MAX_PAGE_OBJECTS:,} print on a page")


def _mm(dots: int, dpi: int) -> str:
    return f"{dots / dpi * 25.4:,.0f} mm"


def check(data: bytes, pages: str | None, scale: object, dpi: int = 203, width_dots: int = 576) -> None:
    """Refuse (PdfRefused, one line) a PDF that cannot print: not a PDF, broken, encrypted,
    pages it lacks, too many pages, a page of no size or absurd length. Loads no page."""
    sc = scale_of(scale)
    with _opened(data) as doc:
        _sizes(doc, page_numbers(pages, len(doc)), sc, dpi, width_dots)


@contextmanager
def _opened(data: bytes) -> Iterator[Any]:  # a pypdfium2.PdfDocument (its types are not checked)
    """The PDF open (under the lock, closed after), with a page at least; PdfRefused for what
    PDFium cannot read, from the file to a page (a page tree 100,000 levels deep)."""
    import pypdfium2 as pdfium

    with _PDFIUM:
        doc = _open(data)
        try:
            if len(doc) == 0:
                raise PdfRefused("the PDF has no pages")
            yield doc
        except pdfium.PdfiumError as exc:
            raise PdfRefused(f"the PDF cannot be read ({str(exc)[:120]})") from None
        finally:
            doc.close()


def _ink(doc, index: int, size: tuple[float, float, float], width_dots: int) -> tuple[float, ...] | None:
    """Where the page's ink is, in PDF units (left, top, right, bottom from the top left
    corner), from a quick render at most the paper wide; None for a blank page."""
    import numpy as np

    width_pt, height_pt, base = size
    look = min(base, width_dots / width_pt)
    grey = np.asarray(doc[index].render(scale=look, grayscale=True, fill_color=(255, 255, 255, 255)).to_pil())
    ink = grey < INK_BELOW
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if not len(rows):
        return None
    # one look-pixel of slack: the quick render's rounding must not cut ink off
    return (
        max(0.0, (cols[0] - 1) / look - KEEP_MARGIN),
        max(0.0, (rows[0] - 1) / look - KEEP_MARGIN),
        min(width_pt, (cols[-1] + 2) / look + KEEP_MARGIN),
        min(height_pt, (rows[-1] + 2) / look + KEEP_MARGIN),
    )


def _plans(
    doc, chosen: list[int], sizes: list[tuple[float, float, float]], scale: Scale, dpi: int, width_dots: int
) -> list[_Page]:
    """The pages with ink, each cut to its ink from top to bottom, all to the ink of the widest
    from left to right (so the pages keep one scale and their columns line up: a short last
    page does not come out in giant letters); ``fit`` makes that width the paper's."""
    inks = [(i, size, box) for i, size in zip(chosen, sizes, strict=True) if (box := _ink(doc, i, size, width_dots))]
    if not inks:
        return []
    left, right = min(box[0] for _, _, box in inks), max(box[2] for _, _, box in inks)
    plans = []
    for i, (width_pt, height_pt, base), (_, top, _, bottom) in inks:
        s = min(width_dots / (right - left), _base_scale(MAX_PERCENT, 1, dpi, width_dots)) if scale == "fit" else base
        page_right = min(right, width_pt)
        crop = (left, height_pt - bottom, width_pt - page_right, top)
        plans.append(_Page(i, s, crop, max(1, round((page_right - left) * s)), max(1, round((bottom - top) * s))))
    return plans


def render(
    data: bytes, pages: str | None, scale: object, dpi: int, width_dots: int, deadline: float | None = None
) -> list[Image.Image]:
    """:func:`render_here` in a child process (``pdfchild``) that must be done by ``deadline``
    (``time.monotonic()``; default: :data:`pdfchild.DRAW_SECONDS` from now): a PDF that takes
    longer, or more memory than the child has, is refused (DrawRefused) and the child killed."""
    from PIL import Image

    from . import pdfchild

    scale_of(scale)  # a bad option is refused without a child
    ask = {"pages": pages, "scale": scale, "dpi": dpi, "width_dots": width_dots}
    try:
        answer, rest = pdfchild.run(__name__, ask, data, deadline or deadline_from_now())
    except pdfchild.ChildFailed as exc:
        raise DrawRefused(str(exc)) from None
    if "refused" in answer:
        raise (PagesError if answer["pages_error"] else PdfRefused)(answer["refused"])
    out, at = [], 0
    for w, h in answer["sizes"]:
        out.append(Image.frombytes("L", (w, h), rest[at : at + w * h]))
        at += w * h
    return out


def deadline_from_now() -> float:
    """When PDF pages asked for now must be drawn (``time.monotonic()``)."""
    import time

    from .pdfchild import DRAW_SECONDS

    return time.monotonic() + DRAW_SECONDS


def _in_child(ask: dict, data: bytes) -> tuple[dict, list[bytes]]:
    """What :func:`render` asks the child (``python -m escpos809.pdf``) for."""
    try:
        images = render_here(data, ask["pages"], ask["scale"], ask["dpi"], ask["width_dots"])
    except PdfRefused as exc:
        return {"refused": str(exc), "pages_error": isinstance(exc, PagesError)}, []
    return {"sizes": [img.size for img in images]}, [img.tobytes() for img in images]


def render_here(data: bytes, pages: str | None, scale: object, dpi: int, width_dots: int) -> list[Image.Image]:
    """Each chosen page that has ink, trimmed to it, as a grey (``L``) image at ``dpi``: as wide
    as the paper (``fit``), or at its own size times the scale. Every page's size is checked
    before the first is drawn: PdfRefused for one wider or longer than the paper takes, or a
    job too long, and for what :func:`check` refuses. Blank pages print nothing."""
    sc = scale_of(scale)
    with _opened(data) as doc:
        chosen = page_numbers(pages, len(doc))
        sizes = _sizes(doc, chosen, sc, dpi, width_dots)
        _count_objects(doc, chosen)
        plans = _plans(doc, chosen, sizes, sc, dpi, width_dots)
        _check_plans(plans, sc, dpi, width_dots)
        return [_draw(doc, p) for p in plans]


def _check_plans(plans: list[_Page], scale: Scale, dpi: int, width_dots: int) -> None:
    if not plans:
        raise PdfRefused("the chosen pages are blank: nothing to print")
    for p in plans:
        if p.width > width_dots:
            fits = int(100 * width_dots / p.width * (100 if scale == "actual" else int(scale)) / 100)
            raise PdfRefused(
                f"page {p.index + 1} is {p.width} dots wide at scale {scale}; the paper takes {width_dots}: "
                f"print it with scale fit or at most {fits} %"
            )
        if p.height > MAX_PAGE_DOTS:
            raise PdfRefused(
                f"page {p.index + 1} would print {_mm(p.height, dpi)} long; at most {_mm(MAX_PAGE_DOTS, dpi)} per page"
            )
    total = sum(p.height for p in plans)
    if total > MAX_JOB_DOTS:
        raise PdfRefused(f"the pages would print {_mm(total, dpi)} of paper; at most {_mm(MAX_JOB_DOTS, dpi)} a job")


def _draw(doc, p: _Page) -> Image.Image:
    img = doc[p.index].render(scale=p.scale, crop=p.crop, grayscale=True, fill_color=(255, 255, 255, 255)).to_pil()
    return img.convert("L")


if __name__ == "__main__":
    from .pdfchild import serve

    serve(_in_child)
