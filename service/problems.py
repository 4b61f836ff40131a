"""RFC 9457 problem details: the one error shape of the API (``application/problem+json``),
and the handlers that answer every error with it. An error brings its own HTTP status and
title (:mod:`escpos809.errors`); nothing here maps classes by hand."""

from __future__ import annotations

import json
import logging

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import HTTPException

from escpos809.errors import Escpos809Error

log = logging.getLogger(__name__)
problems = Blueprint("problems", __name__)


class Problem(Escpos809Error):
    """A refusal only the HTTP API makes (unknown printer or job, content type, query, state
    conflict): its status and title are given where it is raised. It is never raised outside
    a request, so the exit and CUPS codes it inherits are never used."""

    def __init__(self, status: int, title: str, detail: str, errors: list[tuple[str, str]] | None = None):
        super().__init__(detail)
        self.http_status, self.http_title, self.errors = status, title, errors


def problem_body(status: int, title: str, detail: str, errors: list[tuple[str, str]] | None = None) -> bytes:
    """The problem+json document (also for the refusals the HTTP server makes before Flask)."""
    body: dict[str, object] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = [{"path": p, "message": m} for p, m in errors]
    return json.dumps(body).encode()


def problem(status: int, title: str, detail: str, errors: list[tuple[str, str]] | None = None) -> Response:
    """A problem+json response (401s also name the scheme in ``WWW-Authenticate``)."""
    resp = Response(problem_body(status, title, detail, errors), status=status, mimetype="application/problem+json")
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="escpos809"'
    return resp


@problems.app_errorhandler(Escpos809Error)
def _error(exc: Escpos809Error) -> Response:
    if exc.http_status >= 500:  # the service's own fault or set-up: worth a look in the log
        log.error("%s on %s %s: %s", type(exc).__name__, request.method, request.path, exc)
    return problem(exc.http_status, exc.http_title, str(exc), exc.errors)


@problems.app_errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    if exc.code == 413:
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        return problem(413, "Request too large", f"the body is larger than the limit of {limit:,} bytes")
    return problem(exc.code or 500, exc.name, exc.description or exc.name)


@problems.app_errorhandler(Exception)
def _unexpected(exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return problem(500, "Internal error", f"{type(exc).__name__}: the service logged the details")
