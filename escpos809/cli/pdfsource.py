"""A PDF as the SOURCE of ``print`` and ``preview``: its options and its refusals (one line
naming the file)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from ..errors import InvalidData

T = TypeVar("T")


def pdf_options(func):
    """--pages / --scale, for a PDF SOURCE."""

    def scale(ctx, param, value):
        from ..pdf import scale_of

        try:
            return scale_of(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None

    func = click.option(
        "--scale",
        metavar="fit|actual|PERCENT",
        default="fit",
        show_default=True,
        callback=scale,
        help="A PDF's size: fit (the paper's width), actual (its own size) or a percentage (10-400).",
    )(func)
    return click.option("--pages", metavar="LIST", help="A PDF's pages to print, e.g. 1-3,5,8- (default: all).")(func)


def pdf_document(source: str, pages: str | None, scale, cut: str):
    """A PDF file as a document of one pdf block, refused here (one line naming the file) when
    it cannot print: broken, encrypted, pages it lacks, absurd sizes."""
    from .. import pdf
    from ..document import Document, PdfBlock

    data = Path(source).read_bytes()
    try:
        pdf.check(data, pages, scale)
    except ValueError as exc:
        raise InvalidData(f"{source}: {exc}") from None
    return Document((PdfBlock(data, pages=pages, scale=scale, cut=cut),))


def pdf_refusals(draw: Callable[[], T], source: str) -> T:
    """``draw()`` (a render or preview of a PDF SOURCE), its refusals naming the file, not the block."""
    from ..errors import InvalidDocument

    try:
        return draw()
    except InvalidDocument as exc:
        raise InvalidData(f"{source}: {exc.errors[0][1]}") from None
