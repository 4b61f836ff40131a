"""Read CUPS raster streams (``RaSt``/``RaS2``/``RaS3`` in either byte order), page by page.

Layout and compression follow CUPS ``cups/raster-stream.c`` (see
``../shared/reference/cups-zeroconf.md`` §2): a 4-byte sync word, then per page a
1796-byte ``cups_page_header2_t`` and ``cupsHeight`` rows of ``cupsBytesPerLine`` bytes;
version 2 compresses rows with a line-repeat byte and PackBits-like runs of pixels.
"""

from __future__ import annotations

import struct

from ..errors import InvalidInput
from ..record import Record

TYPE_CHECKING = False  # as typing.TYPE_CHECKING: the CUPS filter imports no typing
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import BinaryIO

HEADER_SIZE = 1796
#: sync word → (byte order, compressed)
SYNC = {
    b"RaSt": (">", False),
    b"tSaR": ("<", False),
    b"RaS2": (">", True),
    b"2SaR": ("<", True),
    b"RaS3": (">", False),
    b"3SaR": ("<", False),
}

CSPACE_W, CSPACE_K, CSPACE_SW = 0, 3, 18
#: colour spaces where a 1 bit is white (additive): rows are inverted to 1 = black
_ADDITIVE = {CSPACE_W, CSPACE_SW}
#: largest header values accepted, so a corrupt header cannot ask for gigabytes
MAX_BYTES_PER_LINE = 1 << 16
MAX_HEIGHT = 1 << 20

CUT_NONE, CUT_FILE, CUT_JOB, CUT_SET, CUT_PAGE = 0, 1, 2, 3, 4


class RasterError(InvalidInput):
    """A stream that is not CUPS raster, or a page this printer cannot take."""

    http_title = "Invalid CUPS raster"


class PageHeader(Record):
    """The fields of ``cups_page_header2_t`` this driver uses (byte offsets in comments)."""

    __slots__ = (
        "media_type",
        "advance_media",
        "cut_media",
        "hw_resolution",
        "num_copies",
        "page_size",
        "width",
        "height",
        "bits_per_color",
        "bits_per_pixel",
        "bytes_per_line",
        "color_order",
        "color_space",
        "integers",
        "page_size_name",
    )

    media_type: str  # 128
    advance_media: int  # 260
    cut_media: int  # 268
    hw_resolution: tuple[int, int]  # 276
    num_copies: int  # 340
    page_size: tuple[int, int]  # 352 (points)
    width: int  # 372 cupsWidth
    height: int  # 376 cupsHeight
    bits_per_color: int  # 384
    bits_per_pixel: int  # 388
    bytes_per_line: int  # 392
    color_order: int  # 396
    color_space: int  # 400
    integers: tuple[int, ...]  # 452 cupsInteger[16]
    page_size_name: str  # 1732

    @classmethod
    def parse(cls, raw: bytes, order: str) -> PageHeader:
        if len(raw) != HEADER_SIZE:
            raise RasterError(f"truncated page header ({len(raw)} of {HEADER_SIZE} bytes)")

        def u(offset: int, n: int = 1) -> tuple[int, ...]:
            return struct.unpack_from(f"{order}{n}I", raw, offset)

        def pair(offset: int) -> tuple[int, int]:
            a, b = u(offset, 2)
            return a, b

        def s(offset: int) -> str:
            return raw[offset : offset + 64].split(b"\0", 1)[0].decode("latin-1")

        return cls(
            media_type=s(128),
            advance_media=u(260)[0],
            cut_media=u(268)[0],
            hw_resolution=pair(276),
            num_copies=u(340)[0],
            page_size=pair(352),
            width=u(372)[0],
            height=u(376)[0],
            bits_per_color=u(384)[0],
            bits_per_pixel=u(388)[0],
            bytes_per_line=u(392)[0],
            color_order=u(396)[0],
            color_space=u(400)[0],
            integers=u(452, 16),
            page_size_name=s(1732),
        )

    def check_printable(self) -> None:
        """Refuse what a 1-bit thermal head cannot take, with the reason."""
        if self.bits_per_pixel != 1 or self.bits_per_color != 1:
            raise RasterError(
                f"page is {self.bits_per_pixel}-bit; the PPD must ask for 1-bit (cupsBitsPerColor 1, cupsColorSpace 3)"
            )
        if self.color_space not in (CSPACE_K, *_ADDITIVE):
            raise RasterError(f"colour space {self.color_space} is not black-and-white (W, sW or K)")
        if not 0 < self.bytes_per_line <= MAX_BYTES_PER_LINE or self.bytes_per_line * 8 < self.width:
            raise RasterError(f"bytes per line {self.bytes_per_line} does not fit width {self.width}")
        if self.height > MAX_HEIGHT:
            raise RasterError(f"page height {self.height} rows is beyond {MAX_HEIGHT}")

    @property
    def inverted(self) -> bool:
        return self.color_space in _ADDITIVE


class Page(Record):
    __slots__ = ("header", "rows")
    header: PageHeader
    rows: list[bytes]  # packed rows, 1 = black, MSB leftmost, ``bytes_per_line`` each


class _Reader:
    """Buffered reads: the compressed decoder takes many 1-byte reads."""

    def __init__(self, stream: BinaryIO):
        self.stream, self.buf, self.pos = stream, b"", 0

    def take(self, n: int, what: str = "compressed page data") -> bytes:
        if self.pos + n > len(self.buf):
            self.buf = self.buf[self.pos :] + self.stream.read(max(65536, n))
            self.pos = 0
            if n > len(self.buf):
                raise RasterError(f"stream ends inside {what} ({len(self.buf)} of {n} bytes)")
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out

    def byte(self) -> int:
        return self.take(1)[0]

    def at_end(self) -> bool:
        if self.pos < len(self.buf):
            return False
        self.buf, self.pos = self.stream.read(65536), 0
        return not self.buf


def _decode_compressed(r: _Reader, h: PageHeader) -> list[bytes]:
    """Version 2 rows: a repeat count for the line, then runs of whole pixels (1 byte here)."""
    bpl = h.bytes_per_line
    clear = b"\xff" if h.inverted else b"\x00"
    rows: list[bytes] = []
    while len(rows) < h.height:
        repeat = r.byte() + 1
        line = bytearray()
        while len(line) < bpl:
            n = r.byte()
            if n == 128:  # clear to the end of the line
                line += clear * (bpl - len(line))
            elif n < 128:
                line += r.take(1) * (n + 1)
            else:
                line += r.take(257 - n)
        if len(line) != bpl:
            raise RasterError(f"compressed row decodes to {len(line)} bytes, not {bpl}")
        rows.extend([bytes(line)] * min(repeat, h.height - len(rows)))
    return rows


_INVERT = bytes(255 - i for i in range(256))


def read_pages(stream: BinaryIO) -> Iterator[Page]:
    """Yield each page of a CUPS raster stream; raises :class:`RasterError` on a bad stream."""
    sync = stream.read(4)
    if sync not in SYNC:
        raise RasterError(f"not a CUPS raster stream (starts {sync!r})" if sync else "empty input")
    order, compressed = SYNC[sync]
    reader = _Reader(stream)
    while not reader.at_end():
        h = PageHeader.parse(reader.take(HEADER_SIZE, "page header"), order)
        h.check_printable()
        if compressed:
            rows = _decode_compressed(reader, h)
        else:
            size = h.bytes_per_line * h.height
            data = reader.take(size, "page data")
            rows = [data[i : i + h.bytes_per_line] for i in range(0, size, h.bytes_per_line)]
        if h.inverted:
            rows = [row.translate(_INVERT) for row in rows]
        yield Page(h, rows)
