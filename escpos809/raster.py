"""Images → 1-bit rows → ``GS v 0`` bands. Pillow does the resizing, dithering and packing;
no per-pixel Python on this path."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Literal

from PIL import Image

from .errors import InvalidData
from .escpos.commands import raster_image

Dither = Literal["floyd-steinberg", "threshold"]
#: Refuse sources beyond this many pixels before decoding work is spent on them.
MAX_SOURCE_PIXELS = 40_000_000
#: Below this many pixels one Pillow call is quicker than handing strips to threads. Measured
#: with benchmarks/bench_receipt.py on a 2-core machine others were using (576-dot photos,
#: strips / one thread): 1.03-1.11 up to 2,000 rows, 0.8-1.04 at 2,500-4,000 (even, within the
#: noise), 0.65 at 8,000 rows (4.6 M pixels). Receipt logos and QR images stay far below.
PARALLEL_MIN_PIXELS = 3_000_000
#: Rows each strip dithers above its cut and throws away, so the error carried into the
#: strip's first kept row is settled and the cut leaves no visible seam.
STRIP_LEAD_ROWS = 16


def _workers() -> int:
    return min(4, os.cpu_count() or 1)


@lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor | None:
    """One strip per core (up to 4); None on a single core, where strips would only cost."""
    return ThreadPoolExecutor(_workers(), thread_name_prefix="escpos809-raster") if _workers() > 1 else None


def _prepare(image: Image.Image, max_width: int, width: int | None) -> Image.Image:
    """Check the size, flatten transparency onto white and scale to the target width; returns
    a mode ``"1"`` image untouched when it needs no work, else an ``L`` image."""
    if image.width * image.height > MAX_SOURCE_PIXELS:
        raise InvalidData(f"image is {image.width}x{image.height}; at most {MAX_SOURCE_PIXELS:,} pixels")
    if image.width == 0 or image.height == 0:
        raise InvalidData("image is empty")
    if image.mode == "1" and width is None and image.width <= max_width:
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGBA", rgba.size, "white")
        flat.alpha_composite(rgba)
        image = flat
    gray = image.convert("L")
    target = width if width is not None else min(gray.width, max_width)
    if not 1 <= target <= max_width:
        raise InvalidData(f"image width must be 1-{max_width} dots, got {target}")
    if target != gray.width:
        height = max(1, round(gray.height * target / gray.width))
        gray = gray.resize((target, height), Image.Resampling.LANCZOS)
    return gray


def _binarize(gray: Image.Image, dither: Dither, threshold: int) -> Image.Image:
    if gray.mode == "1":
        return gray
    if dither == "floyd-steinberg":
        return gray.convert("1", dither=Image.Dither.FLOYDSTEINBERG)
    return gray.point(lambda v: 255 if v >= threshold else 0, mode="1")


def dither_mode(name: str) -> Dither:
    """``name`` as a :data:`Dither` mode; ValueError when it names none."""
    if name == "floyd-steinberg":
        return "floyd-steinberg"
    if name == "threshold":
        return "threshold"
    raise ValueError(f"dither must be 'floyd-steinberg' or 'threshold', got {name!r}")


def _check(dither: str, threshold: int) -> None:
    dither_mode(dither)
    if not 0 <= threshold <= 255:
        raise ValueError(f"threshold must be 0-255, got {threshold}")


def to_mono(
    image: Image.Image,
    max_width: int,
    width: int | None = None,
    dither: Dither = "floyd-steinberg",
    threshold: int = 128,
) -> Image.Image:
    """Flatten transparency onto white, scale to ``width`` (or down to ``max_width``), and
    reduce to Pillow mode ``"1"`` with Floyd–Steinberg or a fixed threshold."""
    _check(dither, threshold)
    return _binarize(_prepare(image, max_width, width), dither, threshold)


def pack(mono: Image.Image) -> tuple[int, int, bytes]:
    """Mode ``"1"`` image → (bytes per row, rows, data) with 1 = black, MSB leftmost.

    The width is padded to a whole byte with white first: Pillow pads rows with 0 bits,
    which would print as black after inversion.
    """
    import numpy as np

    if mono.mode != "1":
        raise ValueError("pack() takes a mode '1' image")
    width_bytes = (mono.width + 7) // 8
    if mono.width % 8:
        padded = Image.new("1", (width_bytes * 8, mono.height), 1)
        padded.paste(mono, (0, 0))
        mono = padded
    # Pillow keeps "1" as one byte per pixel (0 or 255): reading it out raw as "L" is a copy,
    # where its own "1" packer is some 20 times slower. Packing white as 1 and inverting the
    # packed eighth-size result spares a full-size temporary.
    rows = np.frombuffer(mono.tobytes("raw", "L"), np.uint8).reshape(mono.height, width_bytes * 8)
    return width_bytes, mono.height, np.invert(np.packbits(rows, axis=1)).tobytes()


def rasterize(
    image: Image.Image,
    max_width: int,
    width: int | None = None,
    dither: Dither = "floyd-steinberg",
    threshold: int = 128,
    parallel: bool | None = None,
) -> tuple[int, int, bytes]:
    """:func:`to_mono` then :func:`pack`, with large images split into horizontal strips that
    are dithered and packed on several cores (Pillow and numpy release the GIL). ``parallel``:
    None decides by :data:`PARALLEL_MIN_PIXELS`; True or False forces it (the benchmark
    measures both).

    Floyd–Steinberg carries error only downwards and rightwards, so each strip starts
    :data:`STRIP_LEAD_ROWS` rows above its cut and drops them: the error entering its first
    kept row is then what a single pass would carry, to within the noise of dithering itself.
    """
    _check(dither, threshold)
    gray = _prepare(image, max_width, width)
    pool = _pool()
    if parallel is None:
        parallel = gray.width * gray.height >= PARALLEL_MIN_PIXELS
    if pool is None or gray.mode == "1" or not parallel:
        return pack(_binarize(gray, dither, threshold))
    strips = _workers()
    cuts = [gray.height * i // strips for i in range(strips + 1)]

    def strip(i: int) -> bytes:
        lead = min(cuts[i], STRIP_LEAD_ROWS if dither == "floyd-steinberg" else 0)
        mono = _binarize(gray.crop((0, cuts[i] - lead, gray.width, cuts[i + 1])), dither, threshold)
        width_bytes, _, data = pack(mono)
        return data[lead * width_bytes :]

    data = b"".join(pool.map(strip, range(strips)))
    return (gray.width + 7) // 8, gray.height, data


def raster_bands(width_bytes: int, rows: int, data: bytes, band_rows: int, mode: int = 0) -> bytes:
    """Split packed rows into ``GS v 0`` bands of at most ``band_rows`` rows (``mode``: 0
    normal, 1 double width, 2 double height, 3 both)."""
    if band_rows < 1:
        raise ValueError("band_rows must be >= 1")
    step = width_bytes * band_rows
    return b"".join(
        raster_image(
            width_bytes, min(band_rows, rows - start), data[start * width_bytes : start * width_bytes + step], mode
        )
        for start in range(0, rows, band_rows)
    )


def image_to_escpos(
    image: Image.Image,
    max_width: int,
    band_rows: int,
    width: int | None = None,
    dither: Dither = "floyd-steinberg",
    threshold: int = 128,
) -> bytes:
    """One call from a Pillow image to the printer's raster bands (no padding to full width:
    centre with ``ESC a 1`` instead)."""
    return raster_bands(*rasterize(image, max_width, width, dither, threshold), band_rows)
