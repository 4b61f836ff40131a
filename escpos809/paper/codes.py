"""QR symbols and barcode bar patterns, drawn the way the printer draws them.

QR codes come from the ``qrcode`` package's matrix (the smallest version that holds the data),
barcodes from ``python-barcode``'s module patterns (Code 93 from :mod:`.code93`), so that a
decoder reads them back from the paper.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import qrcode

log = logging.getLogger(__name__)

_PYBARCODE = {
    "code128": "code128",
    "ean13": "ean13",
    "ean8": "ean8",
    "upca": "upca",
    "code39": "code39",
    "itf": "itf",
    "codabar": "codabar",
}
_BODY_DIGITS = {"ean13": 12, "ean8": 7, "upca": 11}


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


def barcode_modules(kind: str, data: str) -> str | None:
    """The bar pattern ('1' = black module) for a symbology, or None when it cannot be drawn."""
    import barcode
    from barcode.errors import BarcodeError

    if not data:
        return None  # no symbol without data: drawn as an empty box
    if kind == "code93":
        from .code93 import modules

        try:
            return modules(data)
        except ValueError:
            return None
    name = _PYBARCODE.get(kind)
    if name is None:  # UPC-E: drawn as a labelled box (see the job log for the data)
        return None
    text = data[: _BODY_DIGITS[kind]] if kind in _BODY_DIGITS else data
    cls = barcode.get_barcode_class(name)
    try:
        if kind == "code39":  # ESC/POS CODE39 carries no check character
            return "".join(cls(text.strip("*"), add_checksum=False).build())
        return "".join(cls(text).build())
    except (BarcodeError, ValueError, KeyError, IndexError, TypeError) as exc:
        log.info("cannot draw %s %r: %s", kind, data, exc)
        return None
