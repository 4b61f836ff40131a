"""The service token: with one set, every ``/api/`` and ``/metrics`` request must carry it as
``Authorization: Bearer …`` (compared in constant time); ``/healthz`` and the page need none."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, request

from .app import current
from .problems import problem

auth = Blueprint("auth", __name__)


@auth.before_app_request
def _authorize() -> Response | None:
    token = current().config.token
    guarded = request.path.startswith("/api/") or request.path == "/metrics"
    if not token or not guarded:  # /healthz, the page and its files are open
        return None
    given = request.headers.get("Authorization", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
        return problem(401, "Unauthorized", "send the service token as 'Authorization: Bearer <token>'")
    return None
