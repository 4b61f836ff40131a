"""The ingest service behind every source (replay, HTTP, WebSocket tap): frames go into the
assembler and the frame log; a session that is complete prints once, after the grace period
for its final cost (reference §10), and a failed print is retried, never dropped."""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Callable, Protocol

from .assembler import Assembler, Result
from .config import OcppConfig
from .receipt import Summary, document, summarize
from .session import Session
from .store import FAILED, PRINTED, PRINTING, FrameStore

log = logging.getLogger("escpos809.ocpp")
RETRY_S = 5.0
#: frames older than this are dropped at start: their sessions printed (or died) long ago
KEEP_FRAMES_S = 90 * 86400


class Sink(Protocol):
    def __call__(self, key: str, doc: dict, summary: Summary, reprint: bool) -> str:
        """Print (or queue) one receipt; returns a job reference; raises on failure."""


def _json_default(value):
    if isinstance(value, Decimal):
        return float(value) if value == value.to_integral_value() else str(value)
    raise TypeError(type(value).__name__)


def frame_text(frame) -> str:
    """The frame as stored: received text unchanged, parsed JSON re-encoded (numbers exact)."""
    if isinstance(frame, (bytes, bytearray)):
        return frame.decode("utf-8", "replace")
    if isinstance(frame, str):
        return frame
    return json.dumps(frame, default=lambda v: _DecimalJSON(v), separators=(",", ":"))


class _DecimalJSON(float):
    """Encodes a Decimal as its exact digits (json.dumps calls float.__repr__)."""

    def __new__(cls, value: Decimal):
        obj = super().__new__(cls, value)
        obj._text = format(value, "f") if value == value.to_integral_value() and "E" in str(value) else str(value)
        return obj

    def __repr__(self) -> str:
        return self._text


@dataclass
class Printed:
    cp: str
    tx: str
    job: str
    summary: Summary


class Ingest:
    def __init__(self, cfg: OcppConfig, database: str | Path, sink: Sink, clock: Callable[[], float] = time.time):
        self.cfg, self.sink, self.clock = cfg, sink, clock
        self.store = FrameStore(database)
        self.asm = Assembler(cfg.tz)
        self._lock = threading.RLock()
        self._retry_at: dict[tuple[str, str], float] = {}
        self.printed: list[Printed] = []
        self.stats = {"frames": 0, "rejected": 0, "duplicates": 0, "warnings": 0}
        self.store.prune(clock() - KEEP_FRAMES_S)
        for cp, direction, version, received, frame in self.store.frames():
            self.asm.feed(cp, direction, frame, received, version)
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None

    # --- input ------------------------------------------------------------------------------
    def feed(self, cp: str, direction: str, frame, received_at: float | None = None,
             version: str | None = None) -> Result:
        """One frame from any source. Garbage is refused with the reason; nothing raises."""
        now = self.clock() if received_at is None else float(received_at)
        text = frame_text(frame)
        with self._lock:
            res = self.asm.feed(cp, direction, text, now, version)
            self.stats["frames"] += 1
            if not res.accepted:
                self.stats["rejected"] += 1
                log.warning("frame from %s refused: %s", cp, res.reason)
                return res
            self.stats["duplicates"] += res.duplicate
            self.stats["warnings"] += len(res.warnings)
            if not res.duplicate:
                self.store.append(cp, direction, version, now, text)
            for w in res.warnings:
                log.info("frame from %s: %s", cp, w)
        self.flush(now)
        return res

    # --- printing ---------------------------------------------------------------------------
    def due(self, s: Session, now: float) -> bool:
        if not s.ended:
            return False
        if s.version == "1.6" and s.final_cost is not None:
            return True
        if s.version == "2.0.1" and s.ended_replied:
            return True
        if s.version == "2.1" and s.settled:
            return True
        return now >= (s.ended_received or 0) + self.cfg.grace_s

    def flush(self, now: float | None = None, force: bool = False) -> list[Printed]:
        """Print every complete session that is due (all complete ones with ``force``)."""
        now = self.clock() if now is None else now
        out = []
        with self._lock:
            candidates = [s for s in self.asm.sessions.values() if s.ended and (force or self.due(s, now))]
        for s in candidates:
            key = (s.cp, s.tx)
            if self._retry_at.get(key, 0) > time.monotonic():
                continue
            state = self.store.receipt(*key)
            if state and state["state"] == PRINTED:
                continue
            done = self._print(s, reprint=bool(state and state["state"] == PRINTING))
            if done:
                out.append(done)
        return out

    def _print(self, s: Session, reprint: bool) -> Printed | None:
        with self._lock:
            summary = summarize(s, self.cfg)
            doc = document(summary, self.cfg)
        key = f"ocpp:{s.cp}:{s.tx}"
        self.store.set_receipt(s.cp, s.tx, PRINTING, summary=summary.to_json())
        try:
            job = self.sink(key, doc, summary, reprint)
        except Exception as exc:  # noqa: BLE001 - printer offline, a bug in layout: retried, not lost
            self.store.set_receipt(s.cp, s.tx, FAILED, error=f"{type(exc).__name__}: {exc}")
            self._retry_at[(s.cp, s.tx)] = time.monotonic() + RETRY_S
            log.warning("receipt %s not printed (retried in %g s): %s", key, RETRY_S, exc)
            return None
        self.store.set_receipt(s.cp, s.tx, PRINTED, job=job)
        self._retry_at.pop((s.cp, s.tx), None)
        done = Printed(s.cp, s.tx, job, summary)
        self.printed.append(done)
        log.info("receipt %s printed: %s", key, job)
        return done

    def sessions(self) -> list[dict]:
        with self._lock:
            out = []
            for s in self.asm.sessions.values():
                row = summarize(s, self.cfg).to_json()
                state = self.store.receipt(s.cp, s.tx)
                row["state"] = state["state"] if state else ("waiting" if s.ended else "open")
                row["job"] = state["job"] if state else None
                out.append(row)
            return out

    # --- background: grace periods and retries ----------------------------------------------
    def start(self, interval: float = 1.0) -> "Ingest":
        def loop():
            while not self._stop.wait(interval):
                try:
                    self.flush()
                except Exception:  # noqa: BLE001 - the timer must outlive any one receipt
                    log.exception("receipt timer")
        self._timer = threading.Thread(target=loop, name="ocpp-receipts", daemon=True)
        self._timer.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._timer:
            self._timer.join(5)
        self.store.close()


def printer_sink(uri: str, profile=None) -> Sink:
    """Print straight to a printer URI (the CLI's replay and tap)."""
    lock = threading.Lock()

    def sink(key: str, doc: dict, summary: Summary, reprint: bool) -> str:
        from ..document import from_dict
        from ..printer import Printer

        if reprint:
            doc = {**doc, "blocks": [{"type": "text", "text": "*** REPRINT ***", "bold": True, "align": "center"},
                                     *doc["blocks"]]}
        with lock:
            p = Printer(uri, profile)
            with p:
                p.print_document(from_dict(doc))
            job = getattr(p.transport, "last_job", None)  # virtual://: where the paper went
            return f"{p.uri} {job.pages[0]}" if job is not None and job.pages else p.uri
    return sink
