"""Laid-out operations → the fewest ESC/POS bytes that print them.

Styles are sent only when they change, code pages only when the text needs another one,
alignment only at the start of a line when it differs; images go as ``GS v 0`` bands of the
profile's height, centred with ``ESC a`` rather than padded.
"""

from __future__ import annotations

import logging
import re
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


HT = b"\t"
_MAX_STOPS = 32


def _tab_eligible(op) -> bool:
    """Lines whose inner blank runs may become HT jumps: one span, font A, single width,
    no underline or reverse (HT spaces are not underlined), the stops being set in font A."""
    if not isinstance(op, L.Line) or len(op.spans) != 1:
        return False
    s = op.spans[0]
    return (s.font == "A" and s.width == 1 and not s.underline and not s.invert
            and L.text_width(s.text) == len(s.text))  # columns are string indexes


_INNER_BLANKS = re.compile(r" {3,}(?=[^ ])")


def _blank_runs(text: str) -> list[tuple[int, int]]:
    """(start, end) columns of inner runs of 3+ spaces."""
    return [m.span() for m in _INNER_BLANKS.finditer(text)] if "   " in text else []


def blank_runs_of(ops: list) -> dict[int, list[tuple[int, int]]]:
    """Index of each tab-eligible line → its inner blank runs."""
    return {i: runs for i, op in enumerate(ops) if _tab_eligible(op) and (runs := _blank_runs(op.spans[0].text))}


def tab_stops(runs: dict[int, list[tuple[int, int]]]) -> list[int]:
    """The columns most padding runs end at (at most 32, ESC D's limit)."""
    count: dict[int, int] = {}
    for line_runs in runs.values():
        for start, end in line_runs:
            count[end] = count.get(end, 0) + (end - start)
    best = sorted(count, key=lambda c: -count[c])[:_MAX_STOPS]
    return sorted(c for c in best if 1 <= c <= 255)


def _with_tabs(text: str, runs: list[tuple[int, int]], stops: list[int]) -> list[str | int]:
    """Split a line into text pieces and HT counts where jumping is shorter than spaces."""
    out: list[str | int] = []
    pos = 0
    for start, end in runs:
        if end not in stops:
            continue
        hts = sum(1 for s in stops if start < s <= end)
        if hts >= end - start:
            continue
        out.append(text[pos:start])
        out.append(hts)
        pos = end
    out.append(text[pos:])
    return out


class EscposRenderer:
    def __init__(self, profile: Profile):
        self.profile = profile
        self.encoder = TextEncoder(profile)
        self.use_tabs = bool(profile.commands.get("tabs", True))

    def render(self, ops: list[L.LayoutOp], initialize: bool = True) -> Rendered:
        out = bytearray(c.initialize(self.profile.commands.get("chinese_mode_at_power_on", True)) if initialize else b"")
        # printer state after ESC @ (power-on defaults)
        st = {"bold": False, "underline": 0, "invert": False, "font": "A", "size": (1, 1), "align": "left",
              **codes.BARCODE_DEFAULTS}
        page: int | None = None
        replaced: list[str] = []
        runs = blank_runs_of(ops) if self.use_tabs and initialize else {}
        stops = tab_stops(runs)
        if stops:  # set right after ESC @, in font A single width, as the eligible lines print
            out.extend(c.tab_stops(stops))

        def set_align(align: str) -> None:
            if st["align"] != align:
                out.extend(c.align(align))
                st["align"] = align

        def set_style(s: L.Span) -> None:
            changes = (st["bold"] != s.bold) + (st["underline"] != s.underline) + (st["font"] != s.font) \
                + (st["size"] != (s.width, s.height))
            if changes >= 2 and s.width <= 2 and s.height <= 2 and s.underline <= 1:
                # ESC ! sets font, bold, double width/height and underline in one command
                out.extend(c.print_mode(font_b=s.font == "B", bold=s.bold, double_height=s.height == 2,
                                        double_width=s.width == 2, underline=bool(s.underline)))
                st.update(bold=s.bold, underline=s.underline, font=s.font, size=(s.width, s.height))
            for key, value, build in (("invert", s.invert, c.inverse), ("bold", s.bold, c.bold),
                                      ("underline", s.underline, c.underline), ("font", s.font, c.font),
                                      ("size", (s.width, s.height), lambda v: c.char_size(*v))):
                if st[key] != value:
                    out.extend(build(value))
                    st[key] = value

        for index, op in enumerate(ops):
            if isinstance(op, L.Line):
                set_align(op.align)
                for s in op.spans:
                    set_style(s)
                    pieces = _with_tabs(s.text, runs[index], stops) if stops and index in runs else [s.text]
                    for piece in pieces:
                        if isinstance(piece, int):
                            out.extend(HT * piece)
                            continue
                        enc = self.encoder.encode(piece, page)
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
                data = codes.barcode_data(op.kind, op.data)
                for key, cmd in codes.barcode_settings(op.height, op.width, op.hri).items():
                    if st[key] != cmd:
                        out.extend(cmd)
                        st[key] = cmd
                out.extend(data)
            elif isinstance(op, L.FeedOp):
                if op.dots is not None:
                    out.extend(c.feed_dots(op.dots))
                elif op.lines <= 2:  # at the start of a line, LF feeds one line in fewer bytes
                    out.extend(c.LF * op.lines)
                else:
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
                stops = []
        if replaced:
            log.warning("no code page carries %r; printed as '?'", "".join(sorted(set(replaced))))
        return Rendered(bytes(out), replaced)
