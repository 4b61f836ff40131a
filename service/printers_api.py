"""``/api/v1/printers``: the configured printers, with status and queue length."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, url_for

from .app import current
from .problems import Problem
from .worker import PrinterView, Worker

printers_api = Blueprint("printers", __name__)


class PrinterListing(PrinterView):
    queue: int  # jobs queued, printing or held
    jobs_url: str


def worker(name: str) -> Worker:
    """The worker of printer ``name``; 404 when no printer has that name."""
    w = current().workers.get(name)
    if w is None:
        known = ", ".join(sorted(current().workers))
        raise Problem(404, "Unknown printer", f"no printer named {name!r} (configured: {known})")
    return w


def _view(w: Worker) -> PrinterListing:
    return {
        **w.state.to_dict(),
        "queue": current().store.queue_length(w.state.name),
        "jobs_url": url_for("jobs.submit", name=w.state.name),
    }


@printers_api.get("/api/v1/printers")
def printers() -> Response:
    return jsonify({"printers": [_view(w) for w in current().workers.values()]})


@printers_api.get("/api/v1/printers/<name>")
def printer(name: str) -> Response:
    return jsonify(_view(worker(name)))
