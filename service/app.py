"""``create_app(config)``: the Flask application, its job store and one worker per printer."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app
from flask.json.provider import DefaultJSONProvider

from escpos809.profile import Profile, load_profile

from .config import ServiceConfig
from .store import JobStore
from .websafety import HostPolicy, WebSafety
from .worker import Worker

if TYPE_CHECKING:
    from escpos809.everest.listener import Listener
    from escpos809.ocpp.ingest import Ingest, Sink
    from escpos809.ocpp.receipt import Summary

log = logging.getLogger(__name__)


class _JSONProvider(DefaultJSONProvider):
    sort_keys = False  # JSON bodies keep their keys in the order the code wrote them


class Service:
    """The parts behind the HTTP API: store, profile, workers."""

    def __init__(self, config: ServiceConfig):
        self.config = config
        self.profile: Profile = load_profile(config.profile)
        self.store = JobStore(config.database)
        recovered = self.store.recover(config.on_restart)
        if recovered:
            log.warning(
                "jobs interrupted by the last stop: %s (%s)",
                ", ".join(recovered),
                "reprinting, marked" if config.on_restart == "reprint" else "held for release",
            )
        self.workers = {
            name: Worker(
                name,
                uri,
                self.store,
                self.profile,
                poll_s=config.poll_s,
                backoff=(0.5, config.retry_max_s),
                require_status=config.require_status,
            )
            for name, uri in config.printers.items()
        }
        self.ocpp = self._ocpp_ingest()
        self.everest = self._everest_listener()
        self._stopped = threading.Event()

    def _ocpp_ingest(self) -> Ingest:
        """Charging receipts: frames in SQLite next to the jobs, receipts through the job queue
        (idempotency key ocpp:<cp>:<tx>, so a session is queued once whatever happens)."""
        from escpos809.ocpp.config import OcppConfig
        from escpos809.ocpp.ingest import Ingest

        cfg, printer = self.config.ocpp or OcppConfig(), self.config.ocpp_printer
        database = (
            ":memory:"
            if str(self.config.database) == ":memory:"
            else str(Path(self.config.database).with_name("ocpp.db"))
        )

        return Ingest(cfg, database, self._receipt_sink(printer))

    def _receipt_sink(self, printer: str) -> Sink:
        """Charging receipts into the job queue, the sink's key as the idempotency key."""
        from . import jobs

        def sink(key: str, doc: dict[str, Any], summary: Summary, reprint: bool) -> str:
            built = jobs.receipt({"document": doc}, self.profile)
            job, _ = self.store.submit(printer, built.kind, built.payload, built.data, key)
            return job.id

        return sink

    def _everest_listener(self) -> Listener | None:
        """[everest]: receipts of an EVerest charger's sessions (MQTT), state in everest.db
        next to the jobs, receipts through the job queue (key everest:<session>)."""
        if self.config.everest is None:
            return None
        from escpos809.everest.listener import Listener
        from escpos809.ocpp.config import OcppConfig

        database = (
            ":memory:"
            if str(self.config.database) == ":memory:"
            else str(Path(self.config.database).with_name("everest.db"))
        )
        sink = self._receipt_sink(self.config.everest_printer)
        return Listener(self.config.everest, self.config.ocpp or OcppConfig(), database, sink)

    def start(self) -> Service:
        for w in self.workers.values():
            w.start()
        self.ocpp.start()
        if self.everest:
            self.everest.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Let each printer finish its job in flight; what cannot finish is reprinted after restart."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        for w in self.workers.values():  # all at once: the printers finish in parallel
            w.request_stop()
        for w in self.workers.values():
            if not w.stop(timeout):
                log.warning(
                    "printer %s: job %s still in flight at shutdown; it will be reprinted", w.state.name, w.current
                )
        self.ocpp.close()
        if self.everest:
            self.everest.close()
        self.store.close()


def current() -> Service:
    """The service behind the request being handled."""
    return current_app.extensions["escpos809"]


def create_app(config: ServiceConfig | None = None, start: bool = True) -> Flask:
    """The WSGI application. ``start=False`` leaves the printer workers stopped (for tests)."""
    from .api import BLUEPRINTS
    from .web import web
    from .web.designer import designer

    config = config or ServiceConfig(printers={"default": "virtual://default"})
    config.check()
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.json = _JSONProvider(app)
    service = Service(config)
    app.extensions["escpos809"] = service
    for blueprint in (*BLUEPRINTS, web, designer):
        app.register_blueprint(blueprint)
    # Host and Origin checks, CORS for configured origins: before anything else runs
    # (Flask's documented way to add WSGI middleware; mypy sees wsgi_app only as a method)
    app.wsgi_app = WebSafety(  # type: ignore[method-assign]
        app.wsgi_app, HostPolicy(config.host, config.server_names), config.allowed_origins
    )
    if start:
        service.start()
    return app
