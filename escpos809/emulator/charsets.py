"""Character tables Python has no codec for, registered as codecs so the interpreter decodes
them like any other code page."""

from __future__ import annotations

import codecs
from typing import Any

#: Epson's Katakana page (ESC t 1): block elements and box drawing at 0x80-0x9F and 0xE0-0xEF
#: (the rules receiptline draws with), half-width katakana at 0xA1-0xDF, kanji for dates and
#: money at 0xF1-0xFD. The same table as receipt-printer-encoder 4's ``epson/katakana``.
_KATAKANA_HIGH = (
    "▁▂▃▄▅▆▇█▏▎▍▌▋▊▉┼"
    "┴┬┤├▔─│▕┌┐└┘╭╮╰╯"
    " " + "".join(chr(c) for c in range(0xFF61, 0xFFA0)) + "═╞╪╡◢◣◥◤♠♥♦♣●○╱╲"
    "╳円年月日時分秒〒市区町村人▒\u00a0"
)
KATAKANA = "escpos-katakana"
_TABLE = "".join(chr(c) for c in range(128)) + _KATAKANA_HIGH
assert len(_TABLE) == 256
_ENCODING = codecs.charmap_build(_TABLE)


def _decode(data: Any, errors: str = "strict", /) -> tuple[str, int]:  # any buffer
    return codecs.charmap_decode(bytes(data), errors, _TABLE)


def _encode(text: str, errors: str = "strict", /) -> tuple[bytes, int]:
    return codecs.charmap_encode(text, errors, _ENCODING)


def _search(name: str) -> codecs.CodecInfo | None:
    if name.replace("_", "-") == KATAKANA:
        return codecs.CodecInfo(_encode, _decode, name=KATAKANA)
    return None


codecs.register(_search)
