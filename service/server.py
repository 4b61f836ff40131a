"""Run the service under waitress (a production WSGI server; httpserver.py tunes it against idle
and slow clients): start workers and zeroconf, stop gracefully on SIGTERM / SIGINT (the job in
flight finishes or is reprinted after restart)."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING

from escpos809.errors import Escpos809Error

from .config import ServiceConfig

if TYPE_CHECKING:
    from .app import Service
    from .httpserver import GuardedServer


class JsonFormatter(logging.Formatter):
    """One JSON object per line: what log collectors (journald, Loki) parse without rules."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "task queue depth" chatter under load


def _close(server: GuardedServer, grace: float = 5.0) -> None:
    """Stop accepting, let requests in progress answer, then close idle keep-alive connections
    (waitress's loop runs while any connection is open)."""
    server.close()
    dispatcher = server.task_dispatcher
    end = time.monotonic() + grace
    while dispatcher.unfinished and time.monotonic() < end:
        time.sleep(0.02)
    for channel in list(server._map.values()):  # noqa: SLF001 - waitress keeps its connections here
        channel.will_close = True
        channel.close()


def serve(config: ServiceConfig, ready: Callable[[str], object] | None = None) -> None:
    """Serve until SIGTERM / SIGINT. ``ready(url)`` is called once the socket listens."""
    from .app import create_app
    from .discovery import Advertiser
    from .httpserver import create_server

    app = create_app(config)
    service: Service = app.extensions["escpos809"]
    try:
        server = create_server(app, config)  # waitress, tuned against idle and slow clients
    except OSError as exc:
        service.stop()
        raise Escpos809Error(f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}") from None
    port = int(server.effective_port)
    url = f"http://{config.host}:{port}"
    log = logging.getLogger("escpos809_service")
    log.info(
        "listening on %s (printers: %s; database %s)",
        url,
        ", ".join(f"{n}={u}" for n, u in config.printers.items()),
        config.database,
    )
    advertiser = Advertiser(config.host, port, config.printers, service.profile).start() if config.zeroconf else None
    stopping = threading.Event()

    def stop(signum: int, _frame: FrameType | None) -> None:
        if stopping.is_set():
            return
        stopping.set()
        log.info("stopping (signal %d): finishing the job in flight", signum)
        threading.Thread(target=_close, args=(server,), daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if ready:
        ready(url)
    try:
        server.run()
    except OSError:
        if not stopping.is_set():
            raise
    finally:
        if advertiser:
            advertiser.close()
        service.stop()
        log.info("stopped")
