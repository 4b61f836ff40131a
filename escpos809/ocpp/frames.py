"""OCPP-J frames: decode (JSON numbers as Decimal), check the shape, name the direction,
and validate payloads against the schemas shipped in the ``ocpp`` package (reference §1-2).

Schema findings are warnings, not refusals: real chargers deviate (1.6 numeric values,
units in values) and the receipt is still right. Only frames that are not OCPP-J at all are
refused, with the reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInput
from ..safejson import JsonRefused, Limits, check_text, loads, shown

if TYPE_CHECKING:
    from jsonschema.protocols import Validator  # jsonschema ships no types: Any to mypy
    from jsonschema_rs import Validator as FastValidator

CALL, RESULT, ERROR, RESULT_ERROR, SEND = 2, 3, 4, 5, 6
UP, DOWN = "up", "down"  # station → CSMS, CSMS → station
DIRECTIONS = {
    "cp->csms": UP,
    "cs->csms": UP,
    "up": UP,
    "cs": UP,
    "cp": UP,
    "station": UP,
    "csms->cp": DOWN,
    "csms->cs": DOWN,
    "down": DOWN,
    "csms": DOWN,
}
VERSIONS = {"ocpp1.6": "1.6", "1.6": "1.6", "ocpp2.0.1": "2.0.1", "2.0.1": "2.0.1", "ocpp2.1": "2.1", "2.1": "2.1"}
ONLY_16 = {"StartTransaction", "StopTransaction"}
ONLY_2X = {"TransactionEvent", "CostUpdated", "NotifyEVChargingNeeds", "NotifyEvent", "RequestStartTransaction"}
ONLY_21 = {"NotifySettlement", "NotifyWebPaymentStarted", "SetDefaultTariff", "ChangeTransactionTariff"}
MAX_FRAME_BYTES = 1 << 20
#: OCPP 2.0.1 gives the station identity 48 characters and message ids 36; stations in the
#: field go beyond both, so the limits are looser, but finite
MAX_CP_CHARS = 128
MAX_ID_CHARS = 128
#: an action names a schema file and a handler: letters and digits only (OCPP's are CamelCase)
ACTION = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
#: a message's payload: a JSON object as sent (numbers as Decimal), read field by field
Payload = dict[str, Any]


class FrameError(InvalidInput):
    """Not an OCPP-J frame; the message says why."""

    http_title = "Invalid OCPP frame"


@dataclass(slots=True)
class Frame:
    kind: int
    msg_id: str
    action: str | None = None
    payload: Payload = field(default_factory=dict)
    error_code: str | None = None
    error_description: str | None = None


class Exact(list):
    """A frame parsed from JSON text with every number already exact (``safejson.loads(...,
    exact=True)``): read as it is, without another walk over it. ``text``: the JSON it was
    parsed from, when known (the frame log keeps that, not the frame encoded again)."""

    __slots__ = ("text",)

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.text: str | None = None


def check_size(text: str) -> None:
    """A frame's text is at most :data:`MAX_FRAME_BYTES` of UTF-8, as a WebSocket message is
    measured (1 MiB of "€" is a third as many characters); :class:`FrameError` otherwise."""
    size = len(text)
    if size * 4 > MAX_FRAME_BYTES and not text.isascii():  # only then can the bytes be too many
        size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_FRAME_BYTES:
        raise FrameError(f"frame of {size:,} bytes is larger than {MAX_FRAME_BYTES:,}")


def exact_numbers(value: Any) -> Any:
    """Parsed JSON with every float turned into the Decimal of its shortest repr."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, list):
        return [exact_numbers(v) for v in value]
    if isinstance(value, dict):
        return {k: exact_numbers(v) for k, v in value.items()}
    return value


def decode(frame: Any) -> list:
    """A frame as text, bytes or parsed JSON → a list with every JSON number exact."""
    if isinstance(frame, (bytes, bytearray)):
        if len(frame) > MAX_FRAME_BYTES:
            raise FrameError(f"frame of {len(frame):,} bytes is larger than {MAX_FRAME_BYTES:,}")
        try:
            frame = frame.decode("utf-8")
        except UnicodeDecodeError:
            raise FrameError("frame is not UTF-8 text") from None
    if isinstance(frame, str):
        check_size(frame)
        try:
            frame = loads(frame, Limits(max_bytes=4 * MAX_FRAME_BYTES), exact=True)
        except JsonRefused as exc:
            raise FrameError(f"frame is not JSON we take ({exc})") from None
    elif not isinstance(frame, Exact):
        frame = exact_numbers(frame)
    if not isinstance(frame, list):
        raise FrameError(f"frame is a JSON {type(frame).__name__}, not an array [type, id, …]")
    return frame


def parse(frame: Any) -> Frame:
    """Check an OCPP-J frame's shape; :class:`FrameError` says what is wrong."""
    f = decode(frame)
    if not f or not isinstance(f[0], int) or isinstance(f[0], bool) or f[0] not in (2, 3, 4, 5, 6):
        raise FrameError(f"message type {f[0] if f else None!r} is not 2 (CALL), 3 (CALLRESULT), 4 (CALLERROR), 5 or 6")
    kind = f[0]
    if len(f) < 2 or not isinstance(f[1], str) or not f[1]:
        raise FrameError("message id missing or not a string")
    try:
        msg_id = check_text(f[1], "message id", MAX_ID_CHARS)
    except ValueError as exc:
        raise FrameError(str(exc)) from None
    if kind in (CALL, SEND):
        if len(f) != 4 or not isinstance(f[2], str) or not f[2]:
            raise FrameError(f"{'CALL' if kind == CALL else 'SEND'} must be [{kind}, id, action, payload]")
        if not ACTION.fullmatch(f[2]):
            raise FrameError(f"action {f[2][:40]!r} is not an OCPP action name (letters and digits, at most 64)")
        if not isinstance(f[3], dict):
            raise FrameError(f"{f[2]} payload is not a JSON object")
        return Frame(kind, msg_id, action=f[2], payload=f[3])
    if kind == RESULT:
        if len(f) != 3 or not isinstance(f[2], dict):
            raise FrameError("CALLRESULT must be [3, id, payload] with an object payload")
        return Frame(kind, msg_id, payload=f[2])
    if len(f) < 4 or not isinstance(f[2], str) or len(f[2]) > 64:
        raise FrameError("CALLERROR must be [4, id, errorCode, description, details]")
    return Frame(
        kind,
        msg_id,
        error_code=f[2],
        error_description=str(f[3]),
        payload=f[4] if len(f) > 4 and isinstance(f[4], dict) else {},
    )


def direction(text: str) -> str:
    d = DIRECTIONS.get(text.strip().lower()) if isinstance(text, str) else None
    if d is None:
        raise FrameError(f"direction {shown(text)} is not one of cp->csms, csms->cp, cs->csms, csms->cs")
    return d


def guess_version(action: str, payload: Payload) -> str | None:
    """The OCPP version an action alone reveals (None: it exists in several)."""
    if action in ONLY_16:
        return "1.6"
    if action in ONLY_21 or (action == "TransactionEvent" and "costDetails" in payload):
        return "2.1"
    if action in ONLY_2X:
        return "2.0.1"
    return None


@lru_cache(maxsize=512)
def _schema(version: str, action: str, response: bool) -> dict | None:
    """The ``ocpp`` package's JSON schema for a message, or None when there is none."""
    try:
        from importlib import resources

        folder = {"1.6": "v16", "2.0.1": "v201", "2.1": "v21"}[version]
        name = (
            f"{action}Response.json"
            if response
            else (f"{action}.json" if version == "1.6" else f"{action}Request.json")
        )
        text = (resources.files("ocpp") / folder / "schemas" / name).read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError, KeyError, OSError):
        return None
    schema: dict = json.loads(text)
    return schema


@lru_cache(maxsize=512)
def _fast(version: str, action: str, response: bool) -> FastValidator | None:
    """jsonschema-rs, compiled once per message type: answers "valid?" for every frame."""
    schema = _schema(version, action, response)
    if schema is None:
        return None
    import jsonschema_rs

    return jsonschema_rs.validator_for(schema)


@lru_cache(maxsize=512)
def _validator(version: str, action: str, response: bool) -> Validator | None:
    """jsonschema, compiled once per message type: explains only the frames that are not valid
    (its messages and paths are the ones the warnings have always carried)."""
    schema = _schema(version, action, response)
    if schema is None:
        return None
    import jsonschema

    return jsonschema.validators.validator_for(schema)(schema)


def schema_warnings(version: str | None, action: str, payload: Payload, response: bool = False) -> list[str]:
    """What the official schema finds wrong, as warnings (at most three, with their paths)."""
    if version is None:
        return []
    fast = _fast(version, action, response)
    if fast is None or fast.is_valid(payload):
        return []
    v = _validator(version, action, response)
    if v is None:
        return []
    out = []
    for err in sorted(v.iter_errors(payload), key=lambda e: list(e.absolute_path))[:3]:
        where = "/".join(str(p) for p in err.absolute_path) or "(payload)"
        msg = err.message if len(err.message) < 120 else err.message[:117] + "..."
        out.append(f"{action}{'Response' if response else ''} schema: {where}: {msg}")
    return out
