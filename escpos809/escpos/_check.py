"""Parameter checks shared by the builders: one message shape for every range error."""

from __future__ import annotations

TYPE_CHECKING = False  # as typing.TYPE_CHECKING; typing itself is not imported on the CUPS filter's path
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import TypeVar

    _K = TypeVar("_K", str, int)  # an option's name: matched case-insensitively when it is a string
    _V = TypeVar("_V")


def in_range(name: str, value: int, low: int, high: int) -> int:
    """Return ``value`` if ``low <= value <= high``, else raise ValueError naming the range."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer {low}-{high}, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be {low}-{high}, got {value}")
    return value


def choice(name: str, value: _K, options: Mapping[_K, _V]) -> _V:
    """Look ``value`` up in ``options`` (case-insensitive), or raise naming the options."""
    key = value.lower() if isinstance(value, str) else value
    if key not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(str, options))}, got {value!r}")
    return options[key]


def u16le(name: str, value: int) -> bytes:
    """Two-byte little-endian parameter (nL nH)."""
    return in_range(name, value, 0, 0xFFFF).to_bytes(2, "little")
