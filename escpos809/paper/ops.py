"""What is on paper: one operation per printed line, image, code, cut or signal, made by the
virtual printer's interpreter (from bytes) or by the preview (from laid-out operations)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, NamedTuple


class Cell(NamedTuple):
    """One printed character with the style it was printed in. Immutable (a tuple: hashed and
    compared in C, which drawing a line at a time needs); the interpreter shares one instance
    between every same-styled occurrence of a character."""

    char: str
    font: str = "A"
    bold: bool = False
    underline: int = 0
    width: int = 1  # width multiplier 1-8
    height: int = 1  # height multiplier 1-8
    inverse: bool = False
    double_byte: bool = False  # CJK: two cells wide
    #: a blank this many dots wide (ESC $, ESC \\, the place of an ESC * image in its line), not a
    #: character: neither reversed nor underlined, whatever the style
    advance: int = 0

    def dots(self, fonts: dict[str, tuple[int, int]]) -> tuple[int, int]:
        """(width, height) of the cell in dots, given each font's (width, height)."""
        w, h = fonts[self.font]
        if self.advance:
            return self.advance, h * self.height
        if self.double_byte:
            w = h  # a GB18030 character is square: 24x24 in font A
        return w * self.width, h * self.height


@dataclass
class Op:
    """An operation: ``kind`` plus its arguments; ``y`` is the paper position (dots) it starts at."""

    kind: str
    args: dict[str, Any] = field(default_factory=dict)
    y: int = 0
    height: int = 0

    def to_json(self) -> dict[str, Any]:
        """The operation as JSON-ready data: bytes as base64, cells as their ``text``."""
        out: dict[str, Any] = {"kind": self.kind, "y": self.y, "height": self.height}
        for k, v in self.args.items():
            if isinstance(v, (bytes, bytearray)):
                out[k] = base64.b64encode(bytes(v)).decode("ascii")
            elif k == "cells":
                out["text"] = "".join(c.char for c in v)
            else:
                out[k] = v
        return out

    @property
    def text(self) -> str:
        """The characters of a text operation (empty for other kinds)."""
        return "".join(c.char for c in self.args.get("cells", []))
