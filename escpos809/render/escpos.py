"""Laid-out operations → the fewest ESC/POS bytes that print them.

Styles are sent only when they change, code pages only when the text needs another one,
alignment only at the start of a line when it differs; images go as ``GS v 0`` bands of the
profile's height, centred with ``ESC a`` rather than padded.

The operations are consumed as they come and the bytes handed on in chunks
(:meth:`EscposRenderer.render_to`), so a document of tens of thousands of lines is never held
laid out whole. The tab stops are chosen per :data:`WINDOW` operations: a receipt shorter than
that gets exactly the stops its whole text wants; a longer one gets new stops (``ESC D``, sent
just before the first line that uses them, in font A single width as they are measured) when
its next stretch wants others.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from .. import layout as L
from ..escpos import codes, vendor
from ..escpos import commands as c
from ..escpos.codepages import TextEncoder
from ..profile import Profile

log = logging.getLogger(__name__)


@dataclass
class Rendered:
    data: bytes
    replaced: list[str] = field(default_factory=list)  # characters printed as '?'


HT = b"\t"
_MAX_STOPS = 32
#: operations looked at together: the tab stops are chosen from them
WINDOW = 2048
#: bytes handed on at a time by :meth:`EscposRenderer.render_to`
CHUNK = 64 * 1024


_INNER_BLANKS = re.compile(r" {3,}(?=[^ ])")


def _blank_runs(span: L.Span) -> list[tuple[int, int]]:
    """(start, end) columns of the inner runs of 3+ spaces a line may jump with HT.

    Only plain font-A single-width text qualifies (the stops are set in font A; HT spaces are
    not underlined or reversed), and only where columns are string indexes.
    """
    text = span.text
    if (
        "   " not in text
        or span.font != "A"
        or span.width != 1
        or span.underline
        or span.invert
        or L.text_width(text) != len(text)
    ):
        return []
    return [m.span() for m in _INNER_BLANKS.finditer(text)]


def blank_runs_of(ops: list) -> dict[int, list[tuple[int, int]]]:
    """Index of each one-span line with inner blank runs → those runs."""
    return {
        i: runs
        for i, op in enumerate(ops)
        if type(op) is L.Line and len(op.spans) == 1 and (runs := _blank_runs(op.spans[0]))
    }


def tab_stops(runs: dict[int, list[tuple[int, int]]]) -> list[int]:
    """The columns most padding runs end at (at most 32, ESC D's limit)."""
    count: dict[int, int] = {}
    for line_runs in runs.values():
        for start, end in line_runs:
            count[end] = count.get(end, 0) + (end - start)
    best = sorted(count, key=lambda c: -count[c])[:_MAX_STOPS]
    return sorted(c for c in best if 1 <= c <= 255)


def _jumps(runs: list[tuple[int, int]], stops: list[int]) -> Iterator[tuple[int, int, int]]:
    """(start, end, HT count) for each blank run where jumping is shorter than the spaces."""
    for start, end in runs:
        if end in stops:
            hts = sum(1 for s in stops if start < s <= end)
            if hts < end - start:
                yield start, end, hts


def _with_tabs(data: bytes, runs: list[tuple[int, int]], stops: list[int]) -> bytes:
    """An encoded line (one byte per column) with its blank runs replaced by HT jumps."""
    out, pos = bytearray(), 0
    for start, end, hts in _jumps(runs, stops):
        out += data[pos:start]
        out += HT * hts
        pos = end
    out += data[pos:]
    return bytes(out)


class EscposRenderer:
    def __init__(self, profile: Profile):
        self.profile = profile
        self.encoder = TextEncoder(profile)
        self.use_tabs = bool(profile.commands.get("tabs", True))

    def render(self, ops: Iterable[L.LayoutOp], initialize: bool = True) -> Rendered:
        """All the bytes at once (and the characters printed as '?')."""
        parts: list[bytes] = []
        replaced = self.render_to(ops, parts.append, initialize)
        return Rendered(b"".join(parts), replaced)

    def render_to(
        self, ops: Iterable[L.LayoutOp], write: Callable[[bytes], object], initialize: bool = True, chunk: int = CHUNK
    ) -> list[str]:
        """Hand the bytes to ``write`` in pieces of about ``chunk`` bytes as the operations
        come; returns the characters printed as '?'."""
        it = iter(ops)
        window = list(islice(it, WINDOW))
        job = _Job(self, window, initialize)
        index = 0
        while window:
            for op in window:
                _EMIT[type(op)](job, index, op)
                index += 1
                if len(job.out) >= chunk:
                    write(bytes(job.out))
                    job.out.clear()
            window = list(islice(it, WINDOW))
            job.next_window(window, index)
        if job.out:
            write(bytes(job.out))
        if job.replaced:
            log.warning("no code page carries %r; printed as '?'", "".join(sorted(set(job.replaced))))
        return job.replaced


class _Job:
    """One rendering: the bytes so far and what the printer's state is after them."""

    def __init__(self, renderer: EscposRenderer, head: list[L.LayoutOp], initialize: bool):
        """``head``: the first operations (their blank runs choose the tab stops)."""
        self.profile, self.encoder = renderer.profile, renderer.encoder
        self.out = bytearray(
            c.initialize(self.profile.commands.get("chinese_mode_at_power_on", True)) if initialize else b""
        )
        # printer state after ESC @ (power-on defaults)
        self.st: dict = {
            "bold": False,
            "underline": 0,
            "invert": False,
            "font": "A",
            "size": (1, 1),
            "hz_size": (1, 1),  # GB18030 characters: GS ! sizes them, ESC ! does not (print801)
            "align": "left",
            **codes.BARCODE_DEFAULTS,
        }
        self.page: int | None = None
        self.replaced: list[str] = []
        self.last_style: tuple | None = None
        self.tabs = renderer.use_tabs and initialize  # False once raw bytes may have changed anything
        self.runs = blank_runs_of(head) if self.tabs else {}
        self.stops = tab_stops(self.runs)
        self.pending: list[int] | None = None  # stops the next window wants, sent with its first tabbed line
        if self.stops:  # set right after ESC @, in font A single width, as the eligible lines print
            self.out += c.tab_stops(self.stops)

    def next_window(self, ops: list[L.LayoutOp], base: int) -> None:
        """The next operations (from index ``base``): their blank runs, and the stops they want."""
        if not self.tabs:
            return
        self.runs = {base + i: runs for i, runs in blank_runs_of(ops).items()}
        stops = tab_stops(self.runs)
        self.pending = stops if stops and stops != self.stops else None

    def align(self, align: str) -> None:
        if self.st["align"] != align:
            self.out += c.align(align)
            self.st["align"] = align

    def style(self, s: L.Span) -> None:
        key = (s.bold, s.underline, s.invert, s.font, s.width, s.height)
        if key == self.last_style:  # most lines share the previous line's style
            return
        self.last_style = key
        st, out = self.st, self.out
        changes = (
            (st["bold"] != s.bold)
            + (st["underline"] != s.underline)
            + (st["font"] != s.font)
            + (st["size"] != (s.width, s.height))
        )
        if changes >= 2 and s.width <= 2 and s.height <= 2 and s.underline <= 1:
            # ESC ! sets font, bold, double width/height and underline in one command
            out += c.print_mode(
                font_b=s.font == "B",
                bold=s.bold,
                double_height=s.height == 2,
                double_width=s.width == 2,
                underline=bool(s.underline),
            )
            st.update(bold=s.bold, underline=s.underline, font=s.font, size=(s.width, s.height))
        # (state key, wanted value, command that sets it to a value of that key's kind)
        settings: tuple[tuple[str, object, Callable[[Any], bytes]], ...] = (
            ("invert", s.invert, c.inverse),
            ("bold", s.bold, c.bold),
            ("underline", s.underline, c.underline),
            ("font", s.font, c.font),
            ("size", (s.width, s.height), lambda v: c.char_size(*v)),
        )
        for name, value, build in settings:
            if st[name] != value:
                out += build(value)
                st[name] = value
                if name == "size":
                    st["hz_size"] = value

    def text(self, text: str, runs: list[tuple[int, int]] | None = None) -> None:
        enc = self.encoder.encode(text, self.page)
        if runs and len(enc.data) != len(text):  # a page switch inside: columns are not byte offsets
            pos = 0
            for start, end, hts in _jumps(runs, self.stops):
                self.text(text[pos:start])
                self.out += HT * hts
                pos = end
            self.text(text[pos:])
            return
        if b"\x1c&" in enc.data and self.st["hz_size"] != self.st["size"] and self.st["size"] is not None:
            # double-byte text after an ESC ! size: only GS ! sizes it (print801 Command_1B21)
            self.out += c.char_size(*self.st["size"])
            self.st["hz_size"] = self.st["size"]
        self.page = enc.codepage
        self.replaced += enc.replaced
        self.out += _with_tabs(enc.data, runs, self.stops) if runs else enc.data

    def line(self, index: int, op: L.Line) -> None:
        self.align(op.align)
        runs = self.runs.get(index)
        for s in op.spans:
            self.style(s)
            if runs and self.pending:  # font A single width now: the stops are measured in it
                self.out += c.tab_stops(self.pending)
                self.stops, self.pending = self.pending, None
            self.text(s.text, runs if self.stops else None)
        self.out += c.LF

    def raster(self, index: int, op: L.Raster) -> None:
        self.align(op.align)
        from ..raster import raster_bands  # here: raster.py loads Pillow and numpy, text receipts need neither

        self.out += raster_bands(op.width_bytes, op.rows, op.data, self.profile.band_rows)

    def qr(self, index: int, op: L.QrCode) -> None:
        self.align(op.align)
        self.out += codes.qr_code(op.data, op.size, op.ec, form=self.profile.qr_form)

    def barcode(self, index: int, op: L.BarcodeOp) -> None:
        self.align(op.align)
        data = codes.barcode_data(op.kind, op.data)  # checked before any setting goes out
        for key, cmd in codes.barcode_settings(op.height, op.width, op.hri).items():
            if self.st[key] != cmd:
                self.out += cmd
                self.st[key] = cmd
        self.out += data

    def feed(self, index: int, op: L.FeedOp) -> None:
        if op.dots is not None:
            self.out += c.feed_dots(op.dots)
        elif op.lines <= 2:  # at the start of a line, LF feeds one line in fewer bytes
            self.out += c.LF * op.lines
        else:
            self.out += c.feed_lines(op.lines)

    def raw(self, index: int, op: L.RawOp) -> None:
        self.out += op.data
        # raw bytes may change anything: assume nothing about the printer afterwards
        self.st = {k: None for k in self.st}
        self.last_style = None
        self.page = None
        self.stops, self.pending, self.tabs, self.runs = [], None, False, {}


#: how a laid-out operation (of the key's type: the third argument) is emitted; the second is its index
_Emit = Callable[[_Job, int, Any], None]
_EMIT: dict[type, _Emit] = {
    L.Line: _Job.line,
    L.Raster: _Job.raster,
    L.QrCode: _Job.qr,
    L.BarcodeOp: _Job.barcode,
    L.FeedOp: _Job.feed,
    L.CutOp: lambda job, i, op: job.out.extend(c.cut(op.mode, op.feed)),
    L.BeepOp: lambda job, i, op: job.out.extend(vendor.beep(op.times, op.duration)),
    L.DrawerOp: lambda job, i, op: job.out.extend(c.drawer_kick(op.pin, op.on_ms, op.off_ms)),
    L.RawOp: _Job.raw,
}
