"""RFC 9457 problem details: the one error shape of the API (``application/problem+json``)."""

from __future__ import annotations

import json

from flask import Response


class Problem(Exception):
    """Raised anywhere in a request; the API's error handler answers it with :func:`problem`."""

    def __init__(self, status: int, title: str, detail: str, errors: list[tuple[str, str]] | None = None, **extra):
        super().__init__(detail)
        self.status, self.title, self.detail, self.errors, self.extra = status, title, detail, errors, extra


def problem(status: int, title: str, detail: str, errors=None, **extra) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    if errors:
        body["errors"] = [{"path": p, "message": m} for p, m in errors]
    resp = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="escpos809"'
    return resp
