"""What the virtual printer's controller holds: injected faults (and the status bytes they
give, §11 of the command reference), print modes, network settings."""

from __future__ import annotations

from dataclasses import dataclass

from .charsets import KATAKANA

# code page n -> Python codec, the Xprinter/Zjiang table (§3); pages without a codec print as '?'.
# EXTRA_CODEPAGES: pages the printer has that the model profile does not list (the encoder never
# sends them; the virtual printer adds them to the profile's table).
# 6 "West Europe", 7 "Greek" and 23 "PT151/1251" as receipt-printer-encoder 4 maps them for
# Xprinter (ISO-8859-1, Windows-1253, Windows-1251): the Xprinter tables name no codec (unsure)
EXTRA_CODEPAGES = {
    1: KATAKANA,
    6: "latin-1",
    7: "cp1253",
    23: "cp1251",
    # the extended Xprinter pages (§3 "50-89"; escpos-printer-db NT-80-V-UL, which python-escpos
    # uses for this family); the pages without a Python codec are left out
    50: "cp437",
    52: "cp437",
    53: "cp858",
    54: "cp852",
    55: "cp860",
    56: "cp861",
    57: "cp863",
    58: "cp865",
    59: "cp866",
    60: "cp855",
    61: "cp857",
    62: "cp862",
    63: "cp864",
    64: "cp737",
    66: "cp869",
    71: "cp1252",
    72: "cp1250",
    73: "cp1251",
    90: "cp1253",
    91: "cp1254",
    92: "cp1256",
    93: "cp720",
    94: "cp1258",
    95: "cp775",
}
XPRINTER_CODEPAGES = {
    0: "cp437",
    2: "cp850",
    3: "cp860",
    4: "cp863",
    5: "cp865",
    16: "cp1252",
    17: "cp866",
    18: "cp852",
    19: "cp858",
    25: "cp1257",
    28: "cp864",
    32: "cp1255",
    33: "cp1256",
    **EXTRA_CODEPAGES,
}
BARCODE_NAMES = {
    0: "upca",
    1: "upce",
    2: "ean13",
    3: "ean8",
    4: "code39",
    5: "itf",
    6: "codabar",
    65: "upca",
    66: "upce",
    67: "ean13",
    68: "ean8",
    69: "code39",
    70: "itf",
    71: "codabar",
    72: "code93",
    73: "code128",
}
#: GS k m of Epson's GS1 symbologies, not in print801 (they stay unknown there); the names
#: paper.codes draws, for a firmware variant that has them (data: 13 digits for 75-77; the
#: GS1-128 / Expanded data forms of 74 and 78 are not converted for zint yet)
EPSON_GS1 = {75: "databar", 76: "databar", 77: "databar-limited"}

#: data lengths each symbology takes (print801 ``Command_1D6B``); others take 1-255 (Code 128: 2-255)
BARCODE_LENGTHS = {
    "upca": (11, 12),
    "upce": (6, 7, 8, 11, 12),
    "ean13": (12, 13),
    "ean8": (7, 8),
    "code128": tuple(range(2, 256)),
}


@dataclass
class Faults:
    """Conditions a test or user injects; the status replies follow them."""

    cover_open: bool = False
    cutter_error: bool = False
    paper_near_end: bool = False
    paper_out: bool = False
    silent: bool = False  # no status replies at all
    drawer_open: bool = False  # drawer sensor (pin 3) high
    paper_mm: float | None = None  # paper left; None = endless roll
    near_end_mm: float = 50.0

    @property
    def paused(self) -> bool:
        """No paper or an open cover: the mechanism stops; data waits in the buffer."""
        return self.paper_out or self.cover_open

    def status_byte(self, n: int) -> int:
        """``DLE EOT n`` reply (§11 bit tables)."""
        b = 0x12
        if n == 1:
            b |= 0x04 * self.drawer_open | 0x08 * (self.cover_open or self.paper_out or self.cutter_error)
        elif n == 2:
            b |= 0x04 * self.cover_open | 0x20 * self.paper_out | 0x40 * self.cutter_error
        elif n == 3:
            b |= 0x08 * self.cutter_error
        elif n == 4:
            b |= 0x0C * (self.paper_near_end or self.paper_out) | 0x60 * self.paper_out
        return b

    def asb_bytes(self) -> bytes:
        """The 4 automatic-status-back bytes (``ESC v`` on port 4000, ``GS a`` pushes)."""
        a = (
            0x10
            | 0x04 * self.drawer_open
            | 0x08 * (self.cover_open or self.paper_out or self.cutter_error)
            | 0x20 * self.cover_open
        )
        b = 0x08 * self.cutter_error
        c = 0x03 * (self.paper_near_end or self.paper_out) | 0x0C * self.paper_out
        return bytes([a, b, c, 0x0F])

    def transmit_status(self, n: int) -> bytes | None:
        """``GS r n`` reply: n = 1/49 paper sensor, 2/50 drawer; None for other n."""
        if n in (1, 49):
            return bytes([0x0C * self.paper_out | 0x03 * self.paper_near_end])
        if n in (2, 50):
            return bytes([0x01 * self.drawer_open])
        return None


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
    unit_x: int = 1  # GS P motion units, dots
    unit_y: int = 1
    upside_down: bool = False  # ESC { 1
    big5: bool = False  # FS C 1: double-byte characters are BIG5, not GB18030
    right_space: int = 0  # ESC SP n: dots after each character
    hz_width: int = 1  # double-byte characters' size: GS ! sets it with the single-byte one,
    hz_height: int = 1  # FS ! / FS W / FS U / FS V / FS X alone; ESC ! not (print801 Command_1B21)


@dataclass
class BarcodeSettings:
    """``GS h`` / ``GS w`` / ``GS H`` / ``GS f``: how the next ``GS k`` barcode prints."""

    height: int = 162  # bar height, dots
    width: int = 3  # module width, dots (2-6)
    hri: int = 0  # human-readable text: 0 none, 1 above, 2 below, 3 both
    hri_font: int = 0  # 0 font A, 1 font B


@dataclass
class QRSettings:
    """``GS ( k`` (both forms): the QR code stored for the next print function."""

    model: int = 2
    size: int = 3  # module size, dots (1-16)
    ec: str = "L"  # error correction: L, M, Q or H
    data: bytes = b""


@dataclass
class Network:
    ip: str = "192.168.1.100"
    mask: str = "255.255.255.0"
    gateway: str = "192.168.1.1"
    dhcp: bool = False
    mac: str = "00:2E:80:09:00:01"


class RealtimeScanner:
    """Finds ``DLE EOT n`` (``10 04 n``) in a byte stream as it arrives, across chunk borders,
    each once: what a firmware's receive interrupt answers before the bytes reach the buffer."""

    def __init__(self) -> None:
        self._tail = b""

    def scan(self, data: bytes) -> list[int]:
        """The ``n`` (1-4) of every request completed by ``data``."""
        scan = self._tail + data
        found, start = [], 0
        while (j := scan.find(b"\x10\x04", start)) != -1 and j + 2 < len(scan):
            if j + 2 >= len(self._tail) and 1 <= scan[j + 2] <= 4:  # not seen in an earlier chunk
                found.append(scan[j + 2])
            start = j + 1
        self._tail = scan[-2:]
        return found
