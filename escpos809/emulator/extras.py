"""The rest of what print801 reads: printer select (``ESC =``), macros (``GS :`` / ``GS ^``),
downloaded and variable-height bit images (``GS *`` / ``GS /``, ``GS Q 0``), IDs and counters
(``GS I``, ``GS g``), sensors (``ESC c``), user-defined characters (``ESC &``, ``FS 2``), NV
images (``FS q``), the character size commands of the Weihuang set (``ESC W`` / ``ESC X``),
``ESC l``, ``ESC u``, the variable-length ``ESC p`` and the driver cut forms of ``GS V``. A
mixin of :class:`~escpos809.emulator.interpreter.Interpreter`; :func:`more_commands` puts them
in the command table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .state import Faults, Style

if TYPE_CHECKING:
    from ..paper.ops import Op
    from .firmware import Firmware
    from .interpreter import Interpreter

NEED_MORE = -1
ESC, GS, FS = 0x1B, 0x1D, 0x1C
MACRO_MAX = 2048  # bytes a macro holds (print801 gs.c, Command_1D3A)
DOWNLOAD_MAX = 6144  # GS * x·y·8 bytes; the source's limit is a constant we do not have (unsure)
#: GS I n -> the firmware's reply: one byte (1-4, 48-52) or "_" + text + NUL (65-69, 111-113)
#: (print801 Command_1D49). The texts of 65-68 are this model's, not in the source (unsure).
PRINTER_IDS: dict[int, bytes] = {
    0: b"\x00",
    48: b"\x00",
    1: b"\x20",
    49: b"\x20",
    3: b"\x01",
    51: b"\x01",
    4: b"\x00",
    52: b"\x00",
    65: b"_V1.0\x00",
    66: b"_OCOM\x00",
    67: b"_OCPP-809\x00",
    68: b"_000000000001\x00",
    69: b"_CHINA GB18030\x00",
    111: b"_@FDH\x00",
    112: b"_0\x00",
    113: b"_1\x00",
}


class ExtraHandlers:
    """Handlers of :func:`more_commands`."""

    width_dots: int
    fonts: dict[str, tuple[int, int]]
    style: Style
    faults: Faults
    firmware: Firmware
    reply: Callable[[bytes], None]
    _line: list[Any]
    _disabled: bool
    _macro: bytearray | None
    _macro_stored: bytes
    _download: tuple[int, int, bytes] | None

    if TYPE_CHECKING:

        def _op(self, kind: str, height: int = 0, **args: Any) -> Op: ...

        def _flush_line(self, advance: int | None = None) -> None: ...

        def _cut(self, mode: str, feed: int | None, command: str) -> None: ...

        def _bad(self, buf: bytearray, i: int, n: int, why: str) -> int: ...

        def _drawer(self, m: int, t1: int, t2: int) -> None: ...

    # --- printer select, macros ---------------------------------------------------------------------
    def _select(self, n: int) -> None:
        """``ESC = n``: n = 2 disables the printer until ``ESC = 1`` or ``3`` (print801
        ``Command_1B3D``, Epson's values); :meth:`_while_disabled` drops the bytes meanwhile."""
        if n in (2, 0x32):
            self._disabled = True
            self._op("printer_select", enabled=False)

    def _while_disabled(self, buf: bytearray, i: int) -> int:
        """Bytes a disabled printer drops, up to and including the ``ESC =`` that enables it."""
        j = i
        while (j := buf.find(b"\x1b=", j)) != -1:
            if j + 2 >= len(buf):
                return j - i if j > i else NEED_MORE
            if buf[j + 2] in (1, 3, 0x31, 0x33):
                self._disabled = False
                self._op("printer_select", enabled=True, dropped=j - i)
                return j + 3 - i
            j += 2
        keep = 1 if buf.endswith(b"\x1b") else 0  # an ESC = split across reads
        return len(buf) - keep - i if len(buf) - keep > i else NEED_MORE

    def _macro_mark(self) -> None:
        """``GS :``: start a macro, or end the one being defined (without its closing GS :)."""
        if self._macro is None:
            self._macro = bytearray()
            return
        body = bytes(self._macro[2:])  # the opening GS : was recorded with it
        self._macro, self._macro_stored = None, body[:MACRO_MAX]

    def _macro_run(self, buf: bytearray, i: int) -> int:
        """``GS ^ r t m``: the macro, r times, goes into the buffer after the command (the waits
        t x 100 ms and, m = 1, for the feed button are not made: the virtual printer has none)."""
        if i + 5 > len(buf):
            return NEED_MORE
        r = buf[i + 2]
        if self._macro is not None:  # received while defining: the definition is dropped
            self._macro, self._macro_stored = None, b""
        elif r and self._macro_stored:
            buf[i + 5 : i + 5] = self._macro_stored * r
            self._op("macro", times=r, bytes=len(self._macro_stored))
        return 5

    # --- images --------------------------------------------------------------------------------------
    def _define_download(self, buf: bytearray, i: int) -> int:
        """``GS * x y d…``: x·8 dots by y·8 dots, column format."""
        if i + 4 > len(buf):
            return NEED_MORE
        x, y = buf[i + 2], buf[i + 3]
        size = x * y * 8
        if size > DOWNLOAD_MAX:
            return 4  # refused after x y: the data prints as characters
        if i + 4 + size > len(buf):
            return NEED_MORE
        self._download = (x, y, bytes(buf[i + 4 : i + 4 + size]))
        return 4 + size

    def _print_download(self, buf: bytearray, i: int) -> int:
        """``GS / m``: not defined, the firmware does not read m; m outside 0-3 / 48-51 prints nothing."""
        if self._download is None:
            self._op("warning", message="GS / without a downloaded bit image: m prints as a character")
            return 2
        if i + 3 > len(buf):
            return NEED_MORE
        m = buf[i + 2]
        if m <= 3 or 48 <= m <= 51:
            x, y, data = self._download
            self._flush_line()
            self._image_now(data, y, 1 + (m & 1), 1 + ((m >> 1) & 1), 0, x * 8, "GS /")
        return 3

    def _variable_image(self, buf: bytearray, i: int) -> int:
        """``GS Q 0 m xL xH yL yH d…`` (print801 ``Command_1D51``): at the start of a line only,
        y 1-16 bytes, x up to 12·256 + 255 dots; column format, aligned."""
        if i + 3 > len(buf):
            return NEED_MORE
        if buf[i + 2] != 0x30 or self._line:
            return 3
        if i + 8 > len(buf):
            return NEED_MORE
        m, x, yl, yh = buf[i + 3], buf[i + 4] + 256 * buf[i + 5], buf[i + 6], buf[i + 7]
        if not (m <= 3 or 48 <= m <= 51):
            return 4
        if buf[i + 5] > 12:
            return 6
        if not (1 <= yl <= 16 and yh == 0):
            return 8
        if i + 8 + x * yl > len(buf):
            return NEED_MORE
        sy = 1 if yl > 12 else 1 + ((m >> 1) & 1)  # a tall image is not doubled (edit buffer)
        self._image_now(bytes(buf[i + 8 : i + 8 + x * yl]), yl, 1 + (m & 1), sy, self.style.align, x, "GS Q 0")
        return 8 + x * yl

    def _image_now(self, data: bytes, per_col: int, sx: int, sy: int, align: int, cols: int, command: str) -> None:
        """A column-format image printed at once as its own line, clipped to the print area."""
        s = self.style
        area = min(s.print_width, self.width_dots - s.left_margin)
        fit = min(cols, area // sx)
        height = 8 * per_col * sy
        self._op(
            "column_image",
            height=max(height, s.line_spacing) if command == "GS Q 0" else height,
            mode=command,
            data=data[: fit * per_col],
            per_col=per_col,
            sx=sx,
            sy=sy,
            x=0,
            align=align,
            left=s.left_margin,
            area=s.print_width,
            line_width=fit * sx,
            drop=0,
            columns=fit,
        )

    def _nv_define(self, buf: bytearray, i: int) -> int:
        """``FS q n [xL xH yL yH d…]…``: read (the images are not kept: ``FS p`` is recorded only)."""
        if i + 3 > len(buf):
            return NEED_MORE
        j = i + 3
        for _ in range(buf[i + 2]):
            if j + 4 > len(buf):
                return NEED_MORE
            j += 4 + (buf[j] + 256 * buf[j + 1]) * (buf[j + 2] + 256 * buf[j + 3]) * 8
        if j > len(buf):
            return NEED_MORE
        self._op("nv_define", images=buf[i + 2], bytes=j - i)
        return j - i

    # --- the rest --------------------------------------------------------------------------------------
    def _user_chars(self, buf: bytearray, i: int) -> int:
        """``ESC & y c1 c2 [x d…]…`` (print801 ``Command_1B26``): read and not drawn (the built-in
        glyphs print); y other than 3, or a bad code range, ends the command."""
        if i + 3 > len(buf):
            return NEED_MORE
        if buf[i + 2] != 3:
            return 3
        if i + 5 > len(buf):
            return NEED_MORE
        c1, c2 = buf[i + 3], buf[i + 4]
        if not (0x20 <= c1 <= c2 <= 0x7E):
            return 5
        width = self.fonts[self.style.font][0]
        j = i + 5
        for _ in range(c2 - c1 + 1):
            if j >= len(buf):
                return NEED_MORE
            x = buf[j]
            if x > width:
                return j + 1 - i
            j += 1 + 3 * x
        if j > len(buf):
            return NEED_MORE
        return j - i

    def _sensors(self, buf: bytearray, i: int) -> int:
        """``ESC c n [m]`` (print801 ``Command_1B63``): n = 0x30, 0x33, 0x34, 0x35, 0x39 take m."""
        if i + 3 > len(buf):
            return NEED_MORE
        if buf[i + 2] not in (0x30, 0x33, 0x34, 0x35, 0x39):
            return 3
        return NEED_MORE if i + 4 > len(buf) else 4

    def _drawer_cmd(self, buf: bytearray, i: int) -> int:
        """``ESC p m t1 t2``: an m other than 0, 1, 48, 49 is all the firmware reads."""
        if i + 3 > len(buf):
            return NEED_MORE
        if buf[i + 2] not in (0, 1, 48, 49):
            return 3
        if i + 5 > len(buf):
            return NEED_MORE
        self._drawer(buf[i + 2], buf[i + 3], buf[i + 4])
        return 5

    def _printer_id(self, n: int) -> None:
        """``GS I n``: the ID bytes (2 = type: bit 0 double-byte codes, bit 1 cutter)."""
        reply = bytes([0x02 | self.style.chinese]) if n in (2, 50) else PRINTER_IDS.get(n)
        reply = self.firmware.printer_id(n) or reply  # a firmware variant's own ids first
        if reply is not None and not self.faults.silent and self.firmware.answers_to("gs-i"):
            self.reply(reply)

    def _counters(self, buf: bytearray, i: int) -> int:
        """``GS g 0 m nL nH`` (reset a counter) / ``GS g 2 m nL nH`` (send one, as "_" + number +
        NUL); m other than 0 ends the command. The virtual printer counts nothing: 0."""
        if i + 3 > len(buf):
            return NEED_MORE
        if buf[i + 2] not in (0x30, 0x32):
            return 3
        if i + 4 > len(buf):
            return NEED_MORE
        if buf[i + 3] != 0:
            return 4
        if i + 6 > len(buf):
            return NEED_MORE
        if buf[i + 2] == 0x32 and buf[i + 4] in (20, 21, 50, 70, 148, 149, 178, 198) and not self.faults.silent:
            self.reply(b"_0\x00")
        return 6

    def _drawer_status(self, n: int) -> None:
        """``ESC u n``: the drawer sensor (pin 3) for n = 0 / 48."""
        if n in (0, 48) and not self.faults.silent:
            self.reply(bytes([self.faults.drawer_open]))

    def _magnify(self, w: int, h: int) -> None:
        """``ESC W n`` / ``ESC X n1 n2`` (the Weihuang set): character size 1-8 (0 or more: kept)."""
        if 1 <= w & 0x0F <= 8:
            self.style.width = w & 0x0F
        if 1 <= h & 0x0F <= 8:
            self.style.height = h & 0x0F

    def _hz_size(self, w: int, h: int) -> None:
        """The double-byte characters' width and height, 1-8 (0 or more: that one kept)."""
        if 1 <= w <= 8:
            self.style.hz_width = w
        if 1 <= h <= 8:
            self.style.hz_height = h

    def _left_chars(self, n: int) -> None:
        """``ESC l n``: left margin of n characters of font A, at the start of a line only."""
        if not self._line:
            self.style.left_margin = min(n * self.fonts["A"][0], self.width_dots - self.fonts["A"][0])

    def _user_cjk(self, buf: bytearray, i: int) -> int:
        """``FS 2 c1 c2 d1…d72``: the data is read only for codes FE A1-AA (print801 ``Command_1C32``;
        10 characters, the size its manual gives)."""
        if i + 4 > len(buf):
            return NEED_MORE
        if buf[i + 2] == 0xFE and 0xA1 <= buf[i + 3] < 0xA1 + 10:
            return NEED_MORE if i + 4 + 72 > len(buf) else 4 + 72
        return 4


def more_commands(it: Interpreter, fixed: Callable[[int, Callable[..., object]], Any]) -> dict[tuple[int, int], Any]:
    """The table entries of these handlers, for the interpreter ``it``."""
    return {
        (ESC, ord("=")): fixed(1, it._select),
        (ESC, ord("&")): it._user_chars,
        (ESC, ord("c")): it._sensors,
        (ESC, ord("p")): it._drawer_cmd,
        (ESC, ord("u")): fixed(1, it._drawer_status),
        (ESC, ord("W")): fixed(1, lambda n: it._magnify(n, n)),
        (ESC, ord("X")): fixed(2, it._magnify),
        (ESC, ord("l")): fixed(1, it._left_chars),
        (GS, ord(":")): fixed(0, it._macro_mark),
        (GS, ord("^")): it._macro_run,
        (GS, ord("*")): it._define_download,
        (GS, ord("/")): it._print_download,
        (GS, ord("Q")): it._variable_image,
        (GS, ord("I")): fixed(1, it._printer_id),
        (GS, ord("g")): it._counters,
        (GS, ord("S")): fixed(0, lambda: None if it._line else it._cut("partial", None, "GS S")),
        (FS, ord("2")): it._user_cjk,
        (FS, ord("q")): it._nv_define,
        (FS, ord("C")): fixed(1, lambda n: setattr(it.style, "big5", n in (1, 49)) if n in (0, 1, 48, 49) else None),
        (FS, ord("P")): fixed(1, lambda n: it._op("nv_logo", image=n, mode=0, command="FS P")),
    }
