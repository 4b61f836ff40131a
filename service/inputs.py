"""What clients send, read within limits before anything acts on it: the limits of a JSON job
body (read by :func:`escpos809.safejson.loads`, whose refusals answer 400 by themselves) and
integer query parameters in range (a 400, never an overflow further in)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import overload

from flask import request

from escpos809.safejson import DEFAULT, Limits

from .problems import Problem

#: a SQLite INTEGER (job seq cursors) is a signed 64-bit number
MAX_SQL_INT = 2**63 - 1
#: values (array items, object members' keys and values) in a job body: the documents the
#: schema takes must parse, 50,000 blocks with every member set (a text block has 10: 1,000,000
#: values, 7.5 MB) or a table of 50,000 rows of 16 cells (800,000). safejson's 500,000 refused
#: a 45,000-block document of 6 MB. The 100,000-container limit bounds memory (1.1M values:
#: under 80 MB at worst); what is refused is counted, not parsed
JOB_VALUES = 1_100_000


def job_limits(max_body_bytes: int) -> Limits:
    """The limits of a JSON job body under the service's ``max_body_bytes``."""
    return replace(DEFAULT, max_bytes=max_body_bytes, max_values=JOB_VALUES)


def request_body() -> bytes:
    """The request body, read in one go when its length is known (werkzeug's ``get_data``
    reads 64 KiB at a time into a growing buffer: ~2 ms more for a 2 MB job body).
    The service's ``max_body_bytes`` still answers 413 first (``request.stream``); a request
    without a body is a 411 (no length sent: its body, if any, would be read as the next
    request) or a 400 (an empty one), never a job made of nothing."""
    size = request.content_length
    if size is None:  # no length: a chunked body from a server that passes it on as it comes
        if data := request.get_data(cache=False):  # (waitress gives a chunked body its length)
            return data
        # neither a length nor chunked: what follows the headers is, to HTTP, the next request
        raise Problem(411, "Length required", "send the body with a Content-Length or Transfer-Encoding: chunked")
    if not size:
        raise Problem(400, "Empty body", "the request has no body; send the job in it")
    stream = request.stream
    data = stream.read(size)
    while len(data) < size and (more := stream.read(size - len(data))):  # a stream that gives less
        data += more
    return data


def content_type() -> str:
    """The request body's media type, lower case, without parameters ('' when none is sent)."""
    return (request.mimetype or "").lower()


@overload
def int_arg(args: Mapping[str, str], name: str, default: int, low: int, high: int) -> int: ...
@overload
def int_arg(args: Mapping[str, str], name: str, default: None, low: int, high: int) -> int | None: ...
def int_arg(args: Mapping[str, str], name: str, default: int | None, low: int, high: int) -> int | None:
    """A query parameter that must be a decimal integer from ``low`` to ``high``."""
    raw = args.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= len(str(high))) or not low <= int(raw) <= high:
        shown = raw if len(raw) <= 24 else raw[:20] + "…"
        raise Problem(400, "Bad query", f"{name} must be an integer from {low} to {high:,}; got {shown!r}")
    return int(raw)


def pdf_query(args: Mapping[str, str], names: tuple[str, ...]) -> dict[str, object]:
    """The options of an ``application/pdf`` body, sent as query parameters: the numbers as
    integers (the block's schema checks them all, and names a bad one by its field)."""
    out: dict[str, object] = {k: args[k] for k in names if k in args}
    for name in ("scale", "threshold"):
        digits = str(out.get(name, "")).removesuffix("%")
        if digits.isascii() and digits.isdigit() and len(digits) <= 6:
            out[name] = int(digits)
    return out
