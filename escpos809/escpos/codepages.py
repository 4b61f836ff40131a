"""Unicode text → printer bytes with the fewest ``ESC t`` switches.

The code-page numbers come from the profile (numbering differs between printer families).
Characters no single-byte page carries but GB18030 does (CJK) are sent in Chinese mode,
``FS &`` … ``FS .``, which leaves the selected single-byte page in force afterwards.
A character nothing can carry becomes ``?`` and is reported, never an exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from ..profile import Profile
from .commands import cancel_chinese_mode, chinese_mode, select_codepage

REPLACEMENT = b"?"


@lru_cache(maxsize=65536)
def _encode_char(codec: str, ch: str) -> bytes | None:
    try:
        b = ch.encode(codec)
    except UnicodeEncodeError:
        return None
    # single-byte pages only; a control byte would be taken as a command
    if len(b) != 1 or (b[0] < 0x20 and ch not in "\n\t"):
        return None
    return b


@lru_cache(maxsize=65536)
def _encode_double(codec: str, ch: str) -> bytes | None:
    try:
        b = ch.encode(codec)
    except UnicodeEncodeError:
        return None
    # 4-byte GB18030 sequences (emoji, rare scripts) are not in printer fonts
    return b if len(b) == 2 else None


@dataclass
class Encoded:
    """Result of encoding: the bytes, the code page now selected, and what was replaced."""

    data: bytes
    codepage: int | None
    replaced: list[str] = field(default_factory=list)
    switches: int = 0


class TextEncoder:
    """Encodes text for one profile's code-page table, tracking the selected page."""

    def __init__(self, profile: Profile):
        self.table = dict(profile.codepages)
        self.preferred: Sequence[int] = profile.preferred_codepages
        self.double_codec = profile.chinese_codec

    def _char(self, page: int | None, ch: str) -> bytes | None:
        if page is None:  # nothing selected yet (after ESC @): only printable ASCII is safe
            return ch.encode() if ch.isascii() and (ch >= " " or ch in "\n\t") and ch != "\x7f" else None
        return _encode_char(self.table[page], ch)

    def _run(self, page: int, text: str, i: int) -> int:
        j = i
        while j < len(text) and self._char(page, text[j]) is not None:
            j += 1
        return j - i

    def _best_page(self, text: str, i: int) -> tuple[int | None, int]:
        best, best_len = None, 0
        rest = len(text) - i
        for page in self.preferred:
            n = self._run(page, text, i)
            if n > best_len:
                best, best_len = page, n
                if n == rest:  # carries the rest of the text: no page can do better
                    break
        return best, best_len

    def _double_run(self, text: str, i: int) -> int:
        """Length of the Chinese-mode run at i: double-byte characters and the ASCII between them."""
        j, end = i, i
        while j < len(text):
            ch = text[j]
            if _encode_double(self.double_codec, ch) is not None and self._best_page(text, j)[1] == 0:
                end = j + 1
            elif not (ch.isascii() and ch >= " "):
                break
            j += 1
        return end - i

    def encode(self, text: str, codepage: int | None = None) -> Encoded:
        """Encode ``text`` given the page currently selected on the printer (None = unknown)."""
        if codepage is not None and codepage not in self.table:
            raise ValueError(f"code page {codepage} is not in the profile's table")
        if text.isprintable():  # no control characters: try the whole string in one C call
            try:
                data = text.encode("ascii" if codepage is None else self.table[codepage])
            except UnicodeEncodeError:
                data = b""
            if data and min(data) >= 0x20:  # e.g. cp437 puts ☺ at 0x01: never send a control byte
                return Encoded(data, codepage)
        out, replaced, switches = bytearray(), [], 0
        i, n = 0, len(text)
        while i < n:
            ch = text[i]
            b = self._char(codepage, ch)
            if b is not None:
                out += b
                i += 1
                continue
            page, run = self._best_page(text, i)
            if run:
                assert page is not None  # a run is found on a page
                out += select_codepage(page)
                codepage, switches = page, switches + 1
                for c in text[i : i + run]:
                    cb = self._char(page, c)
                    assert cb is not None  # the run is what the page encodes
                    out += cb
                i += run
                continue
            run = self._double_run(text, i)
            if run:
                out += chinese_mode() + text[i : i + run].encode(self.double_codec) + cancel_chinese_mode()
                i += run
                continue
            replaced.append(ch)
            out += REPLACEMENT
            i += 1
        return Encoded(bytes(out), codepage, replaced, switches)
