"""``POST /api/v1/ocpp/frames`` and ``GET /api/v1/ocpp/sessions``: frames from a CSMS (or a
CitrineOS webhook) become charging receipts. Each item is judged at the edge
(:mod:`escpos809.ocpp.intake`); one bad item is refused with its reason and never stops the
others, nor the sessions already assembled."""

from __future__ import annotations

from typing import TypedDict

from flask import Blueprint, Response, jsonify, request

from escpos809.errors import InvalidInput
from escpos809.ocpp.intake import MAX_ITEMS, loads_items, may_hold_surrogates, parse_item

from .app import current
from .inputs import content_type
from .problems import Problem

ocpp_api = Blueprint("ocpp", __name__)


class SessionRef(TypedDict):
    cp: str
    transaction: str


class _ItemResult(TypedDict):
    path: str  # JSON pointer of the item in an array body; "" for a single frame
    accepted: bool
    reason: str | None


class ItemResult(_ItemResult, total=False):
    """What became of one item; a frame that reached the assembler also says what it was."""

    action: str | None
    duplicate: bool
    warnings: list[str]
    sessions: list[SessionRef]


def _result(item: object, path: str, surrogates: bool, text: str | None) -> ItemResult:
    try:
        parts = parse_item(item, surrogates, text)
    except InvalidInput as exc:
        return {"path": path, "accepted": False, "reason": str(exc)}
    if parts is None:
        return {"path": path, "accepted": True, "reason": "CitrineOS event without a frame"}
    res = current().ocpp.feed(parts.cp, parts.direction, parts.frame, parts.ts, parts.version)
    return {
        "path": path,
        "accepted": res.accepted,
        "reason": res.reason or None,
        "action": res.action,
        "duplicate": res.duplicate,
        "warnings": res.warnings,
        "sessions": [{"cp": cp, "transaction": tx} for cp, tx in res.sessions],
    }


@ocpp_api.post("/api/v1/ocpp/frames")
def ocpp_frames() -> Response:
    """One frame (202, or 422 with the reason it was refused) or an array of them (200, a
    result per frame: one bad frame never stops the others)."""
    if content_type() != "application/json":
        raise Problem(415, "Unsupported content type", "send application/json")
    raw = request.get_data(cache=False)
    body, texts = loads_items(raw)
    surrogates = may_hold_surrogates(raw)
    items = body if isinstance(body, list) else [body]
    if not items or len(items) > MAX_ITEMS:
        raise Problem(422, "Invalid frames", f"send one frame object or an array of 1-{MAX_ITEMS:,}")
    with current().ocpp.batch():  # committed once, before the answer: stored when answered
        results = [
            _result(item, f"/{n}" if isinstance(body, list) else "", surrogates, texts[n] if texts else None)
            for n, item in enumerate(items)
        ]
    if not isinstance(body, list):
        r = results[0]
        if not r["accepted"]:
            why = r["reason"] or "refused"  # a refusal always says why; never a null detail
            raise Problem(422, "Frame refused", why, [("", why)])
        resp = jsonify(r)
        resp.status_code = 202
        return resp
    return jsonify(
        {
            "accepted": sum(r["accepted"] for r in results),
            "refused": sum(not r["accepted"] for r in results),
            "results": results,
        }
    )


@ocpp_api.get("/api/v1/ocpp/sessions")
def ocpp_sessions() -> Response:
    return jsonify({"sessions": current().ocpp.sessions()})
