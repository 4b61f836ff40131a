"""The calibration sheet: numbered lines for what only eyes can judge, and their bytes.

Each :class:`Line` says what a person should see; :func:`plan` is deterministic for a profile,
so answers given later (``--answer``, or ``--no-sheet`` on a second run) name the same lines.
Code pages are tested as (``ESC t n``, codec) hypotheses from the published tables of the
printer families (ocpp809-commands.md §3) and the base profile's own table: the samples of a
line are characters that tell its codec apart from the other hypotheses for the same ``n``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..escpos import codes, commands
from ..profile import Profile

#: ESC t n -> codec per family, pages with a Python codec only (ocpp809-commands.md §3)
XPRINTER = {0: "cp437", 2: "cp850", 3: "cp860", 4: "cp863", 5: "cp865", 16: "cp1252", 17: "cp866", 18: "cp852"}
XPRINTER |= {19: "cp858", 25: "cp1257", 28: "cp864", 32: "cp1255", 33: "cp1256"}
# 6 / 7 / 23 as receipt-printer-encoder 4 maps them for Xprinter (the Xprinter tables name no
# codec: unsure), and the extended Xprinter pages (§3 "50-89"; escpos-printer-db NT-80-V-UL)
XPRINTER |= {6: "latin-1", 7: "cp1253", 23: "cp1251", 53: "cp858", 54: "cp852", 55: "cp860", 56: "cp861"}
XPRINTER |= {57: "cp863", 58: "cp865", 59: "cp866", 60: "cp855", 61: "cp857", 62: "cp862", 63: "cp864"}
XPRINTER |= {50: "cp437", 52: "cp437", 64: "cp737", 66: "cp869", 71: "cp1252", 72: "cp1250", 73: "cp1251"}
XPRINTER |= {90: "cp1253"}
XPRINTER |= {91: "cp1254", 92: "cp1256", 93: "cp720", 94: "cp1258", 95: "cp775"}
SPRT = {0: "cp437", 2: "cp850", 3: "cp860", 4: "cp863", 5: "cp865", 6: "cp1251", 7: "cp866", 15: "cp862"}
SPRT |= {16: "cp1252", 17: "cp1253", 18: "cp852", 19: "cp858", 22: "cp864", 23: "iso8859_1", 24: "cp737"}
SPRT |= {25: "cp1257", 27: "cp720", 28: "cp855", 29: "cp857", 30: "cp1250", 31: "cp775", 32: "cp1254"}
SPRT |= {33: "cp1255", 34: "cp1256", 35: "cp1258", 36: "iso8859_2", 37: "iso8859_3", 38: "iso8859_4"}
SPRT |= {39: "iso8859_5", 40: "iso8859_6", 41: "iso8859_7", 42: "iso8859_8", 43: "iso8859_9", 44: "iso8859_15"}
EPSON = {0: "cp437", 2: "cp850", 3: "cp860", 4: "cp863", 5: "cp865", 13: "cp857", 14: "cp737", 15: "iso8859_7"}
EPSON |= {16: "cp1252", 17: "cp866", 18: "cp852", 19: "cp858", 32: "cp720", 33: "cp775", 34: "cp855", 35: "cp861"}
EPSON |= {36: "cp862", 37: "cp864", 38: "cp869", 39: "iso8859_2", 40: "iso8859_15", 44: "cp1125", 45: "cp1250"}
EPSON |= {46: "cp1251", 47: "cp1253", 48: "cp1254", 49: "cp1255", 50: "cp1256", 51: "cp1257", 52: "cp1258"}
EPSON |= {53: "kz1048"}
FAMILIES = {"xprinter": XPRINTER, "sprt": SPRT, "epson": EPSON}

#: tallest GS v 0 bands tried, in rows (the OCPP-80H needed 24-32; XSDK slices at 320)
BAND_ROWS = (8, 16, 24, 32, 64, 128, 256)
BAND_WIDTH_BYTES = 25  # a 200-dot bar: wide enough to see, cheap on the head
SAMPLE_CHARS = 8
CHINESE_SAMPLE = "éàçü"  # cp437 82 85 87 81: in Chinese mode two GB18030 characters


@dataclass(frozen=True)
class Line:
    """One numbered line of the sheet: what to check (``kind``), the question, what to see."""

    number: int
    kind: str  # chinese, codepage, qr, barcode, band, cut
    question: str  # for the person: what the line should look like
    expect: str = ""  # the text (or code content) a right line shows
    params: dict[str, Any] = field(default_factory=dict)
    title: str = ""  # what the paper says beside the number

    @property
    def label(self) -> str:
        return f"{self.number:02d} "


def _char(codec: str, b: int) -> str | None:
    try:
        return bytes([b]).decode(codec)
    except UnicodeDecodeError:
        return None


def sample(codec: str, others: list[str]) -> str:
    """Up to :data:`SAMPLE_CHARS` letters (€ first) of ``codec``'s upper half that no codec in
    ``others`` has on the same byte: a ROM with one of those shows other glyphs there."""
    picks: list[str] = []
    for b in range(0x80, 0x100):
        ch = _char(codec, b)
        if ch is None or not (ch.isalpha() or ch == "€"):
            continue
        if all(_char(o, b) != ch for o in others):
            picks.append(ch)
    picks.sort(key=lambda ch: ch != "€")  # stable: byte order after the euro sign
    return "".join(picks[:SAMPLE_CHARS])


def codepage_hypotheses(profile: Profile) -> list[tuple[int, str]]:
    """Every (``ESC t n``, codec) the families and the profile propose, sorted."""
    pairs = {(n, c) for table in (*FAMILIES.values(), profile.codepages) for n, c in table.items()}
    return sorted(pairs)


def plan(profile: Profile) -> list[Line]:
    """The sheet's numbered lines for ``profile`` (the same profile gives the same lines)."""
    lines: list[Line] = []

    def add(kind: str, question: str, expect: str = "", title: str = "", **params: Any) -> None:
        lines.append(Line(len(lines) + 1, kind, question, expect, params, title))

    add("chinese", f"shows the accents {CHINESE_SAMPLE} (not Chinese characters)", CHINESE_SAMPLE)
    hyps = codepage_hypotheses(profile)
    for n, codec in hyps:
        others = [c for m, c in hyps if m == n and c != codec] + ["cp437"] * (codec != "cp437")
        text = sample(codec, others)
        if text:
            add("codepage", f"ESC t {n} as {codec}: shows {text}", text, n=n, codec=codec)
    for form in ("epson", "legacy"):
        payload = f"escpos809 probe {len(lines) + 1} {form}"
        add("qr", f"a QR code ({form} form) a phone reads as '{payload}'", payload, f"QR, {form} form", form=form)
    add("barcode", "a CODE128 barcode reading 'PROBE-128'", "PROBE-128", "CODE128", type="code128")
    add("barcode", "an EAN-13 barcode reading '4006381333931'", "4006381333931", "EAN-13", type="ean13")
    for rows in BAND_ROWS:
        question = f"one solid bar {rows} dots (about {rows / 8:g} mm) tall, not shorter"
        add("band", question, str(rows), f"bar of {rows} dots", rows=rows)
    add("cut", "a full cut right below this line (the paper falls off)", "full", "full cut", mode="full")
    add("cut", "a partial cut right below this line (a bridge holds it)", "partial", "partial cut", mode="partial")
    return lines


def _line_bytes(line: Line) -> bytes:
    p, head = line.params, line.label.encode("ascii")
    lf = commands.LF
    if line.kind == "chinese":
        return head + line.expect.encode("cp437") + lf
    if line.kind == "codepage":
        body = line.expect.encode(p["codec"])
        return commands.select_codepage(p["n"]) + head + f"t{p['n']} {p['codec']} ".encode() + body + lf
    title = head + line.title.encode("ascii") + lf
    if line.kind == "qr":
        code = codes.qr_code(line.expect, 6, "M", form=p["form"])
        return title + commands.align("center") + code + lf + commands.align("left")
    if line.kind == "barcode":
        code = codes.barcode(p["type"], line.expect, height=64, width=2, hri="below")
        return title + commands.align("center") + code + lf + commands.align("left")
    if line.kind == "band":
        rows = p["rows"]
        return title + commands.raster_image(BAND_WIDTH_BYTES, rows, b"\xff" * (BAND_WIDTH_BYTES * rows)) + lf
    if line.kind == "cut":
        return title + commands.cut(p["mode"], 0)
    raise ValueError(f"unknown sheet line kind {line.kind!r}")


def sheet_bytes(lines: list[Line]) -> bytes:
    """The whole sheet: ``ESC @`` without ``FS .`` first (line 1 shows the power-on mode),
    then single-byte text for the rest."""
    out = bytearray(commands.initialize(cancel_chinese=False))
    out += b"escpos809 probe: calibration sheet\n"
    out += b"Note the numbers of the lines that print as described.\n"
    for line in lines:
        out += _line_bytes(line)
        if line.kind == "chinese":
            out += commands.cancel_chinese_mode()
        if line.kind == "codepage":
            out += commands.select_codepage(0)
    return bytes(out)  # the last line's cut ends the sheet
