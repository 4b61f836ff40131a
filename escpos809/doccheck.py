"""What the schema cannot see in a valid document: QR capacity in bytes, barcode data rules,
image and PDF files (readable, within size limits, the pages asked for there)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:  # document.py calls this module: blocks are told apart by their type name
    from .document import QR, Barcode, Block, ImageBlock, PdfBlock


def _source(b: ImageBlock | PdfBlock, base: Path | None) -> bytes | Path | None:
    """The block's file: its bytes, or its path (relative to ``base``); None for a PIL image."""
    if b.data is not None:
        return b.data
    if b.path is not None:
        return base / b.path if base and not Path(b.path).is_absolute() else Path(b.path)
    return None


def _image_errors(b: ImageBlock, path: str, base: Path | None) -> list[tuple[str, str]]:
    from PIL import Image, UnidentifiedImageError
    from PIL.Image import DecompressionBombError

    from .raster import MAX_SOURCE_PIXELS

    src = _source(b, base)
    if src is None:
        return []  # a PIL image (Python API only): no file or bytes to read
    try:
        with Image.open(io.BytesIO(src) if isinstance(src, bytes) else src) as img:
            if img.width * img.height > MAX_SOURCE_PIXELS:
                return [(path, f"image is {img.width}x{img.height}; at most {MAX_SOURCE_PIXELS:,} pixels")]
    except DecompressionBombError:  # Pillow's own limit, far above ours: refused before the size is seen
        return [(path, f"image is far larger than {MAX_SOURCE_PIXELS:,} pixels (a decompression bomb)")]
    except FileNotFoundError:  # src is a path: bytes are never "not found"
        return [(f"{path}/path", f"no such image file {src!s}")]
    except (UnidentifiedImageError, OSError) as exc:
        if isinstance(src, bytes):
            return [(path, "not a readable image (PNG, JPEG, GIF, BMP, …)")]
        return [(path, f"cannot read image {src}: {exc}")]
    return []


def _pdf_errors(b: PdfBlock, path: str, base: Path | None) -> list[tuple[str, str]]:
    from . import pdf

    src = _source(b, base)
    try:
        data = src if isinstance(src, bytes) else src.read_bytes() if src is not None else b""
    except FileNotFoundError:
        return [(f"{path}/path", f"no such PDF file {b.path}")]
    except OSError as exc:
        return [(f"{path}/path", f"cannot read PDF {b.path}: {exc.strerror or exc}")]
    try:
        pdf.check(data, b.pages, b.scale)
    except pdf.PagesError as exc:
        return [(f"{path}/pages", str(exc))]
    except ValueError as exc:
        return [(path, str(exc))]
    return []


def content_errors(blocks: tuple[Block, ...], base: Path | None) -> list[tuple[str, str]]:
    """The blocks' content problems as (JSON path, message), of the first
    :data:`~escpos809.docerrors.MAX_EXPLAINED` blocks that have any: checking stops there, so
    50,000 unreadable images cost ten reads and answer in a few lines, not megabytes."""
    from .docerrors import MAX_EXPLAINED

    out: list[tuple[str, str]] = []
    bad = 0
    for i, b in enumerate(blocks):
        found = _block_errors(b, f"blocks/{i}", base)
        if found:
            out += found
            bad += 1
            if bad == MAX_EXPLAINED and i + 1 < len(blocks):
                out.append(("blocks", f"checking stopped after {MAX_EXPLAINED} blocks with problems: fix these first"))
                break
    return out


def _block_errors(b: Block, path: str, base: Path | None) -> list[tuple[str, str]]:
    from .escpos import codes

    try:
        if b.type == "qr":
            qr = cast("QR", b)
            codes.qr_code(qr.data, size=qr.size, ec=qr.ec)
        elif b.type == "barcode":
            bc = cast("Barcode", b)
            codes.barcode(bc.kind, bc.data, height=bc.height, width=bc.width, hri=bc.hri)
        elif b.type == "image":
            return _image_errors(cast("ImageBlock", b), path, base)
        elif b.type == "pdf":
            return _pdf_errors(cast("PdfBlock", b), path, base)
    except ValueError as exc:
        return [(f"{path}/data", str(exc))]
    return []
