"""Laid-out operations → the fewest ESC/POS bytes that print them.

Styles are sent only when they change, code pages only when the text needs another one,
alignment only at the start of a line when it differs; images go as ``GS v 0`` bands of the
profile's height, centred with ``ESC a`` rather than padded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from .. import layout as L
from ..escpos import codes, commands as c, vendor
from ..escpos.codepages import TextEncoder
from ..profile import Profile
from ..raster import raster_bands

log = logging.getLogger(__name__)


@dataclass
class Rendered:
    data: bytes
    replaced: list[str] = field(default_factory=list)  # characters printed as '?'


class EscposRenderer:
    def __init__(self, profile: Profile):
        self.profile = profile
        self.encoder = TextEncoder(profile)

    def render(self, ops: list[L.LayoutOp], initialize: bool = True) -> Rendered:
        out = bytearray(c.initialize(self.profile.commands.get("chinese_mode_at_power_on", True)) if initialize else b"")
        # printer state after ESC @ (power-on defaults)
        st = {"bold": False, "underline": 0, "invert": False, "font": "A", "size": (1, 1), "align": "left"}
        page: int | None = None
        replaced: list[str] = []

        def set_align(align: str) -> None:
            if st["align"] != align:
                out.extend(c.align(align))
                st["align"] = align

        def set_style(s: L.Span) -> None:
            if st["bold"] != s.bold:
                out.extend(c.bold(s.bold))
                st["bold"] = s.bold
            if st["underline"] != s.underline:
                out.extend(c.underline(s.underline))
                st["underline"] = s.underline
            if st["invert"] != s.invert:
                out.extend(c.inverse(s.invert))
                st["invert"] = s.invert
            if st["font"] != s.font:
                out.extend(c.font(s.font))
                st["font"] = s.font
            if st["size"] != (s.width, s.height):
                out.extend(c.char_size(s.width, s.height))
                st["size"] = (s.width, s.height)

        for op in ops:
            if isinstance(op, L.Line):
                set_align(op.align)
                for s in op.spans:
                    set_style(s)
                    enc = self.encoder.encode(s.text, page)
                    page = enc.codepage
                    replaced += enc.replaced
                    out.extend(enc.data)
                out.extend(c.LF)
            elif isinstance(op, L.Raster):
                set_align(op.align)
                out.extend(raster_bands(op.width_bytes, op.rows, op.data, self.profile.band_rows))
            elif isinstance(op, L.QrCode):
                set_align(op.align)
                out.extend(codes.qr_code(op.data, op.size, op.ec, form=self.profile.qr_form))
            elif isinstance(op, L.BarcodeOp):
                set_align(op.align)
                out.extend(codes.barcode(op.kind, op.data, op.height, op.width, op.hri))
            elif isinstance(op, L.FeedOp):
                if op.dots is not None:
                    out.extend(c.feed_dots(op.dots))
                elif op.lines:
                    out.extend(c.feed_lines(op.lines))
            elif isinstance(op, L.CutOp):
                out.extend(c.cut(op.mode, op.feed))
            elif isinstance(op, L.BeepOp):
                out.extend(vendor.beep(op.times, op.duration))
            elif isinstance(op, L.DrawerOp):
                out.extend(c.drawer_kick(op.pin, op.on_ms, op.off_ms))
            elif isinstance(op, L.RawOp):
                out.extend(op.data)
                # raw bytes may change anything: assume nothing about the printer afterwards
                st = {k: None for k in st}
                page = None
        if replaced:
            log.warning("no code page carries %r; printed as '?'", "".join(sorted(set(replaced))))
        return Rendered(bytes(out), replaced)
