"""``/healthz``: whether the job database takes writes and every printer's worker runs; what
else it tells depends on who asks (:func:`~escpos809_service.websafety.visible_health`)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from escpos809 import __version__

from .app import current
from .websafety import Health, visible_health

health_api = Blueprint("health", __name__)


@health_api.get("/healthz")
def healthz() -> tuple[Response, int]:
    svc = current()
    dead = [n for n, w in svc.workers.items() if not w.is_alive()]
    ok = svc.store.writable() and not dead
    body: Health = {
        "status": "ok" if ok else "unhealthy",
        "version": __version__,
        "database": str(svc.config.database),
        "workers": {n: ("running" if w.is_alive() else "stopped") for n, w in svc.workers.items()},
    }
    return jsonify(visible_health(body, request.headers, svc.config.token)), 200 if ok else 503
