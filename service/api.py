"""The HTTP API under ``/api/v1``, plus ``/healthz`` and ``/metrics``: one blueprint per
concern, listed here for :func:`~escpos809_service.app.create_app`. Every error is an
``application/problem+json`` body (:mod:`.problems`)."""

from __future__ import annotations

from .auth import auth
from .health_api import health_api
from .jobs_api import jobs_api
from .ocpp_api import ocpp_api
from .ops_api import ops_api
from .preview_api import preview_api
from .printers_api import printers_api
from .problems import problem, problems

__all__ = ["BLUEPRINTS", "problem"]  # websafety answers its own refusals with problem(), from here

#: error answers and the token check first, then the routes
BLUEPRINTS = (problems, auth, printers_api, jobs_api, preview_api, ocpp_api, ops_api, health_api)
