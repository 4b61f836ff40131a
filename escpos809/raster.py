"""Images → 1-bit rows → ``GS v 0`` bands. Pillow does the resizing, dithering and packing;
no per-pixel Python on this path."""

from __future__ import annotations

from typing import Literal

from PIL import Image

from .errors import InvalidData
from .escpos.commands import raster_image

Dither = Literal["floyd-steinberg", "threshold"]
#: Refuse sources beyond this many pixels before decoding work is spent on them.
MAX_SOURCE_PIXELS = 40_000_000


def to_mono(image: Image.Image, max_width: int, width: int | None = None,
            dither: Dither = "floyd-steinberg", threshold: int = 128) -> Image.Image:
    """Flatten transparency onto white, scale to ``width`` (or down to ``max_width``), and
    reduce to Pillow mode ``"1"`` with Floyd–Steinberg or a fixed threshold."""
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
    if dither == "floyd-steinberg":
        return gray.convert("1", dither=Image.Dither.FLOYDSTEINBERG)
    if dither == "threshold":
        if not 0 <= threshold <= 255:
            raise ValueError(f"threshold must be 0-255, got {threshold}")
        return gray.point(lambda v: 255 if v >= threshold else 0, mode="1")
    raise ValueError(f"dither must be 'floyd-steinberg' or 'threshold', got {dither!r}")


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
    # numpy packs twice as fast as Pillow's "1" encoder; ~white is black dots, MSB first
    return width_bytes, mono.height, np.packbits(~np.asarray(mono), axis=1).tobytes()


def raster_bands(width_bytes: int, rows: int, data: bytes, band_rows: int) -> bytes:
    """Split packed rows into ``GS v 0`` bands of at most ``band_rows`` rows."""
    if band_rows < 1:
        raise ValueError("band_rows must be >= 1")
    step = width_bytes * band_rows
    return b"".join(
        raster_image(width_bytes, min(band_rows, rows - start), data[start * width_bytes:start * width_bytes + step])
        for start in range(0, rows, band_rows)
    )


def image_to_escpos(image: Image.Image, max_width: int, band_rows: int, width: int | None = None,
                    dither: Dither = "floyd-steinberg", threshold: int = 128) -> bytes:
    """One call from a Pillow image to the printer's raster bands (no padding to full width:
    centre with ``ESC a 1`` instead)."""
    return raster_bands(*pack(to_mono(image, max_width, width, dither, threshold)), band_rows)
