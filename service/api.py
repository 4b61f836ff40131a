"""The JSON API under ``/api/v1``, plus ``/healthz`` and ``/metrics``. Every error is an
``application/problem+json`` body with a precise message (and JSON paths for document errors)."""

from __future__ import annotations

import hmac
import io
import logging
import re
import sqlite3
import time

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from werkzeug.exceptions import HTTPException

from escpos809 import __version__
from escpos809.escpos import commands, vendor

from . import idempotency, jobs
from .inputs import MAX_SQL_INT, int_arg, job_limits, parse_json
from .openapi import openapi
from .problems import Problem, problem  # noqa: F401 - problem() is also imported from here
from .store import STATES
from .websafety import visible_health

log = logging.getLogger(__name__)
api = Blueprint("api", __name__)

_JOB_ID = re.compile(r"^[0-9a-f]{16}$")


def service():
    return current_app.extensions["escpos809"]


@api.errorhandler(Problem)
def _problem(p: Problem):
    return problem(p.status, p.title, p.detail, p.errors, **p.extra)


@api.app_errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    if exc.code == 413:
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        return problem(413, "Request too large", f"the body is larger than the limit of {limit:,} bytes")
    return problem(exc.code or 500, exc.name, exc.description or exc.name)


@api.app_errorhandler(Exception)
def _unexpected(exc: Exception):
    log.exception("unhandled error on %s %s", request.method, request.path)
    return problem(500, "Internal error", f"{type(exc).__name__}: the service logged the details")


@api.before_app_request
def _authorize():
    token = service().config.token
    if not token or request.path in ("/healthz",) or not (request.path.startswith("/api/") or request.path == "/metrics"):
        return None
    given = request.headers.get("Authorization", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
        return problem(401, "Unauthorized", "send the service token as 'Authorization: Bearer <token>'")
    return None


# --- printers -----------------------------------------------------------------------------------------
def _worker(name: str):
    w = service().workers.get(name)
    if w is None:
        known = ", ".join(sorted(service().workers))
        raise Problem(404, "Unknown printer", f"no printer named {name!r} (configured: {known})")
    return w


def _printer_view(w) -> dict:
    return {**w.state.to_dict(), "queue": service().store.queue_length(w.state.name),
            "jobs_url": url_for("api.submit", name=w.state.name)}


@api.get("/api/v1/printers")
def printers():
    return jsonify({"printers": [_printer_view(w) for w in service().workers.values()]})


@api.get("/api/v1/printers/<name>")
def printer(name: str):
    return jsonify(_printer_view(_worker(name)))


# --- jobs ------------------------------------------------------------------------------------------------
def _parse_submission(body: bytes) -> jobs.Built:
    profile = service().profile
    ctype = (request.mimetype or "").lower()
    if ctype == "application/json":
        return jobs.from_json(parse_json(body, job_limits(service().config.max_body_bytes)), profile)
    if ctype in jobs.BODY_KINDS:
        return jobs.from_body(ctype, body, profile)
    accepted = ", ".join(["application/json", *jobs.BODY_KINDS])
    raise Problem(415, "Unsupported content type", f"got {ctype or 'none'!r}; send one of {accepted}")


def _built_or_problem(build) -> jobs.Built:
    try:
        return build()
    except jobs.BadSubmission as exc:
        raise Problem(422, "Invalid job", str(exc), exc.errors) from None
    except Problem:
        raise
    except Exception as exc:  # noqa: BLE001 - a bug this input found: refused with the reason, logged
        log.exception("job could not be rendered")
        raise Problem(422, "Job cannot be rendered", f"{type(exc).__name__}: {exc}"[:300]) from None


def _accept(name: str, build, kind: str, body: bytes = b""):
    """Store the job ``build()`` makes, once per Idempotency-Key: the same key with the same
    request returns the first job without building again; with another request it is a 422."""
    key = idempotency.key_from(request.headers.get("Idempotency-Key"))
    digest = idempotency.fingerprint(name, kind, body) if key else None
    earlier = service().store.by_key(name, key) if key else None
    if earlier is None:
        built = _built_or_problem(build)
        try:
            job, created = service().store.submit(name, built.kind, built.payload, built.data, key, digest)
        except sqlite3.Error as exc:
            log.exception("job not stored")
            raise Problem(503, "Job not stored", f"the job database refused it ({exc}); try again") from None
        if created:
            return _job_response(job, 202, built.warnings)
        earlier = service().store.by_key(name, key)  # the same key raced in from another request
    job, stored = earlier
    idempotency.check(key, job.id, stored, digest)
    return _job_response(job, 200, [])


def _job_response(job, status: int, warnings: list[str]) -> Response:
    body = {**job.to_dict(), "location": url_for("api.job", job_id=job.id), "warnings": warnings}
    resp = jsonify(body)
    resp.status_code = status
    resp.headers["Location"] = body["location"]
    return resp


@api.post("/api/v1/printers/<name>/jobs")
def submit(name: str):
    _worker(name)
    body = request.get_data(cache=False)
    return _accept(name, lambda: _parse_submission(body), f"jobs {(request.mimetype or '').lower()}", body)


@api.post("/api/v1/printers/<name>/test")
def test_print(name: str):
    w = _worker(name)
    doc = {"blocks": [
        {"type": "text", "text": "escpos809 test print", "bold": True, "width": 2, "height": 2, "align": "center"},
        {"type": "text", "text": f"printer {name}\n{w.state.uri}\n{time.strftime('%Y-%m-%d %H:%M:%S %z')}",
         "align": "center"},
        {"type": "rule"}, {"type": "text", "text": "äöü ß é ñ ç ø å € £ ¥  Привет"},
        {"type": "qr", "data": f"escpos809 test {name}", "size": 5},
        {"type": "cut", "feed": 3}]}
    return _accept(name, lambda: jobs.receipt({"document": doc}, service().profile), "test")


@api.post("/api/v1/printers/<name>/beep")
def beep(name: str):
    _worker(name)
    return _accept(name, lambda: jobs.raw(vendor.beep(1, 2)), "beep")


@api.post("/api/v1/printers/<name>/cut")
def cut(name: str):
    _worker(name)
    return _accept(name, lambda: jobs.raw(commands.cut("partial", 3)), "cut")


def _job_or_404(job_id: str):
    job = service().store.get(job_id) if _JOB_ID.match(job_id) else None
    if job is None:
        raise Problem(404, "Unknown job", f"no job {job_id!r}")
    return job


@api.get("/api/v1/jobs")
def list_jobs():
    args = request.args
    printer_name, state = args.get("printer"), args.get("state")
    if printer_name is not None:
        _worker(printer_name)
    if state is not None and state not in STATES:
        raise Problem(400, "Bad query", f"state must be one of {', '.join(STATES)}")
    limit = int_arg(args, "limit", 50, 1, 500)
    before = int_arg(args, "before", None, 1, MAX_SQL_INT)
    found = service().store.list(printer_name, state, limit + 1, before)
    page = found[:limit]
    body = {"jobs": [j.to_dict() for j in page], "next": None}
    if len(found) > limit:
        body["next"] = url_for("api.list_jobs", **{k: v for k, v in args.items() if k != "before"},
                               before=page[-1].seq)
    return jsonify(body)


@api.get("/api/v1/jobs/<job_id>")
def job(job_id: str):
    return jsonify(_job_or_404(job_id).to_dict())


@api.post("/api/v1/jobs/<job_id>/cancel")
@api.delete("/api/v1/jobs/<job_id>")
def cancel(job_id: str):
    j = _job_or_404(job_id)
    if not service().store.cancel(j.id):
        raise Problem(409, "Cannot cancel", f"job {j.id} is {service().store.get(j.id).state}; only queued or"
                      " held jobs can be cancelled")
    return jsonify(service().store.get(j.id).to_dict())


@api.post("/api/v1/jobs/<job_id>/release")
def release(job_id: str):
    j = _job_or_404(job_id)
    if not service().store.release(j.id):
        if j.state == "held" and j.hold_reason == "printer":
            raise Problem(409, "Cannot release", f"job {j.id} waits for the printer ({j.last_error}); it prints "
                          "by itself when the printer recovers")
        raise Problem(409, "Cannot release", f"job {j.id} is {j.state}, not held")
    return jsonify(service().store.get(j.id).to_dict())


def _png(images) -> Response:
    from PIL import Image

    if len(images) == 1:
        page = images[0]
    else:  # one picture for several cuts: the pages one under the other, a gap between
        gap = 24
        page = Image.new("L", (max(i.width for i in images), sum(i.height for i in images) + gap * (len(images) - 1)), 200)
        y = 0
        for im in images:
            page.paste(im, (0, y))
            y += im.height + gap
    buf = io.BytesIO()
    page.save(buf, "PNG", optimize=False)
    return Response(buf.getvalue(), mimetype="image/png", headers={"Cache-Control": "no-store"})


def _paper(data: bytes):
    """What the virtual printer would print for these bytes."""
    from escpos809.render.image import preview_bytes

    pages = preview_bytes(data, service().profile)
    if not pages:
        raise Problem(422, "Nothing to preview", "the job prints nothing visible")
    return pages


@api.get("/api/v1/jobs/<job_id>/preview.png")
def job_preview(job_id: str):
    j = _job_or_404(job_id)
    return _png(_paper((jobs.reprint_mark(service().profile) if j.reprint else b"") + j.data))


@api.post("/api/v1/preview")
def preview():
    body = request.get_data(cache=False)
    built = _built_or_problem(lambda: _parse_submission(body))
    return _png(_paper(built.data))


# --- operations ---------------------------------------------------------------------------------------------
@api.get("/api/v1/openapi.json")
def openapi_document():
    return jsonify(openapi())


@api.get("/healthz")
def healthz():
    svc = service()
    dead = [n for n, w in svc.workers.items() if not w.is_alive()]
    ok = svc.store.writable() and not dead
    body = {"status": "ok" if ok else "unhealthy", "version": __version__, "database": str(svc.config.database),
            "workers": {n: ("running" if w.is_alive() else "stopped") for n, w in svc.workers.items()}}
    return jsonify(visible_health(body, request.headers, svc.config.token)), 200 if ok else 503


@api.get("/metrics")
def metrics():
    """Prometheus text format: what a kiosk operator watches."""
    svc = service()
    counts = svc.store.counts()
    lines = ["# HELP escpos809_queue_length Jobs waiting or printing.", "# TYPE escpos809_queue_length gauge"]
    for name in svc.workers:
        n = sum(v for (p, s), v in counts.items() if p == name and s in ("queued", "printing", "held"))
        lines.append(f'escpos809_queue_length{{printer="{name}"}} {n}')
    lines += ["# HELP escpos809_jobs Jobs by final or current state.", "# TYPE escpos809_jobs gauge"]
    for (p, s), v in sorted(counts.items()):
        lines.append(f'escpos809_jobs{{printer="{p}",state="{s}"}} {v}')
    lines += ["# HELP escpos809_printer_ready 1 when the printer said it can print.",
              "# TYPE escpos809_printer_ready gauge"]
    for name, w in svc.workers.items():
        lines.append(f'escpos809_printer_ready{{printer="{name}"}} {int(w.state.status.ready)}')
    lines += ["# HELP escpos809_printer_status_known 1 when the last status query was answered.",
              "# TYPE escpos809_printer_status_known gauge"]
    for name, w in svc.workers.items():
        lines.append(f'escpos809_printer_status_known{{printer="{name}"}} {int(w.state.status.known)}')
    lines += ["# HELP escpos809_printed_total Jobs printed since the service started.",
              "# TYPE escpos809_printed_total counter"]
    for name, w in svc.workers.items():
        lines.append(f'escpos809_printed_total{{printer="{name}"}} {w.state.printed}')
    return Response("\n".join(lines) + "\n", mimetype="text/plain; version=0.0.4")


# --- OCPP frames → charging receipts: their own module, nested here (same errors, same auth) -------
from .ocpp_api import ocpp_api  # noqa: E402

api.register_blueprint(ocpp_api)
