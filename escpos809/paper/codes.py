"""QR symbols, barcodes and 2D symbols, drawn the way the printer draws them.

QR codes come from the ``qrcode`` package's matrix (the smallest version that holds the data);
barcodes and the other 2D symbols (PDF417, Data Matrix) from zint (``zint-bindings``), so that
a decoder reads them back from the paper. The printer's own sizes are applied here: a module
of ``GS w n`` dots, and for the two-width symbologies (Code 39, ITF, Codabar) the firmware's
wide-bar table instead of zint's ratio.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import qrcode

log = logging.getLogger(__name__)

#: ESC/POS symbology name -> zint symbology name
_ZINT_1D = {
    "upca": "UPCA",
    "upce": "UPCE",
    "ean13": "EANX",
    "ean8": "EANX",
    "code39": "CODE39",
    "itf": "C25INTER",
    "codabar": "CODABAR",
    "code93": "CODE93",
    "code128": "CODE128",
    "gs1-128": "GS1_128",
    "databar": "DBAR_OMN",
    "databar-limited": "DBAR_LTD",
    "databar-expanded": "DBAR_EXP",
}
_ZINT_2D = {"pdf417": "PDF417", "datamatrix": "DATAMATRIX", "qr": "QRCODE", "microqr": "MICROQR"}
_BODY_DIGITS = {"ean13": 12, "ean8": 7, "upca": 11}
#: symbologies of narrow and wide elements: the firmware draws wide ones from its own table
TWO_WIDTH = ("code39", "itf", "codabar")
#: GS w n (2-6) -> wide element in dots (print801 ``Command_1D77``: ThickWidth {5, 8, 10, 13, 15});
#: the narrow element is n dots
WIDE_DOTS = {2: 5, 3: 8, 4: 10, 5: 13, 6: 15}


def make_qr(data: bytes, ec: str) -> qrcode.QRCode | None:
    """The smallest QR symbol holding ``data`` at error correction ``ec`` (L, M, Q or H), or
    None if no symbol can hold it."""
    import qrcode
    from qrcode.exceptions import DataOverflowError

    level = {
        "L": qrcode.constants.ERROR_CORRECT_L,
        "M": qrcode.constants.ERROR_CORRECT_M,
        "Q": qrcode.constants.ERROR_CORRECT_Q,
        "H": qrcode.constants.ERROR_CORRECT_H,
    }[ec]
    qr = qrcode.QRCode(error_correction=level, border=0)
    qr.add_data(data)
    try:
        qr.make(fit=True)
    except (DataOverflowError, ValueError):
        return None
    return qr


def qr_modules(data: bytes, ec: str) -> int | None:
    """Modules per side of the symbol the printer would draw for ``data`` (None: none fits)."""
    qr = make_qr(data, ec)
    return qr.modules_count if qr else None


def _zint(symbology: str, data: bytes | str, **options: int) -> np.ndarray:
    """zint's module matrix (rows x columns, 1 = dark) for ``data``; ValueError if zint refuses."""
    import zint

    sym = zint.Symbol()
    sym.symbology = getattr(zint.Symbology, symbology)
    for name, value in options.items():
        setattr(sym, name, value)
    try:
        sym.encode(data)
    except RuntimeError as exc:  # zint reports bad data as RuntimeError("Error nnn: ...")
        raise ValueError(str(exc)) from exc
    packed = np.array(sym.encoded_data, dtype=np.uint8)
    return np.unpackbits(packed, axis=1, bitorder="little")[: sym.rows, : sym.width]


def upce_from_upca(digits: str) -> str | None:
    """The 6 UPC-E digits for an 11- or 12-digit UPC-A number (number system 0 or 1), or None
    when it has no zero-suppressed form (the UPC-E rules of GS1 General Specifications 5.2.2.4.2)."""
    if len(digits) not in (11, 12) or not digits.isdigit() or digits[0] not in "01":
        return None
    m, p = digits[1:6], digits[6:11]  # manufacturer, product
    if m[3:] == "00" and m[2] in "012" and p[:2] == "00":
        return m[:2] + p[2:] + m[2]
    if m[3:] == "00" and p[:3] == "000":
        return m[:3] + p[3:] + "3"
    if m[4] == "0" and p[:4] == "0000":
        return m[:4] + p[4] + "4"
    if m[4] != "0" and p[:4] == "0000" and p[4] in "56789":
        return m + p[4]
    return None


def _1d_data(kind: str, data: str) -> str:
    """What zint is given for ESC/POS barcode data (check digits recomputed, start/stop stripped)."""
    if kind in _BODY_DIGITS:
        return data[: _BODY_DIGITS[kind]]
    if kind == "upce":
        if len(data) in (11, 12):
            short = upce_from_upca(data)
            if short is None:
                raise ValueError(f"UPC-A number {data} has no UPC-E form")
            return data[0] + short
        return data[:7] if len(data) > 7 else data  # zint recomputes the check digit
    if kind == "code39":  # ESC/POS CODE39 data may carry its '*' start/stop; zint adds them
        return data.strip("*")
    if kind == "itf" and len(data) % 2:
        return data[:-1]  # the firmware drops the last digit of an odd count
    return data


def barcode_row(kind: str, data: str, module: int) -> np.ndarray | None:
    """One row of the barcode in dots (bool, True = bar), as the printer draws it at module
    width ``module`` (GS w); None when it cannot be drawn (bad data for the symbology)."""
    name = _ZINT_1D.get(kind)
    if name is None or not data:
        return None
    try:
        text = _1d_data(kind, data)
        modules = _zint(name, text)[0].astype(bool)
    except ValueError as exc:
        log.info("cannot draw %s %r: %s", kind, data, exc)
        return None
    if kind not in TWO_WIDTH:
        return np.repeat(modules, module)
    # runs of zint modules: 1 = narrow, longer = wide; each drawn at the firmware's widths
    edges = np.flatnonzero(np.diff(modules.astype(np.int8))) + 1
    starts = np.concatenate(([0], edges))
    lengths = np.diff(np.concatenate((starts, [len(modules)])))
    wide = WIDE_DOTS.get(module, round(module * 2.5))
    dots = np.where(lengths > 1, wide, module)
    return np.repeat(modules[starts], dots)


def matrix(kind: str, data: bytes, **options: int) -> np.ndarray:
    """A 2D symbol's modules (rows x columns, bool) from zint: pdf417 (``option_1`` error
    correction level 0-8, ``option_2`` data columns), datamatrix, qr, microqr. ValueError when
    the data does not fit."""
    return _zint(_ZINT_2D[kind], data, **options).astype(bool)
