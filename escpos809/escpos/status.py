"""``DLE EOT 1..4`` and automatic-status-back replies → :class:`PrinterStatus`.

Bit tables from ../shared/reference/ocpp809-commands.md §11 (H). A status byte always has
bits 1 and 4 set and bits 0 and 7 clear; anything else is not a status reply (stale data,
print garbage), so it makes the status *unknown* rather than being guessed at. No reply means
unknown, never "OK".
"""

from __future__ import annotations

from ..record import Record

# the CUPS backend, a new process per job, asks the status: no dataclasses or typing at run
# time (tests/cups/test_startup.py keeps its modules)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import TypedDict

_FIXED_MASK, _FIXED_VALUE = 0x93, 0x12


def is_status_byte(b: int) -> bool:
    """True when ``b`` has the fixed bits of a ``DLE EOT`` reply (b1 = b4 = 1, b0 = b7 = 0)."""
    return b & _FIXED_MASK == _FIXED_VALUE


def is_confirmation_byte(b: int) -> bool:
    """True when ``b`` can be a reply to ``GS r 1`` / ``GS r 2`` (bits 4-7 clear: FW sends
    ``0x0C`` paper end, ``0x03`` near end, ``0x01`` drawer). A ``DLE EOT`` reply always has bit 4
    set and an automatic-status-back first byte too, so the two kinds can share one stream."""
    return b & 0xF0 == 0


class PrinterStatus(Record):
    """What the printer said about itself. Check ``known`` before anything else. A flag is
    None when the printer was not asked (or its reply did not tell)."""

    __slots__ = (
        "known",
        "reason",
        "online",
        "drawer_pin3_high",
        "cover_open",
        "feed_button",
        "paper_end_stop",
        "error",
        "mechanical_error",
        "cutter_error",
        "unrecoverable_error",
        "autorecoverable_error",
        "paper_near_end",
        "paper_end",
        "raw",
    )
    known: bool
    reason: str
    online: bool | None
    drawer_pin3_high: bool | None
    cover_open: bool | None
    feed_button: bool | None
    paper_end_stop: bool | None
    error: bool | None
    mechanical_error: bool | None
    cutter_error: bool | None
    unrecoverable_error: bool | None
    autorecoverable_error: bool | None
    paper_near_end: bool | None
    paper_end: bool | None
    raw: Mapping[int, int]

    def __init__(self, known: bool, reason: str = "", *, raw: Mapping[int, int] | None = None, **flags: bool | None):
        unknown_flags = flags.keys() - set(self.__slots__[2:-1])
        if unknown_flags:
            raise TypeError(f"PrinterStatus has no flag {sorted(unknown_flags)}")
        values = [flags.get(name) for name in self.__slots__[2:-1]]
        super().__init__(known, reason, *values, {} if raw is None else raw)

    @property
    def ready(self) -> bool:
        """Known, online and nothing in the way of printing."""
        return self.known and not self.problems() and bool(self.online)

    def problems(self) -> list[str]:
        """Human-readable list of what stops or threatens printing (empty when fine)."""
        if not self.known:
            return [f"status unknown: {self.reason}"]
        checks = [
            (self.paper_end or self.paper_end_stop, "paper out"),
            (self.cover_open, "cover open"),
            (self.cutter_error, "cutter error"),
            (self.mechanical_error, "mechanical error"),
            (self.unrecoverable_error, "unrecoverable error"),
            (self.autorecoverable_error, "auto-recoverable error"),
            (self.online is False and not self.feed_button, "offline"),
        ]
        return [text for flag, text in checks if flag]

    def warnings(self) -> list[str]:
        return ["paper near end"] if self.known and self.paper_near_end and not self.paper_end else []

    def to_dict(self) -> dict:
        d = {name: getattr(self, name) for name in self.__slots__}
        d["raw"] = {str(k): v for k, v in self.raw.items()}
        d["ready"] = self.ready
        d["problems"] = self.problems()
        d["warnings"] = self.warnings()
        return d


if TYPE_CHECKING:

    class _Flags(TypedDict, total=False):
        """The :class:`PrinterStatus` flags that the ``DLE EOT`` replies received so far tell."""

        online: bool
        drawer_pin3_high: bool
        cover_open: bool
        feed_button: bool
        paper_end_stop: bool
        error: bool
        mechanical_error: bool
        cutter_error: bool
        unrecoverable_error: bool
        autorecoverable_error: bool
        paper_near_end: bool
        paper_end: bool


def unknown(reason: str, raw: Mapping[int, int] | None = None) -> PrinterStatus:
    return PrinterStatus(known=False, reason=reason, raw=dict(raw or {}))


def decode(replies: Mapping[int, int]) -> PrinterStatus:
    """Decode replies to ``DLE EOT n`` keyed by n (1-4). n = 1 is required; 2-4 add detail."""
    if 1 not in replies:
        return unknown("no reply to DLE EOT 1", replies)
    for n, b in replies.items():
        if not is_status_byte(b):
            return unknown(f"reply 0x{b:02X} to DLE EOT {n} is not a status byte", replies)
    b1 = replies[1]
    flags: _Flags = {"drawer_pin3_high": bool(b1 & 0x04), "online": not b1 & 0x08}
    if (b2 := replies.get(2)) is not None:
        flags.update(
            {
                "cover_open": bool(b2 & 0x04),
                "feed_button": bool(b2 & 0x08),
                "paper_end_stop": bool(b2 & 0x20),
                "error": bool(b2 & 0x40),
            }
        )
    if (b3 := replies.get(3)) is not None:
        flags.update(
            {
                "mechanical_error": bool(b3 & 0x04),
                "cutter_error": bool(b3 & 0x08),
                "unrecoverable_error": bool(b3 & 0x20),
                "autorecoverable_error": bool(b3 & 0x40),
            }
        )
    if (b4 := replies.get(4)) is not None:
        flags.update({"paper_near_end": bool(b4 & 0x0C), "paper_end": bool(b4 & 0x60)})
    return PrinterStatus(known=True, raw=dict(replies), **flags)


def decode_asb(data: bytes) -> PrinterStatus:
    """Decode the 4 automatic-status-back bytes (``GS a`` pushes, ``ESC v`` on TCP 4000).

    Byte 1: 0x04 drawer, 0x08 offline, 0x20 cover open, 0x40 feed button. Byte 2: 0x04
    mechanical, 0x08 cutter, 0x20 unrecoverable, 0x40 auto-recoverable. Byte 3: 0x03 near end,
    0x0C paper end.
    """
    if len(data) < 4:
        return unknown(f"automatic status back needs 4 bytes, got {len(data)}")
    a, b, c = data[0], data[1], data[2]
    if a & 0x93 != 0x10 or b & 0x90 or c & 0x90 or data[3] & 0x90:
        return unknown(f"bytes {data[:4].hex(' ')} are not an automatic status back reply")
    return PrinterStatus(
        known=True,
        raw={0: a, 1: b, 2: c, 3: data[3]},
        drawer_pin3_high=bool(a & 0x04),
        online=not a & 0x08,
        cover_open=bool(a & 0x20),
        feed_button=bool(a & 0x40),
        mechanical_error=bool(b & 0x04),
        cutter_error=bool(b & 0x08),
        unrecoverable_error=bool(b & 0x20),
        autorecoverable_error=bool(b & 0x40),
        paper_near_end=bool(c & 0x03),
        paper_end=bool(c & 0x0C),
        paper_end_stop=bool(c & 0x0C),
    )
