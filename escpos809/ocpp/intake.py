"""The edge for OCPP frames from others: a request body or a replay line → the checked parts
:meth:`Ingest.feed` takes, or an error naming the field. The one reader of such items: the
print service's ``POST /api/v1/ocpp/frames`` and ``escpos809 ocpp replay`` both come here.

An item is ``{cp, dir, frame[, ts, version]}`` or a CitrineOS webhook body (``stationId``,
``event``, ``origin``, ``message``). Strings are judged here (valid Unicode, no control
characters, a sane length), ``ts`` is a finite number of Unix seconds in range. Pure: no I/O.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..errors import InvalidData
from ..safejson import Limits, check_text, loads_keeping, lone_surrogate, shown
from .frames import MAX_CP_CHARS, Exact, check_size

#: 9999-12-31T23:59:59Z: the last second a datetime can hold
MAX_TS = 253_402_300_799
#: a frame is at most 1 MiB (frames.MAX_FRAME_BYTES); a request may carry 1,000 of them
LIMITS = Limits(max_bytes=8 << 20)
MAX_ITEMS = 1000
#: a lone surrogate can only enter parsed JSON through a \uD800-\uDFFF escape (strict UTF-8
#: refuses encoded ones): text without one needs no walk over every string
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def may_hold_surrogates(data: bytes) -> bool:
    """Whether JSON text could parse to a string holding a lone surrogate."""
    return SURROGATE_ESCAPE.search(data) is not None


@dataclass(slots=True)
class Item:
    """One item's checked parts, as :meth:`Ingest.feed` takes them; ``ts`` is Unix seconds
    (a float, whatever the JSON number was), None for "when it arrives"."""

    cp: str
    direction: str
    frame: Any
    ts: float | None = None
    version: str | None = None


def check_ts(value: Any) -> float | None:
    """``ts`` as sent (None, int, float or Decimal) → float seconds; refuses booleans, text,
    NaN, infinities, negatives and times after the year 9999."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise InvalidData(f"ts {shown(value)} is not a number")
    if isinstance(value, Decimal) and not value.is_finite() or isinstance(value, float) and not math.isfinite(value):
        raise InvalidData(f"ts {shown(value)} is not a finite number")
    if not 0 <= value <= MAX_TS:
        raise InvalidData(f"ts {shown(value)} is out of range (0 to {MAX_TS:,} Unix seconds)")
    return float(value)


def _version(value: Any) -> str | None:
    if value is None:
        return None
    return check_text(value, "version", 16)


def parse_item(item: Any, surrogates: bool = True, text: str | None = None) -> Item | None:
    """An item (as :func:`loads_items` parsed it) → its checked parts; None for a CitrineOS
    event that carries no frame.
    ``surrogates=False``: the text it came from cannot hold one (:func:`may_hold_surrogates`).
    ``text``: the frame's JSON as sent (:func:`loads_items`), kept with it for the frame log.
    :class:`~escpos809.errors.InvalidData` says what is wrong."""
    if not isinstance(item, dict):
        raise InvalidData("each item must be an object {cp, dir, frame} or a CitrineOS webhook body")
    where = lone_surrogate(item) if surrogates else None
    if where is not None:
        raise InvalidData(f"{where}: not valid Unicode (a lone surrogate)")
    if "stationId" in item:  # CitrineOS subscription (webhook.dispatcher.ts)
        event = item.get("event", "message")
        if event != "message":
            if not isinstance(event, str):
                raise InvalidData(f"event must be a string, not {shown(event)}")
            return None
        cp = check_text(item["stationId"], "stationId", MAX_CP_CHARS)
        said = item.get("origin")
        origin = {"cs": "cs->csms", "csms": "csms->cs"}.get(said) if isinstance(said, str) else None
        if origin is None or "message" not in item:
            raise InvalidData("CitrineOS body needs origin 'cs' or 'csms' and a message")
        # "protocol" (ocpp1.6, ocpp2.0.1, ocpp2.1) as newer CitrineOS versions name the
        # station's OCPP version (unverified against a live CitrineOS: taken when present)
        return Item(cp, origin, _as_sent(item["message"], text), version=_version(item.get("protocol")))
    missing = [k for k in ("cp", "dir", "frame") if k not in item]
    if missing:
        raise InvalidData(f"missing {', '.join(missing)}")
    cp = check_text(item["cp"], "cp", MAX_CP_CHARS)
    direction = check_text(item["dir"], "dir", 16)
    frame = _as_sent(item["frame"], text)
    return Item(cp, direction, frame, check_ts(item.get("ts")), _version(item.get("version")))


def _as_sent(frame: Any, text: str | None) -> Any:
    """A frame array parsed by :func:`loads_items` (its numbers exact already) with its text."""
    if type(frame) is not list:
        return frame
    if text is not None:
        check_size(text)  # refused here, before the ingest sees it
    exact = Exact(frame)
    exact.text = text
    return exact


def loads_items(data: bytes) -> tuple[Any, list[str | None]]:
    """A request body or a replay line as JSON within :data:`LIMITS`, numbers exact (money,
    energy, time), and each item's ``frame`` (a CitrineOS body's ``message``) as sent (None
    where an item has none); :class:`~escpos809.safejson.JsonRefused` otherwise. Lone
    surrogates are left to :func:`parse_item`, so in an array one poisoned item spares the others."""
    value, texts = loads_keeping(data, "frame", LIMITS, exact=True, surrogates=True)
    items = value if isinstance(value, list) else [value]
    if any(isinstance(o, dict) and "stationId" in o for o in items):  # CitrineOS: the frame is "message"
        _, messages = loads_keeping(data, "message", LIMITS, exact=True, surrogates=True)
        if len(messages) == len(texts) == len(items):
            texts = [
                m if isinstance(o, dict) and "stationId" in o else t
                for o, t, m in zip(items, texts, messages, strict=True)
            ]
    return value, texts


def parse_line(line: bytes) -> Item | None:
    """One line of a replay log (``{ts, cp, dir, frame}`` or a CitrineOS body) → its checked
    parts, read as the service reads one item of a request."""
    item, texts = loads_items(line)
    return parse_item(item, may_hold_surrogates(line), texts[0] if texts else None)
