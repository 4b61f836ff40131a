"""JSON from outside, parsed within limits, before anything else looks at it.

``loads`` refuses, with a precise reason, what would be costly or poisonous further in: text
that is not UTF-8, nesting deeper than a few dozen levels (Python's parser would recurse
until ``RecursionError``), numbers of hundreds of digits (``int`` refuses 4,301+ digits; a
float of ``1e999`` is infinity), ``NaN``/``Infinity`` (not JSON), very long strings, too many
arrays and objects, and lone UTF-16 surrogates such as ``"\\ud800"`` (valid JSON grammar,
but not Unicode text: SQLite, UTF-8 encoders and printers choke on them; RFC 7493 I-JSON
forbids them). Size, value and container counts and number lengths are judged on the raw
bytes at C speed (``count``, ``translate``, a regular expression where one trips) before
``json.loads`` runs; the depth is then measured on the bytes too, when there are enough
brackets for it to matter (the parser's own recursion guard stops the absurd cases first). A
refusal costs about as much as reading the body.

Pure: no I/O, no logging.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .errors import InvalidData, InvalidInput
from .jsonkeep import parse_keeping


@dataclass(frozen=True)
class Limits:
    """What a JSON text may hold. The defaults suit receipt jobs and OCPP frames alike."""

    max_bytes: int = 8 << 20  # the whole text, UTF-8
    max_depth: int = 32  # arrays and objects inside each other
    max_number_chars: int = 40  # one number literal, sign, point and exponent included
    max_string_bytes: int = 16 << 20  # one string literal as sent (escapes included)
    max_values: int = 500_000  # values in arrays plus members of objects, all together
    max_containers: int = 100_000  # arrays + objects in the whole text


DEFAULT = Limits()


class JsonRefused(InvalidInput):
    """The text is not JSON we take; ``path`` is a JSON pointer when the place is known
    (lone surrogates)."""

    http_status = 400
    http_title = "Malformed JSON"
    #: well-formed, but beyond a :class:`Limits` value (:class:`JsonBeyondLimits`)
    limit = False

    def __init__(self, message: str, path: str | None = None):
        super().__init__(message)
        self.path = path
        self.errors = [(path, message)] if path else None


class JsonBeyondLimits(JsonRefused):
    """Well-formed JSON beyond a :class:`Limits` value (depth, size, counts, number length)."""

    http_title = "JSON beyond limits"
    limit = True


# a JSON string literal (unrolled loop: linear, no backtracking)
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
#: what is left of the text for counting and nesting: quotes, brackets, commas and colons
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'",:[]{}')
_NOT_NESTING = bytes(b for b in range(256) if b not in b'"[]{}')
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
# a surrogate escape that is not half of a high+low pair (it may also hit an escaped
# backslash followed by "ud800": the exact check after parsing then finds nothing)
_LONE_ESCAPE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])|"
    rb"(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


def _where(data: bytes, offset: int) -> str:
    line = data.count(b"\n", 0, offset) + 1
    column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return f"line {line} column {column}"


def _bare(data: bytes) -> bytes:
    """The text with every string emptied: structure, numbers and literals only."""
    return _STRING.sub(b'""', data)


# number characters as "0", all else blank: a long number is then a plain substring search
# (C speed) instead of a regular expression tried at every byte
_NUMBER_SHAPE = bytes(ord("0") if chr(b) in "+-.0123456789eE" else ord(" ") for b in range(256))


def _outside_strings(data: bytes) -> tuple[int, int]:
    """(values, arrays and objects) counted outside strings. Without a backslash before a
    quote every quote opens or closes a string, so a running parity of quotes says what is
    inside (numpy, C speed); otherwise the strings are cut out first."""
    if _escaped_quote(data):
        bare = _bare(data)
        return bare.count(b",") + bare.count(b":") + 1, bare.count(b"[") + bare.count(b"{")
    import numpy as np

    a = np.frombuffer(data, np.uint8)
    outside = ~np.bitwise_xor.accumulate(a == ord('"'))
    values = np.count_nonzero(((a == ord(",")) | (a == ord(":"))) & outside) + 1
    openers = np.count_nonzero(((a == ord("[")) | (a == ord("{"))) & outside)
    return int(values), int(openers)


def _long_number(text: bytes, limits: Limits) -> re.Match | None:
    """The first number literal longer than the limit (outside strings the 'e' of true and
    false stands alone). Judged on the raw text it may also hit digits inside a string."""
    at = text.translate(_NUMBER_SHAPE).find(b"0" * (limits.max_number_chars + 1))
    if at < 0:
        return None
    return re.compile(rb"[-+.0-9eE]{%d,}" % (limits.max_number_chars + 1)).search(text, at)


def _prescan(data: bytes, limits: Limits) -> tuple[int, bytes | None]:
    """The limits judged on the raw text. Each first looks at the bytes as they are (strings
    included: it can only over-count) and looks again without the strings only when that
    first look trips, so a body that is well within them costs a few C-speed passes.
    Returns a count of "[" and "{" that is at least the nesting depth, and the text's quotes
    and brackets (for :func:`_depth`; None for a short text)."""
    if len(data) > limits.max_bytes:
        raise JsonBeyondLimits(f"{len(data):,} bytes of JSON; at most {limits.max_bytes:,}")
    if len(data) > limits.max_string_bytes:  # only then can one string be too long
        longest = max(_STRING.finditer(data), key=lambda m: m.end() - m.start(), default=None)
        if longest is not None and longest.end() - longest.start() - 2 > limits.max_string_bytes:
            raise JsonBeyondLimits(
                f"a string of {longest.end() - longest.start() - 2:,} bytes at "
                f"{_where(data, longest.start())}; at most {limits.max_string_bytes:,}"
            )
    if len(data) < min(limits.max_values, limits.max_containers):  # short: no count can be over
        values, openers, nesting = 0, data.count(b"[") + data.count(b"{"), None
    else:
        # counted by what deleting removes: bytes.translate runs at memory speed, while
        # bytes.count of one byte walks it at a few times less (a 2 MB body: 2 ms for 4 counts)
        marks = data.translate(None, _NOT_STRUCTURE)
        nesting = marks.translate(None, b",:")
        values = len(marks) - len(nesting) + 1
        openers = len(nesting.translate(None, b'"]}'))
    if (values > limits.max_values or openers > limits.max_containers) and b'"' in data:
        values, openers = _outside_strings(data)  # commas and brackets inside strings do not count
    if values > limits.max_values:
        raise JsonBeyondLimits(f"{values:,} values; at most {limits.max_values:,}")
    if openers > limits.max_containers:  # parsing them would cost
        raise JsonBeyondLimits(f"{openers:,} arrays and objects; at most {limits.max_containers:,}")
    if _long_number(data, limits):
        m = _long_number(_bare(data), limits)
        if m is not None:
            text = m.group().decode("ascii")
            shown = text if len(text) <= 24 else f"{text[:12]}…{text[-6:]} ({len(text):,} characters)"
            raise JsonBeyondLimits(f"number {shown} is too long (at most {limits.max_number_chars} characters)")
    return openers, nesting


def _escaped_quote(data: bytes) -> bool:
    # one byte is looked for at memchr speed; most texts have no backslash at all
    return b"\\" in data and b'\\"' in data


def _depth(data: bytes, nesting: bytes | None) -> int:
    """How deep arrays and objects nest in well-formed JSON text, judged on its quotes and
    brackets (``nesting``, from :func:`_prescan`) at C speed: +1 at each "[" or "{" outside
    strings, -1 at each "]" or "}", the running sum's highest point (numpy). When every
    string is free of brackets, the quotes come in adjacent pairs and the brackets alone
    tell; otherwise strings are told apart as in :func:`_outside_strings`."""
    import numpy as np

    if _escaped_quote(data):  # quotes that do not end a string: the strings are cut out first
        nesting = _bare(data).translate(None, _NOT_NESTING)
    elif nesting is None:
        nesting = data.translate(None, _NOT_NESTING)
    brackets = nesting.translate(None, b'"')
    if len(nesting) - len(brackets) == 2 * nesting.count(b'""'):  # every string without brackets
        kept = brackets
    else:  # dropping a pair of adjacent quotes keeps every other byte's side of the quotes
        kept = nesting.replace(b'""', b"")
    a = np.frombuffer(kept, np.uint8)
    steps = ((a == ord("[")) | (a == ord("{"))).astype(np.int32)
    steps -= (a == ord("]")) | (a == ord("}"))
    if kept is not brackets:  # strings with brackets in them: those brackets do not count
        steps *= ~np.bitwise_xor.accumulate(a == ord('"'))
    return int(np.cumsum(steps).max(initial=0))


def _constant(name: str):
    raise JsonRefused(f"{name} is not a JSON number")


#: numbers beyond 10**±MAX_EXPONENT are refused (1e400 would be an infinite float)
MAX_EXPONENT = 99


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or (value and not 10.0**-MAX_EXPONENT <= abs(value) < 10.0 ** (MAX_EXPONENT + 1)):
        raise JsonBeyondLimits(f"number {text} is out of range (at most 10**±{MAX_EXPONENT})")
    return value


def _decimal(text: str) -> Decimal:
    value = Decimal(text)
    if value and abs(value.adjusted()) > MAX_EXPONENT:
        raise JsonBeyondLimits(f"number {text} is out of range (at most 10**±{MAX_EXPONENT})")
    return value


def lone_surrogate(value: Any, path: str = "") -> str | None:
    """The JSON pointer of the first string (or key) holding a lone UTF-16 surrogate, else None."""
    stack = [(path, value)]
    while stack:
        where, v = stack.pop()
        if isinstance(v, str):
            if not v.isascii() and not _encodes(v):
                return where or "/"
        elif isinstance(v, dict):
            for k, item in v.items():
                sub = f"{where}/{_pointer(k)}"
                if isinstance(k, str) and not k.isascii() and not _encodes(k):
                    return sub
                stack.append((sub, item))
        elif isinstance(v, list):
            stack.extend((f"{where}/{i}", item) for i, item in enumerate(v))
    return None


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _pointer(key) -> str:
    text = str(key).encode("utf-8", "backslashreplace").decode("utf-8")  # a bad key is shown escaped
    return text.replace("~", "~0").replace("/", "~1")


#: the characters check_text refuses without ``control``: C0, DEL and C1
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def check_text(value: Any, field: str, max_chars: int, *, control: bool = False) -> str:
    """An identifier or short text from outside: a string of 1 to ``max_chars`` characters,
    valid Unicode; without ``control`` no control characters (NUL, ESC, newlines …).
    Returns it; raises :class:`~escpos809.errors.InvalidData` naming ``field``."""
    if not isinstance(value, str):
        raise InvalidData(f"{field} must be a string, not {kind_of(value)}")
    if not value:
        raise InvalidData(f"{field} is empty")
    if len(value) > max_chars:
        raise InvalidData(f"{field} has {len(value):,} characters; at most {max_chars}")
    if value.isascii():
        if control or value.isprintable():  # ASCII's printable ones are exactly U+0020-U+007E
            return value
    elif not _encodes(value):
        raise InvalidData(f"{field} is not valid Unicode (a lone surrogate)")
    if not control and (found := _CONTROL.search(value)):
        bad = found.group()
        raise InvalidData(f"{field} contains the control character U+{ord(bad):04X}")
    return value


def kind_of(value: Any) -> str:
    """What a parsed JSON value is, in words: "an object", "an array", "a number", …"""
    return {dict: "an object", list: "an array", bool: "a boolean", type(None): "null", str: "a string"}.get(
        type(value), "a number"
    )


def shown(value: Any) -> str:
    """A value from outside as a message shows it: its ``repr``, cut short past 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:30] + "…"


def loads(data: bytes | str, limits: Limits = DEFAULT, *, exact: bool = False, surrogates: bool = False) -> Any:
    """Parse JSON text within ``limits``; :class:`JsonRefused` says what is wrong and where.

    ``exact`` gives numbers with a fraction or exponent as :class:`~decimal.Decimal` (money,
    energy); otherwise float. ``surrogates=True`` lets lone surrogates through for a caller
    that refuses them item by item (see :func:`lone_surrogate`)."""
    if isinstance(data, str):
        try:
            data = data.encode("utf-8")
        except UnicodeEncodeError:
            raise JsonRefused("the text is not valid Unicode (a lone surrogate)") from None
    elif isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    value, _ = _loads(data, limits, exact, surrogates, None)
    return value


def loads_keeping(
    data: bytes, key: str, limits: Limits = DEFAULT, *, exact: bool = False, surrogates: bool = False
) -> tuple[Any, list[str | None]]:
    """:func:`loads`, also giving member ``key``'s text as sent: of the object, or of each
    object in an array (None where there is none), so that it can be kept without being
    encoded again. Whitespace and escapes are as they came; it parses to the same value."""
    return _loads(data, limits, exact, surrogates, key)


def _loads(data: bytes, limits: Limits, exact: bool, surrogates: bool, key: str | None) -> tuple[Any, list]:
    openers, nesting = _prescan(data, limits)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonRefused(f"the text is not UTF-8: {exc.reason} at byte {exc.start}") from None
    decoder = _DECODERS[exact]
    kept: list[str | None] = []
    try:
        value = decoder.decode(text) if key is None else parse_keeping(text, decoder, key, kept)
    except JsonRefused:
        raise
    except json.JSONDecodeError as exc:
        raise JsonRefused(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:  # far deeper than max_depth: the parser's own guard tripped
        raise JsonBeyondLimits(f"nested more than {limits.max_depth} levels deep") from None
    except ValueError as exc:  # int() over its digit limit, should the prescan miss one
        raise JsonBeyondLimits(f"a number is out of range ({exc})") from None
    if openers > limits.max_depth and _depth(data, nesting) > limits.max_depth:  # fewer "[" and "{": it cannot be
        raise JsonBeyondLimits(f"nested more than {limits.max_depth} levels deep")
    if not surrogates and _SURROGATE_ESCAPE.search(data) and _LONE_ESCAPE.search(data):
        where = lone_surrogate(value)
        if where is not None:
            raise JsonRefused(f"{where}: a lone UTF-16 surrogate escape is not Unicode text", path=where)
    return value, kept


#: one decoder each way, made once (``json.loads`` with hooks makes a new one per call)
_DECODERS = {
    exact: json.JSONDecoder(parse_float=_decimal if exact else _float, parse_constant=_constant)
    for exact in (False, True)
}
