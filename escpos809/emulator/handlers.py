"""Interpreter command handlers: print modes, feeds, signals, cuts, tab stops (§1-§2, §8-§11),
images (GS v 0, ESC *), QR codes (both forms), barcodes (GS k) and the vendor network commands
(1F 1B 1F ..), per the command reference. A mixin of
:class:`~escpos809.emulator.interpreter.Interpreter`."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..paper.codes import barcode_row
from .state import BARCODE_LENGTHS, BarcodeSettings, Faults, Network, QRSettings, Style
from .symbols import GS_K_2D

if TYPE_CHECKING:
    from ..paper.ops import Op
    from .firmware import Firmware

NEED_MORE = -1
RASTER_MAX_X, RASTER_MAX_Y = 256, 2303  # the firmware's documented limits (§5)

#: GS v 0 m -> (horizontal, vertical) dot scale
_RASTER_SCALE = {0: (1, 1), 1: (2, 1), 2: (1, 2), 3: (2, 2), 48: (1, 1), 49: (2, 1), 50: (1, 2), 51: (2, 2)}

#: A variable-length command: reads its parameters from ``buf`` at ``i`` (the command's first
#: byte), returns the bytes it used or NEED_MORE.
Handler = Callable[[bytearray, int], int]


class CodeHandlers:
    """Handlers of the command table: fixed-length commands take their parameters; the others
    read their own length from the stream and return the bytes used or NEED_MORE."""

    # the interpreter's state the handlers work on (set up by Interpreter.__init__ and reset)
    width_dots: int
    fonts: dict[str, tuple[int, int]]
    codepages: dict[int, str]
    reply: Callable[[bytes], None]
    chinese_after_init: bool
    firmware: Firmware
    faults: Faults
    network: Network
    style: Style
    on_transmit_status: Callable[[int], None] | None
    asb: int
    _skip: int
    _tabs: list[int]
    _barcode: BarcodeSettings
    _qr: QRSettings
    _cut_mode: int

    if TYPE_CHECKING:  # the interpreter's own helpers

        def _op(self, kind: str, height: int = 0, **args: Any) -> Op: ...

        def _flush_line(self, advance: int | None = None) -> None: ...

        def _add_char(self, ch: str, double_byte: bool = False) -> None: ...

        def _gs_k_2d(self, buf: bytearray, i: int) -> int: ...

        def _line_dots_pending(self) -> bool: ...

    # --- one-shot commands (fixed parameters) -----------------------------------------------------------
    def _init(self) -> None:
        self._flush_line()
        # the handlers hold this Style object: reset it in place
        vars(self.style).update(vars(Style(print_width=self.width_dots, chinese=self.chinese_after_init)))
        self._tabs = self._default_tabs()
        self._barcode = BarcodeSettings()
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
        s = self.style
        s.width, s.height = s.hz_width, s.hz_height = (n >> 4) + 1, (n & 0x07) + 1

    def _codepage(self, n: int) -> None:
        self.style.codepage = n
        if n not in self.codepages:
            self._op("warning", message=f"ESC t {n}: code page without a known character table")

    def _feed_lines(self, n: int) -> None:
        """``ESC d n``: like n LFs. A line in the buffer prints with its own line feed, then n - 1
        more follow (print801 ``Command_1B64``: "n - 1, compatible with Epson")."""
        if self._line_dots_pending():
            self._flush_line()
            n = max(n - 1, 0)
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
            self.reply(self.faults.asb_bytes())

    def _send_asb(self) -> None:
        """``ESC v``: the automatic-status-back bytes, in buffer order."""
        if not self.faults.silent and self.firmware.answers_to("esc-v"):
            self.reply(self.faults.asb_bytes())

    def _transmit_status(self, n: int) -> None:
        # buffer-ordered: reached only once everything before it has been processed; a
        # mechanism that prints slower than it parses answers it later, through the hook
        if not self.firmware.answers_to("gs-r"):
            return  # a firmware that ignores GS r (on this link) does nothing at all
        if self.on_transmit_status is not None:
            self.on_transmit_status(n)
            return
        reply = self.faults.transmit_status(n)
        if reply is not None and not self.faults.silent:
            self.reply(reply)

    def _cut(self, mode: str, feed: int | None, command: str) -> None:
        if self._line_dots_pending():
            # print801 (Command_1B69, 1B6D, 1D56, 1D53): "the cutter command is valid only at the
            # start of a line"; the line stays in the buffer
            self._op("warning", message=f"{command} ignored: not at the start of a line (no cut)")
            return
        if feed:
            self._op("feed", height=feed, dots=feed)
        key = {"ESC i": "esc_i", "ESC m": "esc_m"}.get(command, f"gs_v_{mode}" if command.startswith("GS V") else "")
        mode = self.firmware.cut_mode(key, mode)  # e.g. a unit that only partial-cuts
        if mode != "none":
            self._op("cut", mode=mode, feed=feed, command=command)

    def _gs_cut(self, buf: bytearray, i: int) -> int:
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
        if m == 0x63:  # the driver's cut mode: GS V c mode feed (print801 Command_1D56)
            if i + 5 > len(buf):
                return NEED_MORE
            self._cut_mode = buf[i + 3]
            return 5
        if m == 0x6D:  # cut as the driver set it: 3 feeds only, 4 partial, 5 full
            if self._cut_mode in (4, 5):
                self._cut("partial" if self._cut_mode == 4 else "full", None, "GS V m")
            return 3
        return 3  # any other m: the firmware reads it and does nothing

    def _tab_stops(self, buf: bytearray, i: int) -> int:
        end = buf.find(b"\x00", i + 2, i + 2 + 33)
        if end == -1:
            return NEED_MORE if len(buf) - i < 35 else self._bad(buf, i, 2, "ESC D without NUL")
        # stops beyond the print area are ignored, as on Epson-style firmware
        self._tabs = [d for n in buf[i + 2 : end] if (d := n * self._cell_width()) <= self.width_dots]
        return end + 1 - i

    def _cell_width(self) -> int:
        """Dots one character takes in the current font and width (what ESC D counts in)."""
        return self.fonts[self.style.font][0] * self.style.width

    def _default_tabs(self) -> list[int]:
        return [8 * self.fonts["A"][0] * i for i in range(1, 33)]

    def _bad(self, buf: bytearray, i: int, n: int, why: str) -> int:
        self._op("unknown", bytes=bytes(buf[i : i + n]).hex(" "), reason=why)
        return n

    def _raster(self, buf: bytearray, i: int) -> int:
        if i + 8 > len(buf):
            return NEED_MORE
        if buf[i + 2] != 0x30:
            return self._bad(buf, i, 3, "GS v other than GS v 0")
        m, x, y = buf[i + 3], buf[i + 4] + 256 * buf[i + 5], buf[i + 6] + 256 * buf[i + 7]
        size = x * y
        if not (0 < x <= RASTER_MAX_X and 0 < y <= RASTER_MAX_Y):
            # the firmware reads past the data; so do we, without holding it (it may be 4 GB)
            self._op("warning", message=f"GS v 0 {x}x{y} outside the firmware limits (x 1-256, y 1-2303)")
            self._skip = size
            return 8
        if i + 8 + size > len(buf):
            return NEED_MORE
        if y > self.firmware.max_band_rows:
            # a band taller than this firmware's buffer: it prints the rows that fit, the rest
            # is lost (a real one garbles them; the paper shows a band cut short either way)
            self._op("warning", message=f"GS v 0 band of {y} rows; this firmware prints {self.firmware.max_band_rows}")
            size, y = x * self.firmware.max_band_rows, self.firmware.max_band_rows
            self._skip = x * (buf[i + 6] + 256 * buf[i + 7]) - size
        data = bytes(buf[i + 8 : i + 8 + size])
        self._flush_line()
        scale = _RASTER_SCALE.get(m, (1, 1))
        self._op(
            "raster",
            height=y * scale[1],
            width_bytes=x,
            rows=y,
            scale=list(scale),
            align=self.style.align,
            left=self.style.left_margin,
            data=data,
        )
        return 8 + size

    def _barcode_cmd(self, buf: bytearray, i: int) -> int:
        if i + 3 > len(buf):
            return NEED_MORE
        m = buf[i + 2]
        if m <= 6:
            end = buf.find(b"\x00", i + 3)
            if end == -1:
                return NEED_MORE if len(buf) - i < 260 else self._bad(buf, i, 3, "GS k without NUL")
            data, used = bytes(buf[i + 3 : end]), end + 1 - i
        elif m >= 65 and m in self.firmware.barcodes:  # a variant may add 75-77 (GS1 DataBar)
            if i + 4 > len(buf):
                return NEED_MORE
            n = buf[i + 3]
            if i + 4 + n > len(buf):
                return NEED_MORE
            if n not in BARCODE_LENGTHS.get(self.firmware.barcodes[m], range(1, 256)):
                # the firmware reads no further: the data bytes print as characters
                self._op("warning", message=f"GS k {m} n={n}: a length the symbology does not take")
                return 4
            data, used = bytes(buf[i + 4 : i + 4 + n]), 4 + n
        elif m in GS_K_2D:
            return self._gs_k_2d(buf, i)
        else:
            return self._bad(buf, i, 3, f"GS k {m}: not in the firmware; what follows m prints")
        kind = self.firmware.barcodes[m]
        if m <= 6 and len(data) not in BARCODE_LENGTHS.get(kind, range(1, 256)):
            self._op("warning", message=f"GS k {m}: {len(data)} data bytes, a length {kind} does not take")
            return used
        text = decode_code128(data) if kind == "code128" else data.decode("latin-1")
        bc = self._barcode
        hri_h = self.fonts["B" if bc.hri_font else "A"][1]
        height = bc.height + hri_h * ((bc.hri in (1, 3)) + (bc.hri in (2, 3)))
        self._flush_line()
        row = barcode_row(kind, text, bc.width)
        room = min(self.style.print_width, self.width_dots - self.style.left_margin)
        if row is None or len(row) > room:
            # print801 Command_1D6B: a barcode it cannot make, or wider than the print area,
            # only feeds the bar height
            why = "data the symbology cannot carry" if row is None else f"{len(row)} dots wide, the area is {room}"
            self._op("warning", message=f"GS k {m} ({kind}) {text!r}: {why}; the printer feeds blank paper")
            self._op("feed", height=bc.height, dots=bc.height)
            return used
        self._op(
            "barcode",
            height=height,
            type=kind,
            data=text,
            raw=data.decode("latin-1"),
            bar_height=bc.height,
            module=bc.width,
            hri=("none", "above", "below", "both")[bc.hri],
            hri_font="AB"[bc.hri_font],
            align=self.style.align,
            left=self.style.left_margin,
        )
        return used

    def _vendor(self, buf: bytearray, i: int) -> int:
        # 1F 1B 1F <sub> …  (§12, §9); anything else prints as garbage on the real printer
        if i + 4 > len(buf):
            return NEED_MORE
        if buf[i + 2] != 0x1F:
            return self._bad(buf, i, 2, "US ESC not followed by US")
        sub = buf[i + 3]

        def ip(off: int) -> str:
            return str(ipaddress.IPv4Address(bytes(buf[i + off : i + off + 4])))

        if sub == 0x91:
            if i + 7 > len(buf):
                return NEED_MORE
            if buf[i + 4 : i + 7] == b"\x00IP":
                if i + 11 > len(buf):
                    return NEED_MORE
                new = ip(7)
                gw = ".".join(new.split(".")[:3] + ["1"])  # firmware forces a.b.c.1
                self._set_network("91ip", new, self.network.mask, gw, False)
                return 11
            if buf[i + 4 : i + 7] == b"\x00I\xfa":
                if i + 21 > len(buf):
                    return NEED_MORE
                self._set_network("xp-netall", ip(9), ip(13), ip(17), bool(buf[i + 7]))
                return 21
            return self._bad(buf, i, 4, "unknown 1F 1B 1F 91 variant")
        if sub in (0x22, 0xB0, 0xB1):
            if i + 8 > len(buf):
                return NEED_MORE
            n = self.network
            addrs = {0x22: (ip(4), n.mask, n.gateway), 0xB0: (n.ip, ip(4), n.gateway), 0xB1: (n.ip, n.mask, ip(4))}[sub]
            self._set_network({0x22: "22", 0xB0: "mask", 0xB1: "gateway"}[sub], *addrs, False)
            return 8
        if sub == 0xB2:
            if i + 16 > len(buf):
                return NEED_MORE
            self._set_network("b2", ip(4), ip(8), ip(12), False)
            return 16
        if sub == 0xE0:
            if i + 10 > len(buf):
                return NEED_MORE
            self._op("vendor_setting", bytes=bytes(buf[i : i + 10]).hex(" "))
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
