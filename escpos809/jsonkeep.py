"""JSON text parsed with the text of one member kept as it was sent, for
:func:`escpos809.safejson.loads_keeping` (which judges the limits first): the decoder's own C
scanner reads value by value down to the members of the top object, or of each object in a top
array, and notes where the member's value lies. Anything it does not follow is read by the
whole decoder, which names any error exactly as ``json.loads`` does. Pure."""

from __future__ import annotations

import functools
import json
import re
from json.decoder import scanstring  # type: ignore[attr-defined]  # json's C string scanner
from typing import Any

_SPACE = re.compile(r"[ \t\n\r]*")
# a member's name without escapes (JSON strings hold no raw control characters), its colon
# and the space up to its value; then what follows the value
_NAME = re.compile(r'[ \t\n\r]*"([^"\\\x00-\x1f]*)"[ \t\n\r]*:[ \t\n\r]*')
_COLON = re.compile(r"[ \t\n\r]*:[ \t\n\r]*")
_NEXT_MEMBER = re.compile(r"[ \t\n\r]*([,}])")
_CLOSE_OBJECT = re.compile(r"[ \t\n\r]*}")


class _NotPlain(Exception):
    """Text the member walk does not follow: the whole decoder reads it (and names any error)."""


def parse_keeping(text: str, decoder: json.JSONDecoder, key: str, kept: list[str | None]) -> Any:
    """The text parsed by ``decoder``'s own C scanner value by value down to the members of
    the top object (or of each object in a top array), noting where ``key``'s value lies."""
    scan = decoder.scan_once  # type: ignore[attr-defined]  # the C scanner json builds
    value: Any
    if (first := _scalars_then(key).match(text)) is not None:
        # a top object whose members before ``key`` are plain scalars (a log line): read whole
        # by the decoder, then ``key``'s value scanned where it begins, unless the name
        # appears again after it (a repeated member: the last one counts)
        value = decoder.decode(text)
        found, end = scan(text, first.end())
        # a later member may repeat the name, spelt out or with escapes ("fr\u0061me")
        if text.find(f'"{key}"', end) < 0 and text.find("\\", end) < 0:
            kept.append(text[first.end() : end])
            return value
    try:
        at = _SPACE.match(text).end()  # type: ignore[union-attr]  # "*" always matches
        if text.startswith("{", at):
            value, at = _members(text, at, scan, key, kept)
        elif text.startswith("[", at):
            value, at = _elements(text, at, scan, key, kept)
        else:
            raise _NotPlain
        if _SPACE.match(text, at).end() != len(text):  # type: ignore[union-attr]
            raise _NotPlain
    except (_NotPlain, StopIteration, IndexError, json.JSONDecodeError):
        kept.clear()
        return decoder.decode(text)
    return value


@functools.lru_cache(maxsize=8)
def _scalars_then(key: str) -> re.Pattern[str]:
    """``{`` and members whose names have no escapes and whose values are plain scalars (a
    string without escapes, a number, a literal), up to where the value of member ``key`` begins.
    In JSON text the decoder took, what this matches is the top object's own members."""
    space = r"[ \t\n\r]*"
    name = r'"[^"\\\x00-\x1f]*"'
    scalar = rf"(?:{name}|[-+.0-9eE]+|true|false|null)"
    member = rf"{space}{name}{space}:{space}{scalar}{space},"
    return re.compile(rf'{space}\{{(?:{member})*{space}"{re.escape(key)}"{space}:{space}')


def _members(text: str, at: int, scan: Any, key: str, kept: list[str | None]) -> tuple[dict, int]:
    obj: dict[str, Any] = {}
    span: str | None = None
    if (m := _CLOSE_OBJECT.match(text, at + 1)) is not None:
        kept.append(None)
        return obj, m.end()
    at += 1
    while True:
        if (m := _NAME.match(text, at)) is not None:
            name, at = m.group(1), m.end()
        else:  # a name with escapes ("fr\u0061me" is "frame"): json's own string scanner reads it
            at = _SPACE.match(text, at).end()  # type: ignore[union-attr]
            if not text.startswith('"', at):
                raise _NotPlain
            name, at = scanstring(text, at + 1)
            if (m := _COLON.match(text, at)) is None:
                raise _NotPlain
            at = m.end()
        obj[name], end = scan(text, at)
        if name == key:  # the last of repeated names wins, as in the parsed object
            span = text[at:end]
        if (m := _NEXT_MEMBER.match(text, end)) is None:
            raise _NotPlain
        if m.group(1) == "}":
            kept.append(span)
            return obj, m.end()
        at = m.end()


def _elements(text: str, at: int, scan: Any, key: str, kept: list[str | None]) -> tuple[list, int]:
    out: list[Any] = []
    at = _SPACE.match(text, at + 1).end()  # type: ignore[union-attr]
    if text[at] == "]":
        return out, at + 1
    while True:
        if text[at] == "{":
            value, at = _members(text, at, scan, key, kept)
        else:
            value, at = scan(text, at)
            kept.append(None)
        out.append(value)
        at = _SPACE.match(text, at).end()  # type: ignore[union-attr]
        if text[at] == "]":
            return out, at + 1
        if text[at] != ",":
            raise _NotPlain
        at = _SPACE.match(text, at + 1).end()  # type: ignore[union-attr]
