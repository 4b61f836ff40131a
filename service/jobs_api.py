"""Jobs over HTTP: submit (a body of any accepted kind, a test print, a beep, a cut), list,
look up, cancel and release. A job is rendered and stored before the 202 goes out; an
``Idempotency-Key`` makes a repeated request return the first job."""

from __future__ import annotations

import logging
import re
import sqlite3
import time
from collections.abc import Callable
from typing import TypedDict

from flask import Blueprint, Response, jsonify, request, url_for

from escpos809.errors import Escpos809Error
from escpos809.escpos import commands, vendor
from escpos809.safejson import loads

from . import idempotency, jobs
from .app import current
from .inputs import MAX_SQL_INT, content_type, int_arg, job_limits, pdf_query, request_body
from .printers_api import worker
from .problems import Problem
from .store import STATES, Job, JobView

log = logging.getLogger(__name__)
jobs_api = Blueprint("jobs", __name__)

_JOB_ID = re.compile(r"^[0-9a-f]{16}$")


class JobPage(TypedDict):
    jobs: list[JobView]
    next: str | None  # the next page's URL; None on the last page


def _from_request(body: bytes) -> jobs.Built:
    """The job a request body makes, by its content type."""
    profile = current().profile
    ctype = content_type()
    if ctype == "application/json":
        return jobs.from_json(loads(body, job_limits(current().config.max_body_bytes)), profile)
    if ctype == "application/pdf":  # its options as query parameters
        return jobs.pdf(body, profile, "", **pdf_query(request.args, jobs.PDF_OPTIONS))
    if ctype in jobs.BODY_KINDS:
        return jobs.from_body(ctype, body, profile)
    accepted = ", ".join(["application/json", *jobs.BODY_KINDS])
    raise Problem(415, "Unsupported content type", f"got {ctype or 'none'!r}; send one of {accepted}")


def built(build: Callable[[], jobs.Built]) -> jobs.Built:
    """``build()``; our errors answer with their own status, anything else is a bug this input
    found: refused with the reason (and logged), never a 500."""
    try:
        return build()
    except Escpos809Error:
        raise
    except Exception as exc:  # noqa: BLE001
        log.exception("job could not be rendered")
        raise Problem(422, "Job cannot be rendered", f"{type(exc).__name__}: {exc}"[:300]) from None


def built_from_request() -> jobs.Built:
    """The job this request's body makes (previews render it without storing it)."""
    body = request_body()
    return built(lambda: _from_request(body))


def _accept(name: str, build: Callable[[], jobs.Built], kind: str, body: bytes = b"") -> Response:
    """Store the job ``build()`` makes, once per Idempotency-Key: the same key with the same
    request returns the first job without building again; with another request it is a 422."""
    store = current().store
    key = idempotency.key_from(request.headers.get("Idempotency-Key"))
    digest = idempotency.fingerprint(name, kind, body) if key else None
    earlier = store.by_key(name, key) if key else None
    if earlier is None:
        made = built(build)
        try:
            job, created = store.submit(name, made.kind, made.payload, made.data, key, digest)
        except sqlite3.Error as exc:
            log.exception("job not stored")
            raise Problem(503, "Job not stored", f"the job database refused it ({exc}); try again") from None
        if created:
            return _job_response(job, 202, made.warnings)
        assert key is not None  # a job without a key is always created
        earlier = store.by_key(name, key)  # the same key raced in from another request
    assert key is not None and digest is not None and earlier is not None  # only a key finds an earlier job
    job, stored = earlier
    idempotency.check(key, job.id, stored, digest)
    return _job_response(job, 200, [])


def _job_response(job: Job, status: int, warnings: list[str]) -> Response:
    body = {**job.to_dict(), "location": url_for("jobs.job", job_id=job.id), "warnings": warnings}
    resp = jsonify(body)
    resp.status_code = status
    resp.headers["Location"] = body["location"]
    return resp


@jobs_api.post("/api/v1/printers/<name>/jobs")
def submit(name: str) -> Response:
    worker(name)
    body = request_body()
    kind = f"jobs {content_type()}"
    if content_type() == "application/pdf":  # its options come in the query: part of what was asked
        kind += "?" + request.query_string.decode("latin-1")
    return _accept(name, lambda: _from_request(body), kind, body)


@jobs_api.post("/api/v1/printers/<name>/test")
def test_print(name: str) -> Response:
    w = worker(name)
    doc = {
        "blocks": [
            {"type": "text", "text": "escpos809 test print", "bold": True, "width": 2, "height": 2, "align": "center"},
            {
                "type": "text",
                "text": f"printer {name}\n{w.state.uri}\n{time.strftime('%Y-%m-%d %H:%M:%S %z')}",
                "align": "center",
            },
            {"type": "rule"},
            {"type": "text", "text": "äöü ß é ñ ç ø å € £ ¥  Привет"},
            {"type": "qr", "data": f"escpos809 test {name}", "size": 5},
            {"type": "cut", "feed": 3},
        ]
    }
    return _accept(name, lambda: jobs.receipt({"document": doc}, current().profile), "test")


@jobs_api.post("/api/v1/printers/<name>/beep")
def beep(name: str) -> Response:
    worker(name)
    return _accept(name, lambda: jobs.raw(vendor.beep(1, 2)), "beep")


@jobs_api.post("/api/v1/printers/<name>/cut")
def cut(name: str) -> Response:
    worker(name)
    return _accept(name, lambda: jobs.raw(commands.cut("partial", 3)), "cut")


def job_or_404(job_id: str, whole: bool = False) -> Job:
    """The stored job ``job_id`` (its payload and bytes only if ``whole``); 404 when there is none."""
    job = current().store.get(job_id, whole) if _JOB_ID.match(job_id) else None
    if job is None:
        raise Problem(404, "Unknown job", f"no job {job_id!r}")
    return job


@jobs_api.get("/api/v1/jobs")
def list_jobs() -> Response:
    args = request.args
    printer_name, state = args.get("printer"), args.get("state")
    if printer_name is not None:
        worker(printer_name)
    if state is not None and state not in STATES:
        raise Problem(400, "Bad query", f"state must be one of {', '.join(STATES)}")
    limit = int_arg(args, "limit", 50, 1, 500)
    before = int_arg(args, "before", None, 1, MAX_SQL_INT)
    found = current().store.list(printer_name, state, limit + 1, before)
    page = found[:limit]
    body = JobPage(jobs=[j.to_dict() for j in page], next=None)
    if len(found) > limit:
        # the list's own parameters only (None: left out): url_for reads others (_method,
        # _scheme, _anchor …) as its own options
        body["next"] = url_for(
            "jobs.list_jobs", printer=printer_name, state=state, limit=args.get("limit"), before=page[-1].seq
        )
    return jsonify(body)


@jobs_api.get("/api/v1/jobs/<job_id>")
def job(job_id: str) -> Response:
    return jsonify(job_or_404(job_id).to_dict())


@jobs_api.post("/api/v1/jobs/<job_id>/cancel")
@jobs_api.delete("/api/v1/jobs/<job_id>")
def cancel(job_id: str) -> Response:
    store = current().store
    j = job_or_404(job_id)
    if not store.cancel(j.id):
        raise Problem(
            409, "Cannot cancel", f"job {j.id} is {job_or_404(j.id).state}; only queued or held jobs can be cancelled"
        )
    return jsonify(job_or_404(j.id).to_dict())


@jobs_api.post("/api/v1/jobs/<job_id>/release")
def release(job_id: str) -> Response:
    store = current().store
    j = job_or_404(job_id)
    if not store.release(j.id):
        if j.state == "held" and j.hold_reason == "printer":
            raise Problem(
                409,
                "Cannot release",
                f"job {j.id} waits for the printer ({j.last_error}); it prints by itself when the printer recovers",
            )
        raise Problem(409, "Cannot release", f"job {j.id} is {j.state}, not held")
    return jsonify(job_or_404(j.id).to_dict())
