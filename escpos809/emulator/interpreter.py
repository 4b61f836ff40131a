"""ESC/POS bytes → operations and printer state, as an OCPP-809-family printer would see them.

Written from ../shared/reference/ocpp809-commands.md with its own command table: it does not
import the encoder, so the two check each other. Unknown or truncated commands are recorded
(a real printer prints garbage) and never stop the interpreter.

Standalone, operations collect in ``ops``. The virtual printer's mechanism sets ``sink`` (each
operation is handed over as it is made, so nothing piles up) and ``on_transmit_status`` (``GS r``
is answered when the paper has caught up, not when it is parsed).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..paper.ops import Cell, Op
from .extras import MACRO_MAX, ExtraHandlers
from .firmware import Firmware
from .handlers import NEED_MORE, CodeHandlers, decode_code128
from .lines import LineHandlers
from .state import (
    BARCODE_NAMES,
    EXTRA_CODEPAGES,
    XPRINTER_CODEPAGES,
    BarcodeSettings,
    Faults,
    Network,
    QRSettings,
    RealtimeScanner,
    Style,
)
from .symbols import SymbolHandlers
from .table import build_table

__all__ = [
    "Interpreter",
    "read_bytes",
    "RealtimeScanner",
    "Faults",
    "Style",
    "Network",
    "NEED_MORE",
    "XPRINTER_CODEPAGES",
    "BARCODE_NAMES",
    "decode_code128",
]

ESC, GS, FS, DLE, US = 0x1B, 0x1D, 0x1C, 0x10, 0x1F
_PRINTABLE = re.compile(rb"[\x20-\x7e]+")
_CELL_CACHE_MAX = 65536
# what a cell's look depends on: font, bold, underline, width, height, inverse, double_byte
_StyleKey = tuple[str, bool, int, int, int, bool, bool]


class Interpreter(LineHandlers, SymbolHandlers, ExtraHandlers, CodeHandlers):
    """Feed it bytes as they arrive; it appends :class:`Op` s to ``ops`` (or hands them to
    ``sink``) and answers requests through ``reply`` (bytes back to the host)."""

    def __init__(
        self,
        width_dots: int = 576,
        fonts: dict[str, tuple[int, int]] | None = None,
        codepages: dict[int, str] | None = None,
        reply: Callable[[bytes], None] | None = None,
        chinese_after_init: bool = True,
        firmware: Firmware | None = None,
    ):
        self.width_dots = width_dots
        self.fonts = fonts or {"A": (12, 24), "B": (9, 17)}
        self.reply = reply or (lambda data: None)
        # without a firmware variant: the pages the model profile lists and those the printer has
        # beyond them (EXTRA_CODEPAGES), and the profile's Chinese-mode setting, as before
        self.firmware = firmware or Firmware(
            codepages={**EXTRA_CODEPAGES, **codepages} if codepages else XPRINTER_CODEPAGES,
            chinese_at_power_on=chinese_after_init,
        )
        self.codepages = dict(self.firmware.codepages)
        self.chinese_after_init = self.firmware.chinese_at_power_on
        self.faults = Faults()
        self.network = Network()
        self.ops: list[Op] = []
        self.sink: Callable[[Op], None] | None = None
        self.on_transmit_status: Callable[[int], None] | None = None
        self.y = 0  # paper advanced so far, in dots (kept across resets)
        self.style = Style(print_width=width_dots)
        self._cells: dict[_StyleKey, dict[str, Cell]] = {}
        self._cell_count = 0
        self._table = build_table(self)
        self.reset()

    def reset(self) -> None:
        """Power-on state: print modes, line buffer and receive buffer cleared. Faults (the
        physical state), network settings (NV memory) and the paper position stay."""
        self.asb = 0
        self._buf = bytearray()
        self._skip = 0  # data bytes of a command to read past (an oversize image)
        self._scanner = RealtimeScanner()
        # the handlers hold this Style object: reset it in place
        vars(self.style).update(vars(Style(print_width=self.width_dots, chinese=self.chinese_after_init)))
        self._line: list[Cell] = []
        self._line_align = 0
        self._line_dots = 0
        self._line_h = 0  # tallest cell (or image) in the line buffer
        self._line_images: list[dict[str, Any]] = []  # ESC * columns waiting in the line
        self._overprinted = False  # the line went back (ESC $): its parts are drawn over each other
        self._tabs: list[int] = self._default_tabs()
        self._barcode = BarcodeSettings()
        self._disabled = False  # ESC = 2
        self._cut_mode = 4  # GS V c: the driver cut form's mode (4 = partial)
        self._macro: bytearray | None = None  # GS : … being defined
        self._macro_stored = b""
        self._download: tuple[int, int, bytes] | None = None  # GS * x y data
        self._qr = QRSettings()
        self._pdf417: dict[str, int | bytes] = {}
        self._type_2d = 2  # GS Z: the power-on value is not in the source we have (unsure)

    # --- input ------------------------------------------------------------------------------------
    @property
    def paused(self) -> bool:
        """A printer with no paper or an open cover stops printing; data waits in its buffer."""
        return self.faults.paused

    @property
    def pending(self) -> int:
        """Bytes received but not yet processed."""
        return len(self._buf)

    def pending_is_status_only(self) -> bool:
        """True when what waits in the buffer is only status traffic (``DLE EOT n``, already
        answered on arrival, and ``GS a n``): nothing that would put ink on paper."""
        rest = re.sub(rb"\x10\x04[\x01-\x04]|\x1da[\x00-\xff]", b"", bytes(self._buf))
        return not rest

    def feed(self, data: bytes) -> None:
        """Take bytes from the host: real-time requests are answered at once (as the firmware
        does in its receive interrupt), the rest is processed unless the printer is paused."""
        self.receive(data)
        self.process()

    def receive(self, data: bytes) -> None:
        """Take bytes into the receive buffer without printing them yet; real-time requests
        among them are answered now."""
        for n in self._scanner.scan(data):
            if not self.faults.silent and self.firmware.answers_to("dle-eot"):
                self.reply(bytes([self.status_byte(n)]))
        self._buf += data

    def take(self, data: bytes) -> None:
        """Take bytes whose real-time requests were answered already (by the connection)."""
        self._buf += data

    def drop_pending(self) -> int:
        """Forget the bytes not processed yet; how many there were."""
        n = len(self._buf)
        self._buf.clear()
        self._skip = 0
        return n

    def process(self) -> None:
        """Process what is in the buffer, up to an incomplete command or a pause."""
        buf = self._buf
        i = 0
        try:
            while i < len(buf) and not self.paused:
                start = i
                if self._disabled:
                    n = self._while_disabled(buf, i)
                    if n == NEED_MORE:
                        break
                    i += n
                elif self._skip:
                    n = min(self._skip, len(buf) - i)
                    self._skip -= n
                    i += n
                elif 0x20 <= buf[i] < 0x7F:  # a run of ASCII text: the bulk of most jobs
                    run = _PRINTABLE.match(buf, i)
                    assert run is not None  # buf[i] is printable: the run has at least that byte
                    i += self._add_run(run.group().decode("ascii"))
                else:
                    n = self._step(buf, i)
                    if n == NEED_MORE:
                        break
                    i += n
                if self._macro is not None and len(self._macro) <= MACRO_MAX + 2:
                    self._macro += buf[start:i]
        finally:
            del buf[:i]

    def finish(self) -> None:
        """End of a job (connection closed): report a command the host left unfinished."""
        self.process()
        if self._buf and not self.paused:
            self._op("truncated", bytes=bytes(self._buf[:32]).hex(" "), length=len(self._buf))
            self._buf.clear()
        if self._skip and not self.paused:
            self._op("truncated", bytes="", length=0, reason=f"{self._skip} image bytes never came")
            self._skip = 0
        self._flush_line()

    # --- status -------------------------------------------------------------------------------------
    def status_byte(self, n: int) -> int:
        """``DLE EOT n`` reply from the current faults (§11 bit tables)."""
        return self.faults.status_byte(n)

    def asb_bytes(self) -> bytes:
        """The 4 automatic-status-back bytes (``ESC v`` on port 4000, ``GS a`` pushes)."""
        return self.faults.asb_bytes()

    # --- helpers ------------------------------------------------------------------------------------
    def _op(self, kind: str, height: int = 0, **args: Any) -> Op:
        op = Op(kind, args, self.y, height)
        if height:
            self._advance(height)
        if self.sink is not None:
            self.sink(op)
        else:
            self.ops.append(op)
        return op

    def _advance(self, dots: int) -> None:
        self.y += dots
        f = self.faults
        if f.paper_mm is not None:
            f.paper_mm -= dots * 25.4 / 203
            if f.paper_mm <= 0:
                f.paper_mm, f.paper_out = 0.0, True
            elif f.paper_mm <= f.near_end_mm:
                f.paper_near_end = True

    def _flush_line(self, advance: int | None = None) -> None:
        """Print the line buffer; ``advance`` overrides the line feed amount (ESC J)."""
        if not self._line:
            if advance is not None and advance:
                self._op("feed", height=advance, dots=advance)
            return
        cell_h = self._line_h
        height = max(cell_h, self.style.line_spacing) if advance is None else cell_h + advance
        turned = {"upside_down": True, "rows": cell_h} if self.style.upside_down else {}
        if self._overprinted:  # ESC $ / ESC \ went back in this line: drawn over its first part
            turned["overprint"], self._overprinted = True, False
        text = any(not c.advance for c in self._line)
        images = bool(self._line_images)
        if images:  # before the line is reset: they are placed in it
            self._images_of_line(cell_h, 0 if text else height, turned)
        line, self._line, self._line_dots, self._line_h = self._line, [], 0, 0
        if text:
            self._op(
                "text",
                height=height,
                cells=line,
                align=self._line_align,
                left=self.style.left_margin,
                area=self.style.print_width,
                **turned,
            )
        elif not images:  # only blanks (ESC $ then LF): paper moves
            self._op("feed", height=height, dots=height)

    def _line_dots_pending(self) -> bool:
        """Whether the line buffer holds anything to print."""
        return bool(self._line)

    def _cell(self, ch: str, double_byte: bool = False) -> Cell:
        """The (shared, immutable) cell for ``ch`` in the current style."""
        s = self.style
        # GB18030 / BIG5 characters have their own size (GS !, FS !, FS W …): ESC ! leaves it
        w, h = (s.hz_width, s.hz_height) if double_byte else (s.width, s.height)
        cells = self._style_cells((s.font, s.bold, s.underline, w, h, s.inverse, double_byte))
        cell = cells.get(ch)
        if cell is None:
            cell = cells[ch] = Cell(ch, s.font, s.bold, s.underline, w, h, s.inverse, double_byte)
            self._cell_count += 1
        return cell

    def _style_cells(self, key: _StyleKey) -> dict[str, Cell]:
        cells = self._cells.get(key)
        if cells is None:
            if self._cell_count >= _CELL_CACHE_MAX:  # many styles x many characters: start again
                self._cells.clear()
                self._cell_count = 0
            cells = self._cells[key] = {}
        return cells

    def _add_char(self, ch: str, double_byte: bool = False) -> None:
        s = self.style
        cell = self._cell(ch, double_byte)
        if not self._line:
            self._line_align = s.align
        w, h = cell.dots(self.fonts)
        if self._line_dots + w > min(s.print_width, self.width_dots - s.left_margin):
            self._flush_line()  # the printer wraps a full line
            self._line_align = s.align
        self._line.append(cell)
        self._line_dots += w
        self._line_h = max(self._line_h, h)
        if s.right_space and not double_byte:  # ESC SP: blank after each character, scaled with it
            self._gap(min(s.right_space * s.width, self._line_room() - self._line_dots))

    def _add_run(self, text: str) -> int:
        """Single-byte characters in one style, a line at a time; returns how many were taken
        (fewer when the paper runs out at a wrap: the rest waits in the buffer)."""
        s = self.style
        if s.right_space:  # character spacing: one at a time (rare; the fast path has none)
            for k, ch in enumerate(text):
                self._add_char(ch)
                if self.paused:
                    return k + 1
            return len(text)
        w = self.fonts[s.font][0] * s.width
        limit = min(s.print_width, self.width_dots - s.left_margin)
        i, n = 0, len(text)
        while i < n:
            if not self._line:
                self._line_align = s.align
            elif self._line_dots + w > limit:
                self._flush_line()  # the printer wraps a full line
                self._line_align = s.align
                if self.paused:
                    return i
            room = max(1, (limit - self._line_dots) // w)
            part = text[i : i + room]
            cells = self._style_cells((s.font, s.bold, s.underline, s.width, s.height, s.inverse, False))
            self._line.extend([cells.get(ch) or self._cell(ch) for ch in part])
            self._line_dots += w * len(part)
            self._line_h = max(self._line_h, self.fonts[s.font][1] * s.height)
            i += len(part)
        return n

    def _text_byte(self, buf: bytearray, i: int) -> int:
        b = buf[i]
        if self.style.chinese and b >= 0x81:
            if i + 1 >= len(buf):
                return NEED_MORE
            pair = bytes(buf[i : i + 2])
            try:
                self._add_char(pair.decode("big5" if self.style.big5 else "gb18030"), double_byte=True)
                return 2
            except UnicodeDecodeError:
                self._add_char("?")
                return 1
        if b < 0x80:
            self._add_char(chr(b))
            return 1
        codec = self.codepages.get(self.style.codepage)
        try:
            ch = bytes([b]).decode(codec) if codec else "?"
        except (UnicodeDecodeError, LookupError):
            ch = "?"
        self._add_char(ch)
        return 1

    def _step(self, buf: bytearray, i: int) -> int:
        b = buf[i]
        if b == 0x0A:
            if not self._line:
                self._op("feed", height=self.style.line_spacing, dots=self.style.line_spacing)
            self._flush_line()
            return 1
        if b == 0x0D:
            return 1
        if b == 0x09:
            # HT: spaces up to the next stop (in dots); past the last stop it does nothing
            nxt = next((t for t in self._tabs if t > self._line_dots), None)
            while nxt is not None and self._line_dots < nxt:
                before = self._line_dots
                self._add_char(" ")
                if self._line_dots <= before:  # the line wrapped: the stop is behind us
                    break
            return 1
        if b in (ESC, GS, FS, DLE, US):
            if i + 1 >= len(buf):
                return NEED_MORE
            handler = self._table.get((b, buf[i + 1]))
            if handler is None:
                self._op("unknown", bytes=bytes(buf[i : i + 2]).hex(" "))
                return 2
            return handler(buf, i)
        if b < 0x20:
            self._op("unknown", bytes=f"{b:02x}")
            return 1
        return self._text_byte(buf, i)


def read_bytes(
    data: bytes,
    width_dots: int = 576,
    fonts: dict[str, tuple[int, int]] | None = None,
    codepages: dict[int, str] | None = None,
    chinese: bool = True,
    max_dots: int | None = None,
) -> tuple[list[Op], int]:
    """What the printer prints for ``data``, from a fresh power-on: its operations and the
    paper it advanced (dots). ``chinese=False``: start in single-byte mode (as after ``FS .``)
    and stay there after ``ESC @``. The preview reads raw bytes through this. With
    ``max_dots``, reading stops soon after the paper passes it (the caller sees more advanced
    than it allowed), so a long job is not held whole as operations."""
    it = Interpreter(width_dots, fonts, codepages, chinese_after_init=chinese)
    if not chinese:
        it.style.chinese = False
    step = len(data) if max_dots is None else 16 * 1024
    for at in range(0, len(data), step or 1):
        it.feed(data[at : at + step])
        if max_dots is not None and it.y > max_dots:
            return it.ops, it.y
    it.finish()
    return it.ops, it.y
