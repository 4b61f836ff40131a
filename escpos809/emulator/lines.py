"""What goes into the line buffer besides characters, as print801's ``esc.c`` / ``gs.c`` do it:
print positions (``ESC $``, ``ESC \\``, ``ESC f 0``, motion units ``GS P``), column images
(``ESC *``, the Weihuang ``ESC K`` / ``ESC DC3``) and upside-down lines (``ESC {``). A mixin
of :class:`~escpos809.emulator.interpreter.Interpreter`.

A column image lands in the line at the print position and is printed with the line (at the
next LF, or when the line is full), so a band of ``ESC *`` and its LF feed the paper once:
max(image height, line spacing). Positions are blanks of so many dots in the line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..paper.ops import Cell
from .state import Style

if TYPE_CHECKING:
    from ..paper.ops import Op

NEED_MORE = -1
#: ESC * m -> (bytes a column, dots a column is drawn wide, dots a bit is drawn tall): the 8-dot
#: modes are stretched to 24 dots (print801 ``Command_1B2A``: "single byte 8 dots zoomed to 24")
COLUMN_MODES = {0: (1, 2, 3), 1: (1, 1, 3), 32: (3, 2, 1), 33: (3, 1, 1)}
#: dots per inch the motion units of GS P divide (print801 ``Command_1D50``: 25.4 / 0.125 mm)
UNIT_BASE = 203.2


class LineHandlers:
    """Print positions and images in the line buffer."""

    width_dots: int
    fonts: dict[str, tuple[int, int]]
    style: Style
    _line: list[Cell]
    _line_dots: int
    _line_h: int
    _line_align: int
    _line_images: list[dict[str, Any]]
    _overprinted: bool

    if TYPE_CHECKING:

        def _op(self, kind: str, height: int = 0, **args: Any) -> Op: ...

        def _flush_line(self, advance: int | None = None) -> None: ...

        def _bad(self, buf: bytearray, i: int, n: int, why: str) -> int: ...

    # --- positions --------------------------------------------------------------------------------
    def _line_room(self) -> int:
        s = self.style
        return min(s.print_width, self.width_dots - s.left_margin)

    def _gap(self, dots: int) -> None:
        """A blank of ``dots`` at the print position (ESC $, ESC \\, ESC f 0, an image's place)."""
        if dots <= 0:
            return
        s = self.style
        if not self._line:
            self._line_align = s.align
        self._line.append(Cell(" ", s.font, height=s.height, advance=dots))
        self._line_dots += dots
        self._line_h = max(self._line_h, self.fonts[s.font][1] * s.height)

    def _move_to(self, target: int, command: str) -> None:
        """Put the print position ``target`` dots from the start of the line."""
        if target >= self._line_dots:
            self._gap(target - self._line_dots)
            return
        # back over the line: the firmware writes on into the same line buffer, over what is
        # there (receiptline draws a table's rules first, then goes back for the cells). What the
        # line holds so far becomes an operation of no height; the rest overprints it.
        s = self.style
        self._op(
            "text", cells=self._line, align=self._line_align, left=s.left_margin, area=s.print_width, overprint=True
        )
        self._line, self._line_dots, self._overprinted = [], 0, True
        self._gap(target)

    def _absolute(self, lo: int, hi: int) -> None:
        """``ESC $ nL nH``: from the paper's left edge, in horizontal motion units; ignored
        outside the print area (print801 ``Command_1B24``)."""
        s = self.style
        pos = (lo + 256 * hi) * s.unit_x
        if s.left_margin <= pos < min(self.width_dots, s.left_margin + self._line_room()):
            self._move_to(pos - s.left_margin, "ESC $")

    def _relative(self, lo: int, hi: int) -> None:
        """``ESC \\ nL nH``: from the print position, a signed 16-bit count of motion units
        (print801 ``Command_1B5C`` adds it modulo 65536 and ignores a result past the line)."""
        s = self.style
        n = lo + 256 * hi
        delta = (n - 65536 if n >= 32768 else n) * s.unit_x
        pos = self._line_dots + delta
        if 0 <= pos and s.left_margin + pos < self.width_dots:
            self._move_to(pos, "ESC \\")

    def _motion_units(self, x: int, y: int) -> None:
        """``GS P x y``: motion units of 1/x and 1/y inch, in whole dots (0: the default, 1 dot)."""
        self.style.unit_x = 1 if x == 0 else max(1, int(UNIT_BASE / x + 0.5))
        self.style.unit_y = 1 if y == 0 else max(1, int(UNIT_BASE / y + 0.5))

    def _esc_f(self, buf: bytearray, i: int) -> int:
        """``ESC f m n`` (print801 ``Command_1B66``): m = 0 moves n dots right, m = 1 feeds n
        lines; any other m is all the command reads."""
        if i + 3 > len(buf):
            return NEED_MORE
        m = buf[i + 2]
        if m not in (0, 1):
            return 3
        if i + 4 > len(buf):
            return NEED_MORE
        n = buf[i + 3]
        if m == 0:
            self._gap(min(n, self._line_room() - self._line_dots))
        else:
            self._flush_line()
            if n:
                self._op("feed", height=n * self.style.line_spacing, dots=n * self.style.line_spacing)
        return 4

    def _upside_down(self, buf: bytearray, i: int) -> int:
        """``ESC { n``: only at the start of a line does the firmware read n (print801
        ``Command_1B7B``); elsewhere the command is two bytes and n prints as a character."""
        if self._line:
            return 2
        if i + 3 > len(buf):
            return NEED_MORE
        self.style.upside_down = bool(buf[i + 2] & 1)
        return 3

    # --- images in the line ---------------------------------------------------------------------
    def _place_image(self, mode: int, data: bytes, per_col: int, sx: int, sy: int) -> None:
        """Columns of ``per_col`` bytes at the print position, each drawn ``sx`` dots wide and
        every bit ``sy`` dots tall; what does not fit the line is dropped, and a full line prints."""
        room = (self._line_room() - self._line_dots) // sx
        cols = len(data) // per_col
        fit = min(cols, max(room, 0))
        if fit:
            image = {"mode": mode, "x": self._line_dots, "data": data[: fit * per_col]}
            self._line_images.append({**image, "per_col": per_col, "sx": sx, "sy": sy})
            height = 8 * per_col * sy
            self._gap(fit * sx)
            self._line_h = max(self._line_h, height)
        if fit < cols:
            self._flush_line()

    def _column_image(self, buf: bytearray, i: int) -> int:
        """``ESC * m nL nH d…`` (print801 ``Command_1B2A``): an m other than 0, 1, 32, 33 ends the
        command (nL, nH and the data print as characters); at most a line of columns is read,
        data beyond it is processed as ordinary bytes."""
        if i + 3 > len(buf):
            return NEED_MORE
        m = buf[i + 2]
        if m not in COLUMN_MODES:
            return self._bad(buf, i, 3, f"ESC * {m}: mode not 0, 1, 32 or 33")
        if i + 5 > len(buf):
            return NEED_MORE
        per_col, sx, sy = COLUMN_MODES[m]
        cols = min(buf[i + 3] + 256 * buf[i + 4], self.style.left_margin + self._line_room(), self.width_dots)
        total = 5 + cols * per_col
        if i + total > len(buf):
            return NEED_MORE
        self._place_image(m, bytes(buf[i + 5 : i + total]), per_col, sx, sy)
        return total

    def _k_image(self, buf: bytearray, i: int) -> int:
        """``ESC K nL nH d…`` / ``ESC DC3 nL nH d…`` (print801 ``Command_1B4B`` / ``1B13``, the
        Weihuang driver's bitmap): 8-dot columns scaled by the character size."""
        if i + 4 > len(buf):
            return NEED_MORE
        n = buf[i + 2] + 256 * buf[i + 3]
        if i + 4 + n > len(buf):
            return NEED_MORE
        if n:
            s = self.style
            self._place_image(buf[i + 1], bytes(buf[i + 4 : i + 4 + n]), 1, s.width, s.height)
        return 4 + n

    def _images_of_line(self, cell_h: int, height: int, turned: dict[str, Any]) -> None:
        """The line's images, as operations at its top. ``height``: the paper the line feeds,
        carried by the last image when the line has no characters (else the line's text
        operation feeds it); ``turned``: the upside-down arguments, likewise."""
        images, self._line_images = self._line_images, []
        s = self.style
        for n, im in enumerate(images):
            last = n == len(images) - 1 and height > 0
            self._op(
                "column_image",
                height=height if last else 0,
                align=self._line_align,
                left=s.left_margin,
                area=s.print_width,
                line_width=self._line_dots,
                drop=cell_h - 8 * im["per_col"] * im["sy"],  # images sit on the line's baseline
                columns=len(im["data"]) // im["per_col"],
                **im,
                **(turned if last else {}),
            )
