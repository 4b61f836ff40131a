"""What clients send, read within limits before anything acts on it: JSON bodies through
:mod:`escpos809.safejson` (a precise 400 for text that is not JSON we take) and integer query
parameters in range (a 400, never an overflow further in)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from escpos809.safejson import DEFAULT, JsonRefused, Limits, loads

from .problems import Problem

#: a SQLite INTEGER (job seq cursors) is a signed 64-bit number
MAX_SQL_INT = 2**63 - 1
#: a job body: the safejson defaults, with fewer values (a receipt of 2,000 blocks and full
#: tables stays far below; parsing what is refused then costs little more than reading it)
JOB_VALUES = 200_000


def job_limits(max_body_bytes: int) -> Limits:
    """The limits of a JSON job body under the service's ``max_body_bytes``."""
    return replace(DEFAULT, max_bytes=max_body_bytes, max_values=JOB_VALUES)


def parse_json(body: bytes, limits: Limits, *, exact: bool = False, surrogates: bool = False) -> Any:
    """A request body as JSON within ``limits``; :class:`Problem` 400 says what is wrong."""
    try:
        return loads(body, limits, exact=exact, surrogates=surrogates)
    except JsonRefused as exc:
        title = "JSON beyond limits" if exc.limit else "Malformed JSON"
        raise Problem(400, title, str(exc), [(exc.path, str(exc))] if exc.path else None) from None


def int_arg(args: Mapping[str, str], name: str, default: int | None, low: int, high: int) -> int | None:
    """A query parameter that must be a decimal integer from ``low`` to ``high``."""
    raw = args.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= len(str(high))) or not low <= int(raw) <= high:
        shown = raw if len(raw) <= 24 else raw[:20] + "…"
        raise Problem(400, "Bad query", f"{name} must be an integer from {low} to {high:,}; got {shown!r}")
    return int(raw)
