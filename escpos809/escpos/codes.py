"""Native QR codes (``GS ( k``) and 1-D barcodes (``GS k``) with per-symbology validation.

Bytes from ../shared/reference/ocpp809-commands.md §6 (QR) and §7 (barcodes).
"""

from __future__ import annotations

from ..errors import InvalidData
from ._check import choice, in_range

GS = b"\x1d"

# --- QR (§6) --------------------------------------------------------------------------------

_EC_LEVELS = {"l": 0, "m": 1, "q": 2, "h": 3}
#: Byte-mode capacity of a version-40 model-2 symbol per error level.
QR_BYTE_CAPACITY = {"l": 2953, "m": 2331, "q": 1663, "h": 1273}
_MODELS = {1: 0x31, 2: 0x32}


def _qr_payload(data: str | bytes, ec: str) -> bytes:
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if not payload:
        raise InvalidData("QR data is empty")
    limit = QR_BYTE_CAPACITY[ec.lower()]
    if len(payload) > limit:
        raise InvalidData(
            f"QR data is {len(payload)} bytes; at error level {ec.upper()} a QR code holds at most {limit}"
        )
    return payload


def _fn(fn: int, body: bytes) -> bytes:
    """Epson form: ``GS ( k pL pH 31 fn body`` with pL/pH counting from cn."""
    n = len(body) + 2
    return GS + b"(k" + n.to_bytes(2, "little") + bytes([0x31, fn]) + body


def qr_code(data: str | bytes, size: int = 6, ec: str = "M", model: int = 2, form: str = "epson") -> bytes:
    """Store and print a native QR code. Centre it with ``align("center")`` first.

    ``form="epson"`` sends fn 65/67/69/80/81 with pL pH lengths (H, print801 FW).
    ``form="legacy"`` sends the older Xprinter ``GS ( k 30 …`` sequence (M, XSDK), whose
    error-level byte values are not documented: 0x30-0x33 as in the Epson form is an
    assumption (G) to confirm with ``escpos809 probe``.
    """
    level = choice("QR error level", ec, _EC_LEVELS)
    payload = _qr_payload(data, ec)
    if form == "epson":
        m = choice("QR model", model, _MODELS)
        return (
            _fn(0x41, bytes([m, 0]))
            + _fn(0x43, bytes([in_range("QR module size", size, 1, 16)]))
            + _fn(0x45, bytes([0x30 + level]))
            + _fn(0x50, b"\x30" + payload)
            + _fn(0x51, b"\x30")
        )
    if form == "legacy":
        head = GS + b"(k0"
        return (
            head
            + b"\x67"
            + bytes([in_range("QR module size", size, 1, 16)])
            + head
            + b"\x69"
            + bytes([0x30 + level])
            + head
            + b"\x80"
            + len(payload).to_bytes(2, "little")
            + payload
            + head
            + b"\x81"
        )
    raise ValueError(f"QR form must be 'epson' or 'legacy', got {form!r}")


# --- barcodes (§7) ------------------------------------------------------------------------------

#: Function-B symbology numbers (m = 65..73), data length prefixed (no NUL terminator).
BARCODE_TYPES = {
    "upca": 65,
    "upce": 66,
    "ean13": 67,
    "ean8": 68,
    "code39": 69,
    "itf": 70,
    "codabar": 71,
    "code93": 72,
    "code128": 73,
}
_HRI = {"none": 0, "above": 1, "below": 2, "both": 3}
_HRI_FONT = {"a": 0, "b": 1}
_CODE39 = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%+-./")
_CODABAR_BODY = set("0123456789$+-./:")
_CODABAR_ENDS = set("ABCDabcd")


def ean_check_digit(body: str) -> int:
    """Check digit of an EAN-13 / EAN-8 / UPC-A body (weights 3,1,3,… from the right)."""
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def _digits(kind: str, data: str, lengths: tuple[int, ...]) -> bytes:
    if not data.isascii() or not data.isdigit():
        raise InvalidData(f"{kind.upper()} takes digits only, got {data!r}")
    if len(data) not in lengths:
        raise InvalidData(f"{kind.upper()} takes {' or '.join(map(str, lengths))} digits, got {len(data)}")
    if kind in ("ean13", "ean8", "upca") and len(data) == lengths[-1]:
        expected = ean_check_digit(data[:-1])
        if int(data[-1]) != expected:
            raise InvalidData(f"{kind.upper()} check digit of {data} should be {expected}")
    return data.encode("ascii")


def _validate(kind: str, data: str, code128_set: str) -> bytes:
    if kind == "ean13":
        return _digits(kind, data, (12, 13))
    if kind == "ean8":
        return _digits(kind, data, (7, 8))
    if kind == "upca":
        return _digits(kind, data, (11, 12))
    if kind == "upce":
        return _digits(kind, data, (6, 7, 8, 11, 12))
    if kind == "itf":
        if not (data.isascii() and data.isdigit()) or len(data) < 2 or len(data) % 2:
            raise InvalidData(f"ITF takes an even number (>= 2) of digits, got {data!r}")
        return data.encode("ascii")
    if kind == "code39":
        body = data[1:-1] if len(data) >= 2 and data[0] == data[-1] == "*" else data
        if not body or set(body) - _CODE39:
            bad = "".join(sorted(set(body) - _CODE39)) or "(empty)"
            raise InvalidData(f"CODE39 takes 0-9 A-Z space $ % + - . / only; not {bad!r}")
        return data.encode("ascii")
    if kind == "codabar":
        if (
            len(data) < 2
            or data[0] not in _CODABAR_ENDS
            or data[-1] not in _CODABAR_ENDS
            or set(data[1:-1]) - _CODABAR_BODY
        ):
            raise InvalidData(f"CODABAR must start and end with A-D and contain 0-9 $ + - . / : between; got {data!r}")
        return data.encode("ascii")
    if kind == "code93":
        if not data or not data.isascii():
            raise InvalidData(f"CODE93 takes 1-255 ASCII characters, got {data!r}")
        return data.encode("ascii")
    return code128_bytes(data, code128_set)


def _need_set(ch: str) -> str | None:
    """Code set a character forces (A for control characters, B for lower case), if any."""
    o = ord(ch)
    if o > 127:
        raise InvalidData(f"CODE128 takes ASCII only; {ch!r} is not")
    if o < 32:
        return "A"
    if o >= 96:
        return "B"
    return None


def code128_bytes(data: str, code_set: str = "auto") -> bytes:
    """ESC/POS CODE128 data with ``{A``/``{B``/``{C`` switches.

    ``auto`` picks the shortest usual encoding: code set C for runs of 4+ digits at the start
    or end and 6+ in the middle, A only for control characters, B otherwise. A literal ``{`` is
    sent as ``{{``. ``A``/``B``/``C`` force one set (python-escpos style).
    """
    if not data:
        raise InvalidData("CODE128 data is empty")
    code_set = code_set.upper() if code_set != "auto" else code_set
    if code_set in ("A", "B"):
        for ch in data:
            need = _need_set(ch)
            if need and need != code_set:
                raise InvalidData(f"CODE128 set {code_set} cannot carry {ch!r}")
        return b"{" + code_set.encode() + data.replace("{", "{{").encode("ascii")
    if code_set == "C":
        if not (data.isascii() and data.isdigit()) or len(data) % 2:
            raise InvalidData("CODE128 set C takes an even number of digits")
        return b"{C" + bytes(int(data[i : i + 2]) for i in range(0, len(data), 2))
    if code_set != "auto":
        raise ValueError(f"CODE128 code set must be auto, A, B or C, got {code_set!r}")

    out, cur, i, n = bytearray(), "", 0, len(data)
    while i < n:
        run = 0
        while i + run < n and data[i + run].isdigit() and data[i + run].isascii():
            run += 1
        if cur != "C":
            edge = cur == "" or i + run == n
            if run >= (4 if edge else 6) or (cur == "" and run == n == 2):
                if run % 2:  # odd run: one digit in A/B first, the rest as pairs
                    if not cur:
                        cur = "B"
                        out += b"{B"
                    out += data[i].encode()
                    i, run = i + 1, run - 1
                out += b"{C"
                cur = "C"
        if cur == "C" and run >= 2:
            for j in range(i, i + run - run % 2, 2):
                out.append(int(data[j : j + 2]))
            i += run - run % 2
            continue
        ch = data[i]
        need = _need_set(ch)
        if need is None and cur not in ("A", "B"):
            # choose by the next character that forces a set; B when none does
            need = next((s for s in map(_need_set, data[i:]) if s), "B")
        if need and need != cur:
            out += b"{" + need.encode()
            cur = need
        out += b"{{" if ch == "{" else ch.encode()
        i += 1
    return bytes(out)


def barcode_settings(height: int = 162, width: int = 3, hri: str = "below", hri_font: str = "A") -> dict[str, bytes]:
    """The four setting commands a barcode uses, keyed h / w / f / H (``GS h``, ``GS w``,
    ``GS f``, ``GS H``), so a renderer can skip the ones already in force."""
    return {
        "h": GS + b"h" + bytes([in_range("barcode height", height, 1, 255)]),
        "w": GS + b"w" + bytes([in_range("barcode module width", width, 2, 6)]),
        "f": GS + b"f" + bytes([choice("HRI font", hri_font, _HRI_FONT)]),
        "H": GS + b"H" + bytes([choice("HRI position", hri, _HRI)]),
    }


#: What ``ESC @`` leaves in force (Epson defaults: 162 dots, module 3, font A, no HRI).
BARCODE_DEFAULTS = barcode_settings(162, 3, "none", "A")


def barcode_data(kind: str, data: str, code128_set: str = "auto") -> bytes:
    """``GS k m n d…`` (function B) with the data checked for the symbology."""
    m = choice("barcode type", kind, BARCODE_TYPES)
    payload = _validate(kind.lower(), data, code128_set)
    if not 1 <= len(payload) <= 255:
        raise InvalidData(f"{kind.upper()} data encodes to {len(payload)} bytes; the printer takes 1-255")
    return GS + b"k" + bytes([m, len(payload)]) + payload


def barcode(
    kind: str,
    data: str,
    height: int = 162,
    width: int = 3,
    hri: str = "below",
    hri_font: str = "A",
    code128_set: str = "auto",
) -> bytes:
    """``GS h``, ``GS w``, ``GS f``, ``GS H`` then ``GS k m n d…`` (function B).

    ``kind``: upca, upce, ean13, ean8, code39, itf, codabar, code93, code128.
    Data is checked for the symbology (digits, lengths, check digits, character sets) so a
    bad value fails here rather than printing nothing.
    """
    data_part = barcode_data(kind, data, code128_set)
    return b"".join(barcode_settings(height, width, hri, hri_font).values()) + data_part
