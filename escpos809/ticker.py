"""A background thread that calls one function every few seconds until told to stop: the
receipt timers of the OCPP ingest and the EVerest listener (grace periods, retries)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable


def start_ticker(
    tick: Callable[[], object], interval: float, stop: threading.Event, name: str, log: logging.Logger
) -> threading.Thread:
    """Run ``tick`` every ``interval`` seconds until ``stop`` is set; an exception in one tick is
    logged and the next tick comes anyway (the timer must outlive any one receipt)."""

    def loop() -> None:
        while not stop.wait(interval):
            try:
                tick()
            except Exception:  # noqa: BLE001 - see the docstring
                log.exception("%s", name)

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    return thread
