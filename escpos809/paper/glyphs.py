"""Character cells drawn from real fonts — and never a silent tofu box.

The fonts are part of the project, so that the paper looks the same on every machine:

* DejaVu Sans Mono 2.37, shipped in ``escpos809/paper/fonts/`` with its licence (Bitstream
  Vera / public domain): Latin, Greek, Cyrillic, symbols, box drawing.
* Noto Sans CJK SC, from the ``noto-cjk-sans-otc`` package (SIL OFL 1.1): GB18030's hanzi,
  kana, hangul and full-width forms. Asked first for a double-byte (CJK) cell.

Each character is drawn with the first of them whose character map has it (read with
fontTools). A character that none has is drawn as U+FFFD, a visible replacement mark, and
remembered in :data:`MISSING`, from which :func:`missing_glyphs` tells the drawing code what to
report. Control, format and separator characters print no ink.
"""

from __future__ import annotations

import importlib
import logging
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger(__name__)

FONT_DIR = Path(__file__).with_name("fonts")
LATIN = ("DejaVu Sans Mono", FONT_DIR / "DejaVuSansMono.ttf")
CJK_PACKAGE, CJK_FACE = "noto_cjk_sans_otc", "Noto Sans CJK SC"
REPLACEMENT = "\ufffd"
#: characters that no font has a glyph for, as they were met (drawn as :data:`REPLACEMENT`)
MISSING: set[str] = set()
_NO_INK = {"Cc", "Cf", "Zs", "Zl", "Zp"}  # control, format and separator characters print blank
_THRESHOLD = [0] * 128 + [255] * 128  # a thermal head prints a dot or not: no grey


@dataclass(frozen=True)
class FontFace:
    """One face of a font file: ``index`` is its number in a collection (.ttc)."""

    name: str
    path: str
    index: int = 0


def _cjk_face() -> FontFace | None:
    try:
        package = importlib.import_module(CJK_PACKAGE)
    except ImportError:
        log.warning(
            "the %s package is not installed: CJK characters are drawn as replacement marks "
            "(pip install noto-cjk-sans-otc)",
            CJK_PACKAGE.replace("_", "-"),
        )
        return None
    path = str(package.FONT_PATH)
    for index in range(32):
        try:
            name = ImageFont.truetype(path, 8, index=index).getname()[0]
        except OSError:
            break
        if name == CJK_FACE:
            return FontFace(name, path, index)
    log.warning("%s has no %s face: CJK characters are drawn as replacement marks", path, CJK_FACE)
    return None


@lru_cache(maxsize=1)
def faces() -> tuple[FontFace, ...]:
    """The fonts the paper is drawn with, in the order they are asked (found on first use)."""
    latin = FontFace(LATIN[0], str(LATIN[1]))
    cjk = _cjk_face()
    return (latin, cjk) if cjk else (latin,)


@lru_cache(maxsize=8)
def _charmap(face: FontFace) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(face.path, fontNumber=face.index, lazy=True) as font:
        return frozenset(font.getBestCmap() or ())


@lru_cache(maxsize=65536)
def face_for(char: str, double_byte: bool = False) -> FontFace | None:
    """The first font that has a glyph for ``char`` (the CJK one first in a double-byte cell),
    or None when no font has one."""
    order = faces()[::-1] if double_byte else faces()
    code = ord(char[0]) if char else 0
    return next((face for face in order if code in _charmap(face)), None)


@lru_cache(maxsize=64)
def _font(face: FontFace, px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(face.path, px, index=face.index)


def prints_ink(char: str) -> bool:
    """Whether ``char`` puts dots on paper (control, format and separator characters do not)."""
    return bool(char) and unicodedata.category(char[0]) not in _NO_INK


def _draw(img: Image.Image, char: str, face: FontFace, px: int, bold: bool) -> bool:
    w, h = img.size
    try:
        ImageDraw.Draw(img).text(
            (w / 2, h * 0.45),
            char,
            font=_font(face, px),
            fill=0,
            anchor="mm",
            stroke_width=1 if bold else 0,
            stroke_fill=0,
        )
    except (ValueError, RuntimeError, OSError) as exc:  # a character the font engine cannot lay out
        log.info("cannot draw %r with %s: %s", char, face.name, exc)
        return False
    return True


@lru_cache(maxsize=4096)
def glyph(char: str, w: int, h: int, bold: bool = False, double_byte: bool = False) -> Image.Image:
    """``char`` in a ``w`` x ``h`` cell: mode 'L', black (0) dots on white (255), no grey.

    A character no font has (or the font engine cannot lay out) is drawn as U+FFFD and added to
    :data:`MISSING`."""
    img = Image.new("L", (w, h), 255)
    if not prints_ink(char):
        return img
    px = round(h * 0.9) if double_byte else round(h * 0.83)  # 20 px in font A's 24-dot cell
    face = face_for(char, double_byte)
    if face is None or not _draw(img, char, face, px, bold):
        MISSING.add(char)
        img = Image.new("L", (w, h), 255)
        _draw(img, REPLACEMENT, faces()[0], px, bold)
    return img.point(_THRESHOLD)


def missing_glyphs(chars: Iterable[str]) -> list[str]:
    """Those of ``chars`` that no font has (drawn as replacement marks), sorted, each once."""
    return sorted(set(chars) & MISSING) if MISSING else []


def describe(char: str) -> str:
    """``U+E000`` and the character's Unicode name, for warnings."""
    code = ord(char[0])
    name = unicodedata.name(char[0], "")
    return f"U+{code:04X} {name}" if name else f"U+{code:04X}"
