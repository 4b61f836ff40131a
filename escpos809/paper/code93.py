"""Code 93 bar patterns (python-barcode has none), for drawing what the printer prints.

Widths per character are bar/space/bar/space/bar/space modules (9 in all); the 48th entry
is start/stop. Full ASCII uses the four shift characters ($) (%) (/) (+).
"""

from __future__ import annotations

_WIDTHS = (
    "131112 111213 111312 111411 121113 121212 121311 111114 131211 141111 "  # 0-9
    "211113 211212 211311 221112 221211 231111 112113 112212 112311 122112 "  # A-J
    "132111 111123 111222 111321 121122 131121 212112 212211 211122 211221 "  # K-T
    "221121 222111 112122 112221 122121 123111 "  # U-Z
    "121131 311112 311211 321111 112131 113121 211131 "  # - . space $ / + %
    "121221 312111 311121 122211 111141"  # ($) (%) (/) (+) start/stop
).split()
_BASIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%"
DOLLAR, PERCENT, SLASH, PLUS, START = 43, 44, 45, 46, 47


def _values(ch: str) -> list[int]:
    o = ord(ch)
    if ch in _BASIC:
        return [_BASIC.index(ch)]
    if "a" <= ch <= "z":
        return [PLUS, _BASIC.index(ch.upper())]
    if 1 <= o <= 26:
        return [DOLLAR, 9 + o]
    if o == 0:
        return [PERCENT, _BASIC.index("U")]
    if 27 <= o <= 31:
        return [PERCENT, _BASIC.index("ABCDE"[o - 27])]
    if 33 <= o <= 58:  # ! " # & ' ( ) * , : -> (/)A..(/)Z
        return [SLASH, 10 + o - 33]
    for first, letters in ((59, "FGHIJ"), (91, "KLMNO"), (123, "PQRST")):
        if first <= o < first + 5:
            return [PERCENT, _BASIC.index(letters[o - first])]
    if ch == "@":
        return [PERCENT, _BASIC.index("V")]
    if ch == "`":
        return [PERCENT, _BASIC.index("W")]
    raise ValueError(f"Code 93 cannot carry {ch!r}")


def _check(values: list[int], max_weight: int) -> int:
    return sum(v * (i % max_weight + 1) for i, v in enumerate(reversed(values))) % 47


def modules(text: str) -> str:
    """'1'/'0' module string of a Code 93 symbol with both check characters."""
    values = [v for ch in text for v in _values(ch)]
    values.append(_check(values, 20))
    values.append(_check(values, 15))
    out = []
    for v in [START, *values, START]:
        for k, w in enumerate(_WIDTHS[v]):
            out.append(("1" if k % 2 == 0 else "0") * int(w))
    return "".join(out) + "1"  # termination bar
