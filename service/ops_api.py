"""What operators and tools read: the OpenAPI document and Prometheus ``/metrics``."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint, Response, jsonify

from .app import current
from .openapi import openapi

ops_api = Blueprint("ops", __name__)


@ops_api.get("/api/v1/openapi.json")
def openapi_document() -> Response:
    return jsonify(openapi())


def _family(name: str, kind: str, help_text: str, samples: Iterable[tuple[str, object]]) -> list[str]:
    """One metric in Prometheus text format: HELP, TYPE, then a line per (labels, value)."""
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    return lines + [f"{name}{{{labels}}} {v}" if labels else f"{name} {v}" for labels, v in samples]


@ops_api.get("/metrics")
def metrics() -> Response:
    """Prometheus text format: what a kiosk operator watches."""
    svc = current()
    counts = svc.store.counts()
    workers = svc.workers.items()

    def queued(name: str) -> int:
        return sum(v for (p, s), v in counts.items() if p == name and s in ("queued", "printing", "held"))

    lines = [
        *_family(
            "escpos809_queue_length",
            "gauge",
            "Jobs waiting or printing.",
            ((f'printer="{name}"', queued(name)) for name in svc.workers),
        ),
        *_family(
            "escpos809_jobs",
            "gauge",
            "Jobs by final or current state.",
            ((f'printer="{p}",state="{s}"', v) for (p, s), v in sorted(counts.items())),
        ),
        *_family(
            "escpos809_printer_ready",
            "gauge",
            "1 when the printer said it can print.",
            ((f'printer="{name}"', int(w.state.status.ready)) for name, w in workers),
        ),
        *_family(
            "escpos809_printer_status_known",
            "gauge",
            "1 when the last status query was answered.",
            ((f'printer="{name}"', int(w.state.status.known)) for name, w in workers),
        ),
        *_family(
            "escpos809_printed_total",
            "counter",
            "Jobs printed since the service started.",
            ((f'printer="{name}"', w.state.printed) for name, w in workers),
        ),
        *_family(
            "escpos809_store_commits_total",
            "counter",
            "Transactions that stored submitted jobs (several jobs submitted together share one).",
            [("", svc.store.group.batches)],
        ),
        *_family(
            "escpos809_store_committed_jobs_total",
            "counter",
            "Jobs stored by those transactions.",
            [("", svc.store.group.writes)],
        ),
    ]
    return Response("\n".join(lines) + "\n", mimetype="text/plain; version=0.0.4")
