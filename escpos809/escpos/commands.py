"""Standard ESC/POS commands as the OCPP-809 family takes them.

Byte values follow ../shared/reference/ocpp809-commands.md (sections named in each docstring).
Every builder returns ``bytes`` and raises ``ValueError`` naming the allowed range.
"""

from __future__ import annotations

from itertools import pairwise

from ._check import choice, in_range, u16le

ESC, GS, FS, DLE = b"\x1b", b"\x1d", b"\x1c", b"\x10"
LF = b"\n"

# --- §1 initialise and Chinese mode -------------------------------------------------------


def initialize(cancel_chinese: bool = True) -> bytes:
    """``ESC @`` then ``FS .``: Xprinter-family units power on in GB18030 mode, and ``ESC @``
    may put them back there, so Chinese mode is cancelled after every initialise (§1)."""
    return ESC + b"@" + (cancel_chinese_mode() if cancel_chinese else b"")


def chinese_mode() -> bytes:
    """``FS &``: double-byte (GB18030) decoding on."""
    return FS + b"&"


def cancel_chinese_mode() -> bytes:
    """``FS .``: every byte is one character again; required before ``ESC t``."""
    return FS + b"."


def select_codepage(n: int) -> bytes:
    """``ESC t n``. The meaning of ``n`` is printer-family specific: take it from the profile."""
    return ESC + b"t" + bytes([in_range("code page", n, 0, 255)])


# --- §2 text styles --------------------------------------------------------------------------


def bold(on: bool = True) -> bytes:
    """``ESC E n``."""
    return ESC + b"E" + bytes([1 if on else 0])


_UNDERLINE = {0: 0, 1: 1, 2: 2}


def underline(dots: int = 1) -> bytes:
    """``ESC - n``: 0 off, 1 or 2 dots thick."""
    return ESC + b"-" + bytes([choice("underline", dots, _UNDERLINE)])


def char_size(width: int = 1, height: int = 1) -> bytes:
    """``GS ! n``: width and height multipliers 1-8 each."""
    w = in_range("width multiplier", width, 1, 8)
    h = in_range("height multiplier", height, 1, 8)
    return GS + b"!" + bytes([((w - 1) << 4) | (h - 1)])


def print_mode(
    font_b: bool = False,
    bold: bool = False,
    double_height: bool = False,
    double_width: bool = False,
    underline: bool = False,
) -> bytes:
    """``ESC ! n``: sets font, bold, double size and underline at once."""
    n = (font_b * 0x01) | (bold * 0x08) | (double_height * 0x10) | (double_width * 0x20) | (underline * 0x80)
    return ESC + b"!" + bytes([n])


def inverse(on: bool = True) -> bytes:
    """``GS B n``: white on black."""
    return GS + b"B" + bytes([1 if on else 0])


_FONTS = {"a": 0, "b": 1}


def font(name: str = "A") -> bytes:
    """``ESC M n``: font A (12x24) or B (9x17)."""
    return ESC + b"M" + bytes([choice("font", name, _FONTS)])


_ALIGN = {"left": 0, "center": 1, "centre": 1, "right": 2}


def align(where: str = "left") -> bytes:
    """``ESC a n``; only takes effect at the start of a line, and also places images and codes."""
    return ESC + b"a" + bytes([choice("alignment", where, _ALIGN)])


def line_spacing(dots: int | None = None) -> bytes:
    """``ESC 3 n`` (n dots, 0-255) or, with ``None``, the default ``ESC 2`` (32 dots)."""
    if dots is None:
        return ESC + b"2"
    return ESC + b"3" + bytes([in_range("line spacing", dots, 0, 255)])


def left_margin(dots: int) -> bytes:
    """``GS L nL nH``."""
    return GS + b"L" + u16le("left margin", dots)


def print_area_width(dots: int) -> bytes:
    """``GS W nL nH`` (576 on the OCPP-809)."""
    return GS + b"W" + u16le("print area width", dots)


def tab_stops(columns: list[int]) -> bytes:
    """``ESC D n1 … nk NUL``: horizontal tab stops at these character columns (1-255, rising,
    at most 32), measured in the character width in force when sent. ``[]`` clears them."""
    if len(columns) > 32:
        raise ValueError(f"at most 32 tab stops, got {len(columns)}")
    for n in columns:
        in_range("tab stop", n, 1, 255)
    if any(b <= a for a, b in pairwise(columns)):
        raise ValueError("tab stops must rise strictly")
    return ESC + b"D" + bytes(columns) + b"\x00"


# --- feeds --------------------------------------------------------------------------------------


def feed_lines(n: int = 1) -> bytes:
    """``ESC d n``: print the buffer and feed n lines (0-255)."""
    return ESC + b"d" + bytes([in_range("feed lines", n, 0, 255)])


def feed_dots(n: int) -> bytes:
    """``ESC J n``: print the buffer and feed n motion units (0-255)."""
    return ESC + b"J" + bytes([in_range("feed dots", n, 0, 255)])


# --- §8 cutter ------------------------------------------------------------------------------

_CUT_MODES = {"full": 0, "partial": 1}


def cut(mode: str = "partial", feed: int | None = None) -> bytes:
    """The mode asked for is the mode sent.

    Without ``feed``: ``GS V 0`` (full) / ``GS V 1`` (partial). With ``feed`` = n: ``GS V 65 n``
    (feed to the cutter plus n units, full cut) / ``GS V 66 n`` (partial). Note: Zjiang-style
    firmware partial-cuts for every mode (§8); that is the printer's limit, not ours.
    """
    m = choice("cut mode", mode, _CUT_MODES)
    if feed is None:
        return GS + b"V" + bytes([m])
    return GS + b"V" + bytes([65 + m, in_range("cut feed", feed, 0, 255)])


# --- §10 cash drawer --------------------------------------------------------------------------

_PINS = {2: 0, 5: 1}


def drawer_kick(pin: int = 2, on_ms: int = 100, off_ms: int = 100) -> bytes:
    """``ESC p m t1 t2``: pulse drawer pin 2 or 5 for ``on_ms`` (t1 = on_ms/2, 0-510 ms)."""
    m = choice("drawer pin", pin, _PINS)
    t1 = in_range("drawer on time (ms)", on_ms, 0, 510) // 2
    t2 = in_range("drawer off time (ms)", off_ms, 0, 510) // 2
    return ESC + b"p" + bytes([m, t1, t2])


# --- §11 status ---------------------------------------------------------------------------------


def status_request(n: int) -> bytes:
    """``DLE EOT n`` real-time status, n = 1 printer, 2 offline cause, 3 error cause, 4 paper."""
    return DLE + b"\x04" + bytes([in_range("status request", n, 1, 4)])


def transmit_status(n: int = 1) -> bytes:
    """``GS r n``, answered in buffer order: only once everything sent before it has been
    processed. n = 1 (or 49) paper sensor, 2 (or 50) drawer. After a job, its reply is the
    printer's confirmation that the job's last byte was printed (reference §11; whether every
    OCPP-809 unit answers it on USB/LAN is unconfirmed, M: the profile can turn it off)."""
    return GS + b"r" + bytes([choice("transmit status", n, {1: 1, 2: 2, 49: 49, 50: 50})])


#: ``GS I n`` ids: one byte for 1-3 / 49-51, a ``5F``-headed NUL-terminated string for 65-69
PRINTER_ID_BYTE = {1: "model", 2: "type", 3: "rom", 49: "model", 50: "type", 51: "rom"}
PRINTER_ID_TEXT = {65: "firmware", 66: "maker", 67: "name", 68: "serial", 69: "fonts"}


def printer_id(n: int) -> bytes:
    """``GS I n`` (``1D 49 n``): model / type / ROM-version ids (n = 1-3, 49-51, one byte back) or
    firmware / maker / name / serial / fonts (65-69, ``5F`` + text + ``00`` back); print801 FW
    ``gs.c`` ``Command_1D49`` (H for that firmware, unknown on OCOM units)."""
    return GS + b"I" + bytes([choice("printer id", n, {k: k for k in (*PRINTER_ID_BYTE, *PRINTER_ID_TEXT)})])


def automatic_status_back(
    online: bool = False, error: bool = False, paper: bool = False, drawer: bool = False
) -> bytes:
    """``GS a n``; all off (``GS a 0``) stops unsolicited 4-byte replies before polling."""
    n = (drawer * 0x01) | (online * 0x02) | (error * 0x04) | (paper * 0x08)
    return GS + b"a" + bytes([n])


# --- §5 raster --------------------------------------------------------------------------------


def raster_image(width_bytes: int, rows: int, data: bytes, mode: int = 0) -> bytes:
    """``GS v 0 m xL xH yL yH d…``: rows top to bottom, MSB leftmost, 1 = black.

    Firmware limits: x <= 256 bytes, y <= 2303 rows. Send tall images as several bands
    (see :func:`escpos809.raster.raster_bands`).
    """
    in_range("raster bytes per row", width_bytes, 1, 256)
    in_range("raster rows", rows, 1, 2303)
    in_range("raster mode", mode, 0, 3)
    if len(data) != width_bytes * rows:
        raise ValueError(f"raster data is {len(data)} bytes, expected {width_bytes} x {rows} = {width_bytes * rows}")
    return GS + b"v0" + bytes([mode]) + width_bytes.to_bytes(2, "little") + rows.to_bytes(2, "little") + data
