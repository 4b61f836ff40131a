"""The ingest service behind every source (replay, HTTP, WebSocket tap): frames go into the
assembler and the frame log; a session that is complete prints once, after the grace period
for its final cost (reference §10), and a failed print is retried, never dropped.

Memory follows the live sessions: a printed session leaves memory (its receipt row and frames
stay in SQLite), and a frame only looks at the sessions it touches."""

from __future__ import annotations

import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..ticker import start_ticker
from .assembler import Assembler, Result
from .config import OcppConfig
from .frames import Exact, FrameError, check_size
from .receipt import Summary, document, summarize
from .session import Session
from .store import FAILED, PRINTED, PRINTING, FrameStore, ReceiptState

if TYPE_CHECKING:
    from ..profile import Profile

log = logging.getLogger("escpos809.ocpp")
RETRY_S = 5.0
#: Error prefix of a receipt that was sent but not confirmed: its next attempt is marked REPRINT.
UNCONFIRMED = "sent, not confirmed: "
#: How long a direct sink waits for a printer that stopped mid-receipt (paper, cover).
SINK_WAIT_S = 300.0
#: a receipt that cannot even be prepared or recorded (a poisoned session, a broken disk) is
#: retried after RETRY_S, doubling up to this: never dropped, never hammering
MAX_RETRY_S = 3600.0
#: frames older than this (before the newest frame, or now if that is sooner) are dropped at
#: start: their sessions printed (or died) long ago
KEEP_FRAMES_S = 90 * 86400
#: how often (in frame time) a feed looks at every waiting session, not only those it touched
SCAN_S = 1.0
#: sessions the listing shows from the store, most recent first, besides those in memory
LIST_PRINTED = 1000


class Sink(Protocol):
    def __call__(self, key: str, doc: dict[str, Any], summary: Summary, reprint: bool) -> str:
        """Print (or queue) one receipt; returns a job reference; raises on failure."""


def frame_text(frame: object) -> str:
    """The frame as stored: received text unchanged (also the text a parsed frame came
    from, :attr:`Exact.text`); any other parsed frame re-encoded with every Decimal written
    as its own digits (no trip through binary floats)."""
    if isinstance(frame, (bytes, bytearray)):
        return frame.decode("utf-8", "replace")
    if isinstance(frame, str):
        return frame
    if isinstance(frame, Exact) and frame.text is not None:
        return frame.text
    text = _ENCODER.encode(frame)
    return _MARKED.sub(r"\1", text) if _MARK in text else text


#: the json module writes a Decimal only as a string: it is written marked, and the marks (a
#: secret per process, so no string sent can imitate one) and quotes removed afterwards
_MARK = secrets.token_hex(8)
_MARKED = re.compile(f'"{_MARK}([^"]*){_MARK}"')


def _marked(value: object) -> str:
    if isinstance(value, Decimal):
        return f"{_MARK}{value if value.is_finite() else 'null'}{_MARK}"
    raise TypeError(f"{type(value).__name__} is not JSON")


_ENCODER = json.JSONEncoder(default=_marked, separators=(",", ":"))


class Ingest:
    def __init__(self, cfg: OcppConfig, database: str | Path, sink: Sink, clock: Callable[[], float] = time.time):
        self.cfg, self.sink, self.clock = cfg, sink, clock
        self.store = FrameStore(database)
        self.asm = Assembler(cfg.tz)
        self.asm.retired = self._retired
        self.asm.reused = self._reused
        self._lock = threading.RLock()
        self._retry_at: dict[tuple[str, str], float] = {}
        self._failures: dict[tuple[str, str], int] = {}  # failed attempts in a row
        self._errors: dict[tuple[str, str], str] = {}  # why, when the store could not say it
        self._waiting: set[tuple[str, str]] = set()
        self._printing: set[tuple[str, str]] = set()  # being printed by some thread now
        self._scanned = float("-inf")
        # "long ago" in the frames' own time: a replayed log of last year keeps the start of a
        # session whose end is in the next log; a frame dated in the future moves nothing
        now, newest = clock(), self.store.newest()
        self.store.prune(min(now, now if newest is None else newest) - KEEP_FRAMES_S)
        # printed sessions' frames are passed over by the assembler (retired): memory holds
        # only the sessions still to print
        for cp, direction, version, received, frame in self.store.frames():
            self._assemble(cp, direction, frame, received, version)
        self._waiting = {k for k, s in self.asm.sessions.items() if s.ended}
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None

    # --- input ------------------------------------------------------------------------------
    def feed(
        self, cp: str, direction: str, frame: object, received_at: float | None = None, version: str | None = None
    ) -> Result:
        """One frame from any source. Garbage is refused with the reason; nothing raises."""
        now = self.clock() if received_at is None else float(received_at)
        text = frame_text(frame)
        try:  # whatever the source, what the frame log would keep: a frame sent as parsed JSON too
            check_size(text)
        except FrameError as exc:
            log.warning("frame from %r refused: %s", cp, exc)
            return Result(False, str(exc))
        with self._lock:
            # a frame already parsed (replay, HTTP) is read as it is, not parsed again from text
            res = self._assemble(cp, direction, text if isinstance(frame, (bytes, bytearray)) else frame, now, version)
            if not res.accepted:
                log.warning("frame from %r refused: %s", cp, res.reason)
                return res
            if not res.duplicate:
                try:
                    self.store.append(cp, direction, version, now, text)
                except Exception as exc:  # noqa: BLE001 - a full disk must not stop the intake
                    log.error("frame from %r not written to the frame log: %s", cp, exc)
                    res.warnings.append(
                        f"not written to the frame log ({type(exc).__name__}: {exc}); "
                        "a restart before its receipt prints forgets it"
                    )
            for w in res.warnings:
                log.info("frame from %s: %s", cp, w)
            touched = []
            for key in res.sessions:
                s = self.asm.sessions.get(key)
                if s is not None and s.ended:
                    self._waiting.add(key)
                    touched.append(key)
            scan = now - self._scanned >= SCAN_S and bool(self._waiting)
            if scan:
                self._scanned = now
        if scan:
            self.flush(now)  # grace periods of sessions no frame touches any more
        elif touched:
            self.flush(now, keys=touched)
        return res

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Feed many frames as one: one commit for all at the end (a request of 1,000 frames
        costs one wait for the disk, not 1,000); other feeds wait until it ends."""
        with self._lock, self.store.batch(every=1 << 30):
            yield

    def _retired(self, cp: str, key_tx: str) -> bool:
        """For the assembler: whether the session keyed ``key_tx`` printed (no longer in memory)."""
        try:
            return self.store.printed(cp, key_tx)
        except Exception as exc:  # noqa: BLE001 - unknown: assembled again, the receipt key guards
            log.error("receipt state of %s %s not readable: %s", cp, key_tx, exc)
            return False

    def _reused(self, cp: str, tx: str, start: str) -> tuple[str | None, int]:
        """For the assembler: a printed session of ``tx`` with that start, and the id's uses stored."""
        try:
            return self.store.reused(cp, tx, start)
        except Exception as exc:  # noqa: BLE001 - as above
            log.error("receipt state of %s %s not readable: %s", cp, tx, exc)
            return None, 0

    def _assemble(self, cp: str, direction: str, frame: object, now: float, version: str | None) -> Result:
        """The assembler, with a bug that a frame finds turned into a refusal of that frame."""
        try:
            return self.asm.feed(cp, direction, frame, now, version)
        except Exception as exc:  # noqa: BLE001 - one frame must not stop the others
            log.exception("frame from %r: the assembler failed", cp)
            return Result(False, f"the frame could not be read ({type(exc).__name__}); the service logged it")

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

    def flush(self, now: float | None = None, force: bool = False, keys: list[tuple[str, str]] | None = None) -> int:
        """Print every complete session that is due (all complete ones with ``force``; only
        those of ``keys`` when given); returns how many printed."""
        now = self.clock() if now is None else now
        with self._lock:
            due = [
                self.asm.sessions[k]
                for k in (sorted(self._waiting) if keys is None else keys)
                if k in self._waiting
                and (force or self.due(self.asm.sessions[k], now))
                and self._retry_at.get(k, 0) <= time.monotonic()
                and k not in self._printing
            ]
            # the timer and a feeding thread may flush at once: each receipt goes to one of them
            self._printing.update(s.key for s in due)
        printed = 0
        for s in due:
            try:
                printed += self._print(s)
            finally:
                with self._lock:
                    self._printing.discard(s.key)
        return printed

    def _print(self, s: Session) -> bool:
        key = s.key
        ref = f"ocpp:{key[0]}:{key[1]}"
        try:  # everything up to the sink: a session that cannot get this far is poisoned
            state = self.store.receipt(*key)
            # a crash came between sending and recording, or the last attempt was never confirmed
            reprint = bool(
                state
                and (
                    state["state"] == PRINTING
                    or (state["state"] == FAILED and (state["error"] or "").startswith(UNCONFIRMED))
                )
            )
            with self._lock:
                summary = summarize(s, self.cfg)
                doc = document(summary, self.cfg)
            row = summary.to_json()
            # a mark that would reach the disk only with the outcome is written with it: one write
            late = self.store.deferred_marks
            if not late:
                self.store.set_receipt(*key, PRINTING, summary=row)
        except Exception as exc:  # noqa: BLE001 - marked failed; the other sessions go on
            log.exception("receipt %r cannot be prepared", ref)
            return self._failed(key, f"cannot prepare the receipt: {type(exc).__name__}: {exc}", backoff=True)
        try:
            job = self.sink(ref, doc, summary, reprint)
        except Exception as exc:  # noqa: BLE001 - printer offline, a bug in layout: retried, not lost
            log.warning("receipt %r not printed: %s", ref, exc)
            maybe = UNCONFIRMED if getattr(exc, "maybe_printed", False) else ""
            return self._failed(key, f"{maybe}{type(exc).__name__}: {exc}", backoff=False, mark=row if late else None)
        try:
            self.store.set_receipt(
                *key, PRINTED, job=job, start=row["start"], summary=row if late else None, attempt=late or None
            )
        except Exception as exc:  # noqa: BLE001 - it printed: not again in this run
            log.error("receipt %r printed (%s) but not recorded: %s; a restart may print it again", ref, job, exc)
        with self._lock:
            for d in (self._retry_at, self._failures, self._errors):
                d.pop(key, None)
            self._waiting.discard(key)
            self.asm.evict(key)  # its row and frames stay in SQLite
        log.info("receipt %r printed: %s", ref, job)
        return True

    def _failed(self, key: tuple[str, str], error: str, backoff: bool, mark: dict[str, Any] | None = None) -> bool:
        """Mark a receipt failed with the reason (in the store, else in memory) and set its retry;
        ``mark``: the summary of an attempt whose mark was not written (:attr:`deferred_marks`)."""
        with self._lock:
            n = self._failures[key] = self._failures.get(key, 0) + 1
            wait = min(RETRY_S * 2 ** (n - 1), MAX_RETRY_S) if backoff else RETRY_S
            self._retry_at[key] = time.monotonic() + wait
            self._errors[key] = error
        try:
            self.store.set_receipt(key[0], key[1], FAILED, error=error, summary=mark, attempt=mark is not None)
        except Exception as exc:  # noqa: BLE001 - the reason stays in memory, shown by sessions()
            log.error("receipt state of %r not stored: %s", key, exc)
        log.warning("receipt %r failed (retried in %g s): %s", key, wait, error)
        return False

    def sessions(self, printed: int = LIST_PRINTED) -> list[dict[str, Any]]:
        """Every session in memory (open, waiting, failed) with its receipt state, and the
        latest ``printed`` ones from the store; one that cannot be summarised or looked up is
        listed as failed with the reason, never an error for the whole list."""
        with self._lock:
            rows = [self._session_row(s) for s in self.asm.sessions.values()]
            live = set(self.asm.sessions)
        return rows + list(self._printed_rows(printed, live))

    def _printed_rows(self, limit: int, live: set[tuple[str, str]]) -> Iterator[dict[str, Any]]:
        if limit <= 0:
            return
        try:
            stored = self.store.receipts(state=PRINTED, limit=limit)
        except Exception as exc:  # noqa: BLE001 - the live sessions are listed anyway
            log.error("printed receipts not readable: %s", exc)
            return
        for r in stored:  # oldest first, as the live ones
            if (r["cp"], r["tx"]) in live:
                continue
            summary = r["summary"] or {"cp": r["cp"], "transaction": r["tx"]}
            yield {**summary, "state": r["state"], "job": r["job"], "error": r["error"]}

    def _session_row(self, s: Session) -> dict[str, Any]:
        """The session's summary (:meth:`Summary.to_json`) with its receipt's state, job and error."""
        key = s.key
        try:
            row = summarize(s, self.cfg).to_json()
        except Exception as exc:  # noqa: BLE001
            row = {"cp": s.cp, "transaction": s.tx, "summary_error": f"{type(exc).__name__}: {exc}"}
        state: ReceiptState | None
        try:
            state = self.store.receipt(*key)
        except Exception as exc:  # noqa: BLE001
            state = {"state": FAILED, "job": None, "error": f"{type(exc).__name__}: {exc}"}
        if key in self._errors and not (state and state["state"] == PRINTED):
            state = {"state": FAILED, "job": state["job"] if state else None, "error": self._errors[key]}
        row["state"] = state["state"] if state else ("waiting" if s.ended else "open")
        row["job"] = state["job"] if state else None
        row["error"] = state["error"] if state else None
        return row

    # --- background: grace periods and retries ----------------------------------------------
    def start(self, interval: float = 1.0) -> Ingest:
        self._timer = start_ticker(self.flush, interval, self._stop, "ocpp-receipts", log)
        return self

    def close(self) -> None:
        self._stop.set()
        if self._timer:
            self._timer.join(5)
        self.store.close()


def printer_sink(uri: str, profile: Profile | None = None) -> Sink:
    """Print straight to a printer URI (the CLI's replay and tap)."""
    lock = threading.Lock()

    def sink(key: str, doc: dict[str, Any], summary: Summary, reprint: bool) -> str:
        from ..document import from_dict, marked_reprint
        from ..printer import Printer

        receipt = marked_reprint(from_dict(doc)) if reprint else from_dict(doc)
        with lock:
            p = Printer(uri, profile)
            with p:
                try:
                    p.print_document(receipt, wait_s=SINK_WAIT_S)
                except Exception as exc:
                    # bytes went out: it may be on paper, so the next attempt carries the mark
                    exc.maybe_printed = p.transport.bytes_written > 0  # type: ignore[attr-defined]
                    raise
            job = getattr(p.transport, "last_job", None)  # virtual://: where the paper went
            return f"{p.uri} {job.pages[0]}" if job is not None and job.pages else p.uri

    return sink
