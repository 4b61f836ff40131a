"""ESC/POS bytes → operations and printer state, as an OCPP-809-family printer would see them.

Written from ../shared/reference/ocpp809-commands.md with its own command table: it does not
import the encoder, so the two check each other. Unknown or truncated commands are recorded
(a real printer prints garbage) and never stop the interpreter.
"""

from __future__ import annotations

import re

import ipaddress
from dataclasses import dataclass
from typing import Callable

from .ops import Cell, Op

NEED_MORE = -1
ESC, GS, FS, DLE, US = 0x1B, 0x1D, 0x1C, 0x10, 0x1F

# code page n -> Python codec, the Xprinter/Zjiang table (§3); pages without a codec print as '?'
XPRINTER_CODEPAGES = {0: "cp437", 2: "cp850", 3: "cp860", 4: "cp863", 5: "cp865", 16: "cp1252",
                      17: "cp866", 18: "cp852", 19: "cp858", 25: "cp1257", 28: "cp864",
                      32: "cp1255", 33: "cp1256"}
BARCODE_NAMES = {0: "upca", 1: "upce", 2: "ean13", 3: "ean8", 4: "code39", 5: "itf", 6: "codabar",
                 65: "upca", 66: "upce", 67: "ean13", 68: "ean8", 69: "code39", 70: "itf", 71: "codabar",
                 72: "code93", 73: "code128"}


@dataclass
class Faults:
    """Conditions a test or user injects; the status replies follow them."""

    cover_open: bool = False
    cutter_error: bool = False
    paper_near_end: bool = False
    paper_out: bool = False
    silent: bool = False          # no status replies at all
    drawer_open: bool = False     # drawer sensor (pin 3) high
    paper_mm: float | None = None  # paper left; None = endless roll
    near_end_mm: float = 50.0


@dataclass
class Style:
    font: str = "A"
    bold: bool = False
    underline: int = 0
    width: int = 1
    height: int = 1
    inverse: bool = False
    align: int = 0
    line_spacing: int = 32
    left_margin: int = 0
    print_width: int = 576
    codepage: int = 0
    chinese: bool = True  # Xprinter-family units power on in GB18030 mode (§1)


@dataclass
class Network:
    ip: str = "192.168.1.100"
    mask: str = "255.255.255.0"
    gateway: str = "192.168.1.1"
    dhcp: bool = False
    mac: str = "00:2E:80:09:00:01"


class Interpreter:
    """Feed it bytes as they arrive; it appends :class:`Op` s to ``ops`` and answers real-time
    requests through ``reply`` (bytes back to the host)."""

    def __init__(self, width_dots: int = 576, fonts: dict[str, tuple[int, int]] | None = None,
                 codepages: dict[int, str] | None = None, reply: Callable[[bytes], None] | None = None,
                 chinese_after_init: bool = True):
        self.width_dots = width_dots
        self.fonts = fonts or {"A": (12, 24), "B": (9, 17)}
        self.codepages = codepages or XPRINTER_CODEPAGES
        self.reply = reply or (lambda data: None)
        self.chinese_after_init = chinese_after_init
        self.faults = Faults()
        self.network = Network()
        self.ops: list[Op] = []
        self.y = 0                      # paper advanced so far, in dots
        self.asb = 0
        self._buf = bytearray()
        self._rt_tail = b""
        self.style = Style(print_width=width_dots)
        self._line: list[Cell] = []
        self._line_align = 0
        self._line_dots = 0
        self._tabs: list[int] = self._default_tabs()
        self._barcode = {"height": 162, "width": 3, "hri": 0, "hri_font": 0}
        self._qr = {"model": 2, "size": 3, "ec": "L", "data": b""}
        self._table = self._build_table()

    # --- input ------------------------------------------------------------------------------------
    @property
    def paused(self) -> bool:
        """A printer with no paper or an open cover stops printing; data waits in its buffer."""
        return self.faults.paper_out or self.faults.cover_open

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
        self._answer_realtime(data)
        self._buf += data

    def process(self) -> None:
        i = 0
        buf = self._buf
        while i < len(buf) and not self.paused:
            n = self._step(buf, i)
            if n == NEED_MORE:
                break
            i += n
        del buf[:i]

    def finish(self) -> None:
        """End of a job (connection closed): report a command the host left unfinished."""
        self.process()
        if self._buf and not self.paused:
            self._op("truncated", bytes=bytes(self._buf[:32]).hex(" "), length=len(self._buf))
            self._buf.clear()
        self._flush_line()

    # --- real-time status -------------------------------------------------------------------------
    def _answer_realtime(self, data: bytes) -> None:
        scan = self._rt_tail + data
        start = 0
        while (j := scan.find(b"\x10\x04", start)) != -1 and j + 2 < len(scan):
            if j + 2 >= len(self._rt_tail):  # not answered already in an earlier chunk
                n = scan[j + 2]
                if 1 <= n <= 4 and not self.faults.silent:
                    self.reply(bytes([self.status_byte(n)]))
            start = j + 1
        self._rt_tail = scan[-2:]

    def status_byte(self, n: int) -> int:
        """``DLE EOT n`` reply from the current faults (§11 bit tables)."""
        f, b = self.faults, 0x12
        if n == 1:
            b |= 0x04 * f.drawer_open | 0x08 * (f.cover_open or f.paper_out or f.cutter_error)
        elif n == 2:
            b |= 0x04 * f.cover_open | 0x20 * f.paper_out | 0x40 * f.cutter_error
        elif n == 3:
            b |= 0x08 * f.cutter_error
        elif n == 4:
            b |= 0x0C * (f.paper_near_end or f.paper_out) | 0x60 * f.paper_out
        return b

    def asb_bytes(self) -> bytes:
        """The 4 automatic-status-back bytes (``ESC v`` on port 4000, ``GS a`` pushes)."""
        f = self.faults
        a = 0x10 | 0x04 * f.drawer_open | 0x08 * (f.cover_open or f.paper_out or f.cutter_error) | 0x20 * f.cover_open
        b = 0x08 * f.cutter_error
        c = 0x03 * (f.paper_near_end or f.paper_out) | 0x0C * f.paper_out
        return bytes([a, b, c, 0x0F])

    # --- helpers ------------------------------------------------------------------------------------
    def _op(self, kind: str, height: int = 0, **args) -> Op:
        op = Op(kind, args, self.y, height)
        self.ops.append(op)
        if height:
            self._advance(height)
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
        cell_h = max(c.dots(self.fonts)[1] for c in self._line)
        height = max(cell_h, self.style.line_spacing) if advance is None else cell_h + advance
        self._op("text", height=height, cells=self._line, align=self._line_align,
                 left=self.style.left_margin, area=self.style.print_width)
        self._line = []
        self._line_dots = 0

    def _add_char(self, ch: str, double_byte: bool = False) -> None:
        s = self.style
        cell = Cell(ch, s.font, s.bold, s.underline, s.width, s.height, s.inverse, double_byte)
        if not self._line:
            self._line_align = s.align
        w = cell.dots(self.fonts)[0]
        if self._line_dots + w > min(s.print_width, self.width_dots - s.left_margin):
            self._flush_line()  # the printer wraps a full line
            self._line_align = s.align
        self._line.append(cell)
        self._line_dots += w

    def _text_byte(self, buf: bytearray, i: int) -> int:
        b = buf[i]
        if self.style.chinese and b >= 0x81:
            if i + 1 >= len(buf):
                return NEED_MORE
            pair = bytes(buf[i:i + 2])
            try:
                self._add_char(pair.decode("gb18030"), double_byte=True)
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
        except UnicodeDecodeError:
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
                self._op("unknown", bytes=bytes(buf[i:i + 2]).hex(" "))
                return 2
            return handler(buf, i)
        if b < 0x20:
            self._op("unknown", bytes=f"{b:02x}")
            return 1
        return self._text_byte(buf, i)

    # --- command table ------------------------------------------------------------------------------
    def _build_table(self) -> dict[tuple[int, int], Callable[[bytearray, int], int]]:
        def fixed(nargs: int, apply: Callable[..., None]):
            def handler(buf, i):
                if i + 2 + nargs > len(buf):
                    return NEED_MORE
                apply(*buf[i + 2:i + 2 + nargs])
                return 2 + nargs
            return handler

        s = self.style
        t = {
            (ESC, ord("@")): fixed(0, self._init),
            (ESC, ord("!")): fixed(1, self._print_mode),
            (ESC, ord("E")): fixed(1, lambda n: setattr(s, "bold", bool(n & 1))),
            (ESC, ord("G")): fixed(1, lambda n: setattr(s, "bold", bool(n & 1))),
            (ESC, ord("-")): fixed(1, lambda n: setattr(s, "underline", {0: 0, 1: 1, 2: 2, 48: 0, 49: 1, 50: 2}.get(n, s.underline))),
            (ESC, ord("a")): fixed(1, lambda n: setattr(s, "align", {0: 0, 1: 1, 2: 2, 48: 0, 49: 1, 50: 2}.get(n, s.align))),
            (ESC, ord("M")): fixed(1, lambda n: setattr(s, "font", {0: "A", 1: "B", 48: "A", 49: "B"}.get(n, s.font))),
            (ESC, ord("t")): fixed(1, self._codepage),
            (ESC, ord("2")): fixed(0, lambda: setattr(s, "line_spacing", 32)),
            (ESC, ord("3")): fixed(1, lambda n: setattr(s, "line_spacing", n)),
            (ESC, ord("d")): fixed(1, self._feed_lines),
            (ESC, ord("J")): fixed(1, lambda n: self._flush_line(advance=n)),
            (ESC, ord("p")): fixed(3, self._drawer),
            (ESC, ord("B")): fixed(2, self._beep),
            (ESC, ord("C")): fixed(3, self._alarm),
            (ESC, ord("v")): fixed(0, lambda: self.faults.silent or self.reply(self.asb_bytes())),
            (ESC, ord("i")): fixed(0, lambda: self._cut("partial", None, "ESC i")),
            (ESC, ord("m")): fixed(0, lambda: self._cut("partial", None, "ESC m")),
            (ESC, ord("D")): self._tab_stops,
            (ESC, ord(" ")): fixed(1, lambda n: None),
            (ESC, ord("{")): fixed(1, lambda n: None),
            (ESC, ord("V")): fixed(1, lambda n: None),
            (ESC, ord("R")): fixed(1, lambda n: None),
            (ESC, ord("*")): self._column_image,
            (GS, ord("!")): fixed(1, self._char_size),
            (GS, ord("B")): fixed(1, lambda n: setattr(s, "inverse", bool(n & 1))),
            (GS, ord("V")): self._gs_cut,
            (GS, ord("v")): self._raster,
            (GS, ord("(")): self._gs_paren,
            (GS, ord("k")): self._barcode_cmd,
            (GS, ord("h")): fixed(1, lambda n: self._barcode.__setitem__("height", n or 162)),
            (GS, ord("w")): fixed(1, lambda n: self._barcode.__setitem__("width", n if 2 <= n <= 6 else self._barcode["width"])),
            (GS, ord("H")): fixed(1, lambda n: self._barcode.__setitem__("hri", n & 3)),
            (GS, ord("f")): fixed(1, lambda n: self._barcode.__setitem__("hri_font", n & 1)),
            (GS, ord("a")): fixed(1, self._set_asb),
            (GS, ord("L")): fixed(2, lambda lo, hi: setattr(s, "left_margin", min(lo + 256 * hi, self.width_dots))),
            (GS, ord("W")): fixed(2, lambda lo, hi: setattr(s, "print_width", min(lo + 256 * hi, self.width_dots) or self.width_dots)),
            (GS, ord("r")): fixed(1, self._transmit_status),
            (FS, ord("&")): fixed(0, lambda: setattr(s, "chinese", True)),
            (FS, ord(".")): fixed(0, lambda: setattr(s, "chinese", False)),
            (FS, ord("-")): fixed(1, lambda n: None),
            (FS, ord("!")): fixed(1, lambda n: None),
            (FS, ord("p")): fixed(2, lambda n, m: self._op("nv_logo", image=n, mode=m)),
            (DLE, 0x04): fixed(1, lambda n: self._op("status_request", n=n)),
            (DLE, 0x05): fixed(1, lambda n: None),
            (US, 0x1B): self._vendor,
        }
        return t

    # --- handlers -----------------------------------------------------------------------------------
    def _init(self) -> None:
        self._flush_line()
        # the handlers hold this Style object: reset it in place
        vars(self.style).update(vars(Style(print_width=self.width_dots, chinese=self.chinese_after_init)))
        self._tabs = self._default_tabs()
        self._barcode = {"height": 162, "width": 3, "hri": 0, "hri_font": 0}
        self._op("init", chinese_mode=self.style.chinese)

    def _print_mode(self, n: int) -> None:
        s = self.style
        s.font = "B" if n & 0x01 else "A"
        s.bold = bool(n & 0x08)
        s.height = 2 if n & 0x10 else 1
        s.width = 2 if n & 0x20 else 1
        s.underline = 1 if n & 0x80 else 0

    def _char_size(self, n: int) -> None:
        if n & 0x88:
            return  # the firmware ignores n with bit 3 or 7 set (§2)
        self.style.width, self.style.height = (n >> 4) + 1, (n & 0x07) + 1

    def _codepage(self, n: int) -> None:
        self.style.codepage = n
        if n not in self.codepages:
            self._op("warning", message=f"ESC t {n}: code page without a known character table")

    def _feed_lines(self, n: int) -> None:
        self._flush_line()
        if n:
            self._op("feed", height=n * self.style.line_spacing, dots=n * self.style.line_spacing)

    def _drawer(self, m: int, t1: int, t2: int) -> None:
        self._op("drawer", pin=5 if m & 1 else 2, on_ms=t1 * 2, off_ms=max(t1, t2) * 2)

    def _beep(self, n: int, t: int) -> None:
        if 1 <= n <= 9 and 1 <= t <= 9:
            self._op("beep", times=n, duration_ms=t * 50)
        else:
            self._op("warning", message=f"ESC B {n} {t}: outside 1-9, ignored by the firmware")

    def _alarm(self, m: int, t: int, n: int) -> None:
        if 1 <= m <= 20 and 1 <= t <= 20 and n <= 3:
            self._op("alarm", times=m, interval_ms=t * 50, mode=("none", "beep", "light", "both")[n])
        else:
            self._op("warning", message=f"ESC C {m} {t} {n}: out of range")

    def _set_asb(self, n: int) -> None:
        self.asb = n & 0x0F
        if self.asb and not self.faults.silent:
            self.reply(self.asb_bytes())

    def _transmit_status(self, n: int) -> None:
        f = self.faults
        if n in (1, 49):
            self.reply(bytes([0x0C * f.paper_out | 0x03 * f.paper_near_end]))
        elif n in (2, 50):
            self.reply(bytes([0x01 * f.drawer_open]))

    def _cut(self, mode: str, feed: int | None, command: str) -> None:
        self._flush_line()
        if feed:
            self._op("feed", height=feed, dots=feed)
        self._op("cut", mode=mode, feed=feed, command=command)

    def _gs_cut(self, buf, i) -> int:
        if i + 2 >= len(buf):
            return NEED_MORE
        m = buf[i + 2]
        if m in (0, 48):
            self._cut("full", None, f"GS V {m}")
            return 3
        if m in (1, 49):
            self._cut("partial", None, f"GS V {m}")
            return 3
        if m in (65, 66):
            if i + 3 >= len(buf):
                return NEED_MORE
            self._cut("full" if m == 65 else "partial", buf[i + 3], f"GS V {m} {buf[i + 3]}")
            return 4
        self._op("unknown", bytes=bytes(buf[i:i + 3]).hex(" "))
        return 3

    def _tab_stops(self, buf, i) -> int:
        end = buf.find(b"\x00", i + 2, i + 2 + 33)
        if end == -1:
            return NEED_MORE if len(buf) - i < 35 else self._bad(buf, i, 2, "ESC D without NUL")
        # stops beyond the print area are ignored, as on Epson-style firmware
        self._tabs = [d for n in buf[i + 2:end] if (d := n * self._cell_width()) <= self.width_dots]
        return end + 1 - i

    def _cell_width(self) -> int:
        """Dots one character takes in the current font and width (what ESC D counts in)."""
        return self.fonts[self.style.font][0] * self.style.width

    def _default_tabs(self) -> list[int]:
        return [8 * self.fonts["A"][0] * i for i in range(1, 33)]

    def _bad(self, buf, i, n, why) -> int:
        self._op("unknown", bytes=bytes(buf[i:i + n]).hex(" "), reason=why)
        return n

    def _column_image(self, buf, i) -> int:
        if i + 5 > len(buf):
            return NEED_MORE
        m, cols = buf[i + 2], buf[i + 3] + 256 * buf[i + 4]
        per_col = 3 if m in (32, 33) else 1
        total = 5 + cols * per_col
        if i + total > len(buf):
            return NEED_MORE
        self._flush_line()
        self._op("column_image", height=8 * per_col, mode=m, columns=cols, data=bytes(buf[i + 5:i + total]))
        return total

    def _raster(self, buf, i) -> int:
        if i + 8 > len(buf):
            return NEED_MORE
        if buf[i + 2] != 0x30:
            return self._bad(buf, i, 3, "GS v other than GS v 0")
        m, x, y = buf[i + 3], buf[i + 4] + 256 * buf[i + 5], buf[i + 6] + 256 * buf[i + 7]
        size = x * y
        if i + 8 + size > len(buf):
            return NEED_MORE
        data = bytes(buf[i + 8:i + 8 + size])
        if x > 256 or y > 2303 or x == 0 or y == 0:
            self._op("warning", message=f"GS v 0 {x}x{y} outside the firmware limits (x 1-256, y 1-2303)")
            return 8 + size
        self._flush_line()
        scale = {0: (1, 1), 1: (2, 1), 2: (1, 2), 3: (2, 2), 48: (1, 1), 49: (2, 1), 50: (1, 2), 51: (2, 2)}.get(m, (1, 1))
        self._op("raster", height=y * scale[1], width_bytes=x, rows=y, scale=list(scale),
                 align=self.style.align, left=self.style.left_margin, data=data)
        return 8 + size

    def _gs_paren(self, buf, i) -> int:
        if i + 5 > len(buf):
            return NEED_MORE
        fn_class = buf[i + 2]
        if fn_class == ord("k") and buf[i + 3] == 0x30:  # legacy Xprinter QR form, no pL/pH
            return self._legacy_qr(buf, i)
        length = buf[i + 3] + 256 * buf[i + 4]
        if i + 5 + length > len(buf):
            return NEED_MORE
        body = bytes(buf[i + 5:i + 5 + length])
        if fn_class == ord("k") and len(body) >= 2 and body[0] == 0x31:
            self._qr_fn(body[1], body[2:])
        else:
            self._op("unknown", bytes=bytes(buf[i:i + 5]).hex(" "), reason=f"GS ( {chr(fn_class)!r} not supported")
        return 5 + length

    def _qr_fn(self, fn: int, args: bytes) -> None:
        q = self._qr
        if fn == 0x41 and args:
            q["model"] = {0x31: 1, 0x32: 2}.get(args[0], q["model"])
        elif fn == 0x43 and args:
            if 1 <= args[0] <= 16:
                q["size"] = args[0]
        elif fn == 0x45 and args:
            q["ec"] = {0x30: "L", 0x31: "M", 0x32: "Q", 0x33: "H"}.get(args[0], q["ec"])
        elif fn == 0x50 and args:
            q["data"] = args[1:]
        elif fn == 0x51:
            self._print_qr()
        elif fn == 0x52:
            self.reply(b"\x37\x30\x00")  # size query: a plausible, inert reply
        else:
            self._op("unknown", bytes=f"1d 28 6b .. .. 31 {fn:02x}", reason="QR function not supported")

    def _legacy_qr(self, buf, i) -> int:
        if i + 5 > len(buf):
            return NEED_MORE
        sub = buf[i + 4]
        if sub in (0x67, 0x69):
            if i + 6 > len(buf):
                return NEED_MORE
            if sub == 0x67 and 1 <= buf[i + 5] <= 16:
                self._qr["size"] = buf[i + 5]
            if sub == 0x69:
                self._qr["ec"] = {0x30: "L", 0x31: "M", 0x32: "Q", 0x33: "H"}.get(buf[i + 5], self._qr["ec"])
            return 6
        if sub == 0x80:
            if i + 7 > len(buf):
                return NEED_MORE
            n = buf[i + 5] + 256 * buf[i + 6]
            if i + 7 + n > len(buf):
                return NEED_MORE
            self._qr["data"] = bytes(buf[i + 7:i + 7 + n])
            return 7 + n
        if sub == 0x81:
            self._print_qr()
            return 5
        return self._bad(buf, i, 5, "unknown legacy QR function")

    def _print_qr(self) -> None:
        q = self._qr
        if not q["data"]:
            self._op("warning", message="QR print without stored data")
            return
        modules = qr_modules(q["data"], q["ec"])
        if modules is None:
            self._op("warning", message="QR data does not fit a QR code")
            return
        self._flush_line()
        self._op("qr", height=modules * q["size"], data=q["data"].decode("utf-8", "replace"), size=q["size"],
                 ec=q["ec"], model=q["model"], modules=modules, align=self.style.align, left=self.style.left_margin)

    def _barcode_cmd(self, buf, i) -> int:
        if i + 3 > len(buf):
            return NEED_MORE
        m = buf[i + 2]
        if m <= 6:
            end = buf.find(b"\x00", i + 3)
            if end == -1:
                return NEED_MORE if len(buf) - i < 260 else self._bad(buf, i, 3, "GS k without NUL")
            data, used = bytes(buf[i + 3:end]), end + 1 - i
        elif 65 <= m <= 73:
            if i + 4 > len(buf):
                return NEED_MORE
            n = buf[i + 3]
            if i + 4 + n > len(buf):
                return NEED_MORE
            data, used = bytes(buf[i + 4:i + 4 + n]), 4 + n
        else:
            return self._bad(buf, i, 3, f"GS k {m}: unknown symbology")
        kind = BARCODE_NAMES[m]
        text = decode_code128(data) if kind == "code128" else data.decode("latin-1")
        bc = self._barcode
        hri_h = self.fonts["B" if bc["hri_font"] else "A"][1]
        height = bc["height"] + hri_h * ((bc["hri"] in (1, 3)) + (bc["hri"] in (2, 3)))
        self._flush_line()
        self._op("barcode", height=height, type=kind, data=text, raw=data.decode("latin-1"),
                 bar_height=bc["height"], module=bc["width"], hri=("none", "above", "below", "both")[bc["hri"]],
                 hri_font="AB"[bc["hri_font"]], align=self.style.align, left=self.style.left_margin)
        return used

    def _vendor(self, buf, i) -> int:
        # 1F 1B 1F <sub> …  (§12, §9); anything else prints as garbage on the real printer
        if i + 4 > len(buf):
            return NEED_MORE
        if buf[i + 2] != 0x1F:
            return self._bad(buf, i, 2, "US ESC not followed by US")
        sub = buf[i + 3]

        def ip(off):
            return str(ipaddress.IPv4Address(bytes(buf[i + off:i + off + 4])))
        if sub == 0x91:
            if i + 7 > len(buf):
                return NEED_MORE
            if buf[i + 4:i + 7] == b"\x00IP":
                if i + 11 > len(buf):
                    return NEED_MORE
                new = ip(7)
                gw = ".".join(new.split(".")[:3] + ["1"])  # firmware forces a.b.c.1
                self._set_network("91ip", new, self.network.mask, gw, False)
                return 11
            if buf[i + 4:i + 7] == b"\x00I\xfa":
                if i + 21 > len(buf):
                    return NEED_MORE
                self._set_network("xp-netall", ip(9), ip(13), ip(17), bool(buf[i + 7]))
                return 21
            return self._bad(buf, i, 4, "unknown 1F 1B 1F 91 variant")
        if sub in (0x22, 0xB0, 0xB1):
            if i + 8 > len(buf):
                return NEED_MORE
            n = self.network
            new = {0x22: (ip(4), n.mask, n.gateway), 0xB0: (n.ip, ip(4), n.gateway), 0xB1: (n.ip, n.mask, ip(4))}[sub]
            self._set_network({0x22: "22", 0xB0: "mask", 0xB1: "gateway"}[sub], *new, False)
            return 8
        if sub == 0xB2:
            if i + 16 > len(buf):
                return NEED_MORE
            self._set_network("b2", ip(4), ip(8), ip(12), False)
            return 16
        if sub == 0xE0:
            if i + 10 > len(buf):
                return NEED_MORE
            self._op("vendor_setting", bytes=bytes(buf[i:i + 10]).hex(" "))
            return 10
        return self._bad(buf, i, 4, "unknown vendor command (prints as garbage on a real printer)")

    def _set_network(self, method: str, ip: str, mask: str, gateway: str, dhcp: bool) -> None:
        self.network.ip, self.network.mask, self.network.gateway, self.network.dhcp = ip, mask, gateway, dhcp
        self._op("network", method=method, ip=ip, mask=mask, gateway=gateway, dhcp=dhcp)
        # like the firmware: print the new settings and cut
        for line in (f"IP: {ip}", f"Mask: {mask}", f"Gateway: {gateway}", f"DHCP: {'on' if dhcp else 'off'}"):
            for ch in line:
                self._add_char(ch)
            self._flush_line()
        self._cut("partial", None, "after network setting")


def decode_code128(data: bytes) -> str:
    """ESC/POS CODE128 data (``{A``/``{B``/``{C`` switches, ``{{`` = ``{``) → the encoded text."""
    out, i, cset = [], 0, "B"
    while i < len(data):
        b = data[i]
        if b == 0x7B and i + 1 < len(data):
            nxt = data[i + 1]
            if nxt in b"ABC":
                cset, i = chr(nxt), i + 2
                continue
            if nxt == 0x7B:
                out.append("{")
                i += 2
                continue
            if nxt in b"1234S":  # FNC1-4 / shift: no printable text
                i += 2
                continue
        out.append(f"{b:02d}" if cset == "C" else chr(b))
        i += 1
    return "".join(out)


def make_qr(data: bytes, ec: str):
    """The smallest QR symbol holding ``data`` (a ``qrcode.QRCode``), or None if it cannot."""
    import qrcode
    from qrcode.exceptions import DataOverflowError

    level = {"L": qrcode.constants.ERROR_CORRECT_L, "M": qrcode.constants.ERROR_CORRECT_M,
             "Q": qrcode.constants.ERROR_CORRECT_Q, "H": qrcode.constants.ERROR_CORRECT_H}[ec]
    qr = qrcode.QRCode(error_correction=level, border=0)
    qr.add_data(data)
    try:
        qr.make(fit=True)
    except (DataOverflowError, ValueError):
        return None
    return qr


def qr_modules(data: bytes, ec: str) -> int | None:
    """Modules per side of the symbol the printer would draw for ``data``."""
    qr = make_qr(data, ec)
    return qr.modules_count if qr else None
