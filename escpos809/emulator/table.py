"""The virtual printer's command table: which command bytes the firmware reads and what they do.

Kept as data a firmware variant can change: :data:`IGNORED` lists the commands whose parameters
the firmware reads and that leave nothing on paper here (print801 ``esc.c`` / ``gs.c`` /
``fs.c``: settings for page mode, Chinese spacing, paper sensors, user-defined characters …);
:func:`build_table` maps every other command to its handler. A command not in the table is
``unknown``: the firmware reads its two bytes and prints what follows as characters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .extras import more_commands
from .handlers import NEED_MORE, Handler

if TYPE_CHECKING:
    from .interpreter import Interpreter

ESC, GS, FS, DLE, US = 0x1B, 0x1D, 0x1C, 0x10, 0x1F
_ZERO_TO_TWO = {0: 0, 1: 1, 2: 2, 48: 0, 49: 1, 50: 2}  # ESC - n, ESC a n: 0-2 as numbers or digits

#: (prefix, command) -> parameter bytes read, for commands with no visible effect here
IGNORED: dict[tuple[int, int], int] = {
    (ESC, 0x0C): 0,  # ESC FF: print in page mode (the firmware never enters page mode)
    (ESC, ord("%")): 1,  # select user-defined characters (the built-in glyphs are drawn)
    (ESC, ord("?")): 1,  # cancel a user-defined character
    (ESC, ord("L")): 0,  # page mode: disabled in this firmware (Command_1B4C commented out)
    (ESC, ord("R")): 1,  # international character set
    (ESC, ord("T")): 1,  # page-mode print direction
    (ESC, ord("U")): 1,  # unidirectional printing
    (ESC, ord("V")): 1,  # 90° rotation (not drawn: characters print upright)
    (ESC, ord("r")): 1,  # print colour (a one-colour head)
    (GS, ord("#")): 1,  # RAM bitmap number
    (GS, ord("$")): 2,  # page-mode vertical position
    (GS, ord("D")): 1,  # driver mode
    (GS, ord("E")): 1,  # print density
    (GS, ord("U")): 2,  # GP driver compatibility
    (FS, ord("-")): 1,  # Chinese underline
    (FS, ord("?")): 2,  # cancel a user-defined Chinese character
    (FS, ord("S")): 2,  # Chinese left / right spacing
    (DLE, 0x05): 1,  # real-time request (answered on arrival)
}


def fixed(nargs: int, apply: Callable[..., object]) -> Handler:
    """A command of ``nargs`` parameter bytes, handed to ``apply`` (its result unused)."""

    def handler(buf: bytearray, i: int) -> int:
        if i + 2 + nargs > len(buf):
            return NEED_MORE
        apply(*buf[i + 2 : i + 2 + nargs])
        return 2 + nargs

    return handler


def build_table(it: Interpreter) -> dict[tuple[int, int], Handler]:
    """Every command the firmware reads, for the interpreter ``it``."""
    s = it.style
    t: dict[tuple[int, int], Handler] = {
        (ESC, ord("@")): fixed(0, it._init),
        # ESC SP n: right spacing, n motion units, at most 255 dots (print801 Command_1B20)
        (ESC, ord(" ")): fixed(1, lambda n: setattr(s, "right_space", min(n * s.unit_x, 255))),
        (ESC, ord("!")): fixed(1, it._print_mode),
        (ESC, ord("E")): fixed(1, lambda n: setattr(s, "bold", bool(n & 1))),
        (ESC, ord("G")): fixed(1, lambda n: setattr(s, "bold", bool(n & 1))),
        (ESC, ord("-")): fixed(1, lambda n: setattr(s, "underline", _ZERO_TO_TWO.get(n, s.underline))),
        (ESC, ord("a")): fixed(1, lambda n: setattr(s, "align", _ZERO_TO_TWO.get(n, s.align))),
        (ESC, ord("M")): fixed(1, lambda n: setattr(s, "font", {0: "A", 1: "B", 48: "A", 49: "B"}.get(n, s.font))),
        (ESC, ord("t")): fixed(1, it._codepage),
        (ESC, ord("2")): fixed(0, lambda: setattr(s, "line_spacing", 32)),
        (ESC, ord("3")): fixed(1, lambda n: setattr(s, "line_spacing", n * s.unit_y)),
        (ESC, ord("1")): fixed(1, lambda n: setattr(s, "line_spacing", n)),
        (ESC, ord("$")): fixed(2, it._absolute),
        (ESC, ord("\\")): fixed(2, it._relative),
        (ESC, ord("f")): it._esc_f,
        (ESC, ord("K")): it._k_image,
        (ESC, 0x13): it._k_image,
        (GS, ord("P")): fixed(2, it._motion_units),
        (ESC, ord("Z")): it._esc_z,
        (GS, ord("Z")): fixed(1, lambda n: setattr(it, "_type_2d", n if n < 3 else it._type_2d)),
        (ESC, ord("d")): fixed(1, it._feed_lines),
        (ESC, ord("J")): fixed(1, lambda n: it._flush_line(advance=n)),
        (ESC, ord("B")): fixed(2, it._beep),
        (ESC, ord("C")): fixed(3, it._alarm),
        (ESC, ord("v")): fixed(0, it._send_asb),
        (ESC, ord("i")): fixed(0, lambda: it._cut("partial", None, "ESC i")),
        (ESC, ord("m")): fixed(0, lambda: it._cut("partial", None, "ESC m")),
        (ESC, ord("D")): it._tab_stops,
        (ESC, ord("{")): it._upside_down,
        (ESC, ord("*")): it._column_image,
        (GS, ord("!")): fixed(1, it._char_size),
        (GS, ord("B")): fixed(1, lambda n: setattr(s, "inverse", bool(n & 1))),
        (GS, ord("V")): it._gs_cut,
        (GS, ord("v")): it._raster,
        (GS, ord("(")): it._gs_paren,
        (GS, ord("k")): it._barcode_cmd,
        (GS, ord("h")): fixed(1, lambda n: setattr(it._barcode, "height", n or 162)),
        (GS, ord("w")): fixed(1, lambda n: setattr(it._barcode, "width", n if 2 <= n <= 6 else it._barcode.width)),
        (GS, ord("H")): fixed(1, lambda n: setattr(it._barcode, "hri", n & 3)),
        (GS, ord("f")): fixed(1, lambda n: setattr(it._barcode, "hri_font", n & 1)),
        (GS, ord("a")): fixed(1, it._set_asb),
        (GS, ord("L")): fixed(
            2, lambda lo, hi: setattr(s, "left_margin", min((lo + 256 * hi) * s.unit_x, it.width_dots))
        ),
        (GS, ord("W")): fixed(
            2,
            lambda lo, hi: setattr(s, "print_width", min((lo + 256 * hi) * s.unit_x, it.width_dots) or it.width_dots),
        ),
        (GS, ord("r")): fixed(1, it._transmit_status),
        (FS, ord("&")): fixed(0, lambda: setattr(s, "chinese", True)),
        # the double-byte characters' size (print801 fs.c Command_1C21, 1C55-1C58)
        (FS, ord("!")): fixed(1, lambda n: it._hz_size(2 if n & 0x04 else 1, 2 if n & 0x08 else 1)),
        (FS, ord("W")): fixed(1, lambda n: it._hz_size((n & 1) + 1, (n & 1) + 1)),
        (FS, ord("U")): fixed(1, lambda n: it._hz_size(n & 0x0F, 0)),
        (FS, ord("V")): fixed(1, lambda n: it._hz_size(0, n & 0x0F)),
        (FS, ord("X")): fixed(2, lambda w, h: it._hz_size(w & 0x0F, h & 0x0F)),
        (FS, ord(".")): fixed(0, lambda: setattr(s, "chinese", False)),
        (FS, ord("p")): fixed(2, lambda n, m: it._op("nv_logo", image=n, mode=m)),
        (DLE, 0x04): fixed(1, lambda n: it._op("status_request", n=n)),
        (US, 0x1B): it._vendor,
    }
    t.update({key: fixed(n, lambda *args: None) for key, n in IGNORED.items()})
    t.update(more_commands(it, fixed))
    return t
