"""One worker thread per printer: it alone talks to its printer, prints that printer's jobs in
submission order, holds them while the printer cannot print, and retries with backoff."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, TypedDict

from escpos809.errors import Escpos809Error, JobNotConfirmed, JobUnconfirmed
from escpos809.escpos.status import PrinterStatus, unknown
from escpos809.printer import Printer
from escpos809.profile import Profile

from .jobs import reprint_mark
from .store import Job, JobStore, iso_time

log = logging.getLogger(__name__)
AFTER = "printer not ready after the job"
UNCONFIRMED = "delivered; this printer cannot confirm that it printed (no GS r on this link or model)"
#: Jobs on their way to one printer at once: the one printing and the next, already in its buffer.
PIPELINE = 2
#: While a confirmation is owed, the printer's real-time status is asked this often (seconds).
CONFIRM_POLL_S = 1.0
#: A job that meets an internal error this often is failed rather than retried for ever.
MAX_INTERNAL_ATTEMPTS = 3


class PrinterView(TypedDict):
    """A printer as the API shows it (:meth:`PrinterState.to_dict`)."""

    name: str
    uri: str
    state: str
    status: dict[str, Any]  # PrinterStatus.to_dict()
    last_seen: str | None
    last_error: str | None
    printed: int
    failed: int


@dataclass
class PrinterState:
    """What the service knows of one printer, for the API, the page and the metrics."""

    name: str
    uri: str
    status: PrinterStatus = field(default_factory=lambda: unknown("not asked yet"))
    state: str = "idle"  # idle, printing, waiting (printer not ready), retrying, stopped
    last_seen: float | None = None
    last_error: str | None = None
    printed: int = 0
    failed: int = 0

    def to_dict(self) -> PrinterView:
        return {
            "name": self.name,
            "uri": self.uri,
            "state": self.state,
            "status": self.status.to_dict(),
            "last_seen": iso_time(self.last_seen),
            "last_error": self.last_error,
            "printed": self.printed,
            "failed": self.failed,
        }


class Worker(threading.Thread):
    """Prints ``printer``'s queue. ``stop()`` lets the job in flight finish (or leaves it to be
    reprinted after the restart when it cannot finish in time)."""

    def __init__(
        self,
        name: str,
        uri: str,
        store: JobStore,
        profile: Profile,
        *,
        poll_s: float = 2.0,
        backoff: tuple[float, float] = (0.5, 30.0),
        require_status: bool = True,
    ):
        super().__init__(name=f"printer-{name}", daemon=True)
        self.store, self.profile = store, profile
        self.state = PrinterState(name, uri)
        self.poll_s, self.backoff = poll_s, backoff
        self.printer = Printer(uri, profile)  # a bad URI fails here, at start-up, not at the first job
        self._stopping = threading.Event()
        self._mark = reprint_mark(profile)
        self.inflight: deque[Job] = deque()  # sent, not yet confirmed, oldest first
        self.pipeline = PIPELINE
        self._internal_errors: dict[str, int] = {}
        # a printer that can answer but does not (busy with paper out, powered off behind a
        # switch) is not ready: sending then would leave the job in a socket buffer, not on paper
        self.require_status = require_status

    # --- control ------------------------------------------------------------------------------------
    def request_stop(self) -> None:
        """Take no new job; the one in flight goes on."""
        self._stopping.set()
        with self.store.changed:
            self.store.changed.notify_all()

    def stop(self, timeout: float = 30.0) -> bool:
        """Finish the job in flight (up to ``timeout``) and end; True if nothing was left mid-print."""
        self.request_stop()
        self.join(timeout)
        return not self.is_alive()

    def _wait(self, seconds: float) -> None:
        """Sleep until something changes in the store, or ``seconds`` pass, or we stop."""
        if self._stopping.is_set():
            return
        with self.store.changed:
            self.store.changed.wait(seconds)

    # --- the loop -----------------------------------------------------------------------------------
    def run(self) -> None:
        delay = self.backoff[0]
        last_poll = 0.0
        while not self._stopping.is_set():
            job = self.store.next_for(self.state.name)
            if job is None:
                self.state.state = "idle"
                if time.monotonic() - last_poll >= self.poll_s:  # keep the status page live
                    self._status_only()
                    last_poll = time.monotonic()
                self._wait(self.poll_s)
                continue
            try:
                outcome = self._run_of_jobs(job)
            except Exception as exc:  # noqa: BLE001 - a bug here must not kill the worker or lose the job
                outcome = self._internal_error(self.current or job.id, exc)
                self.printer.close()
            last_poll = time.monotonic()
            if outcome is None:
                delay = self.backoff[0]
                continue
            self.state.last_error = outcome
            said_no = time.monotonic()
            self._wait(delay)  # a new job (a person trying again) wakes it early, but a printer
            # that just said no is asked again no sooner than backoff[0] after: jobs pouring in
            # while its cover is open must not each cost a connection and a status question
            rest = self.backoff[0] - (time.monotonic() - said_no)
            if rest > 0:
                self._stopping.wait(rest)
            delay = min(delay * 2, self.backoff[1])
        self.state.state = "stopped"

    def _run_of_jobs(self, first: Job) -> str | None:
        """Print ``first`` and the jobs queued behind it over one connection. Up to
        :data:`PIPELINE` jobs are on their way at once, so the next job is already in the
        printer's buffer while the previous one's confirmation travels back and the printer
        never waits for us. Returns why it had to stop (None: queue done)."""
        self.inflight.clear()
        job: Job | None = first
        try:
            with self.printer as p:
                st = p.status()
                self._saw(st)
                if first.state == "printing" and (first.last_error or "").startswith(AFTER) and not p.confirms:
                    # delivered unconfirmable, then the printer stopped: it prints what it holds once fixed
                    if not self._ok(p, st):
                        return self._not_ready(first, st, "after the job")
                    self._finished(first, note=UNCONFIRMED)
                    return None
                if not self._ok(p, st):
                    return self._not_ready(first, st, "before the job")
                ready: bool | None = True  # asked just now; None: ask before the next send
                raw_sent = False
                last_seq = first.seq
                while True:
                    if job is not None and len(self.inflight) < self.pipeline and not self._stopping.is_set():
                        if ready is None:  # a cover opened since the last job is not sent into
                            st = p.status(drain=raw_sent)  # only raw bytes can make stray replies
                            self._saw(st)
                            ready = self._ok(p, st)
                            if not ready and not self.inflight:
                                return self._not_ready(job, st, "before the job")
                        if ready:
                            self._send(p, job)
                            raw_sent, last_seq, ready = job.kind == "raw", job.seq, None
                            job = self.store.next_for(self.state.name, after=last_seq)
                            continue
                    if not self.inflight:
                        return None
                    outcome = self._confirm(p, self.inflight[0])
                    if outcome is not None:
                        return outcome
                    self.inflight.popleft()
                    ready = None
                    if job is None:
                        job = self.store.next_for(self.state.name, after=last_seq)
        except Escpos809Error as exc:
            if self.inflight:  # sent, not confirmed: maybe on paper, maybe not
                return self._lost(exc)
            stored = self.store.get(job.id, whole=False) if job is not None else None
            if job is not None and stored is not None and stored.state in ("queued", "held"):
                return self._failed(job, exc)  # never reached the printer: it waits, unmarked
            log.warning("printer %s: %s", self.state.name, exc)
        return None

    @property
    def current(self) -> str | None:
        """The job the printer is on (the oldest one sent and not confirmed)."""
        return self.inflight[0].id if self.inflight else None

    def _send(self, p: Printer, job: Job) -> None:
        """Mark ``job`` printing and send it (with its confirmation request behind it)."""
        self.state.state = "printing"
        self.store.start(job.id)
        self.inflight.append(job)  # from the first byte on, it may be on paper
        p.send_job(self._bytes(job))

    def _bytes(self, job: Job) -> bytes:
        """What goes to the printer for ``job``: its bytes, behind the REPRINT mark when it may
        already be on paper."""
        return (self._mark if job.reprint else b"") + job.data

    def _confirm(self, p: Printer, job: Job) -> str | None:
        """Wait until the printer confirms ``job`` (None). Paused (paper, cover), it holds the
        job as long as it takes; silent, it is treated as gone (raises); alive but never
        confirming, the jobs on their way are held for a person."""
        if not p.confirms:
            return self._delivered(p, job)

        def waiting(st: PrinterStatus) -> bool:
            self._saw(st)
            if st.known and not st.ready:
                msg = f"{AFTER}: {', '.join(st.problems())}"
                if job.last_error != msg:
                    self.store.note(job.id, msg)
                    job.last_error = msg
                self.state.state = "waiting"
            elif st.known:
                self.state.state = "printing"
            return not self._stopping.is_set()  # stopping: left in flight, reprinted after the restart

        budget = p.confirm_budget(self._bytes(job))
        try:
            p.confirm(budget, poll_s=CONFIRM_POLL_S, on_status=waiting)
        except JobNotConfirmed as exc:
            return str(exc)
        except JobUnconfirmed as exc:
            return self._unconfirmed(p, str(exc))
        self._finished(job)
        return None

    def _delivered(self, p: Printer, job: Job) -> str | None:
        """A link that cannot read, or a model without ``GS r``: the printer's word after the
        job is all there is. Done, with a note that it was delivered, not confirmed."""
        after = p.status(drain=job.kind == "raw", strict=True)
        self._saw(after)
        if after.known and not after.ready:
            self.store.note(job.id, f"{AFTER}: {', '.join(after.problems())}")
            self.state.state = "waiting"
            return AFTER
        self._finished(job, note=UNCONFIRMED)
        return None

    def _unconfirmed(self, p: Printer, why: str) -> str:
        """The printer answers its status but not ``GS r``: whether the jobs printed is unknown.
        They are held for a person (a release prints them again, marked) rather than printed
        again and again."""
        msg = f"{why}; check the paper and release the job to print it again"
        for job in self.inflight:
            self.store.hold(job.id, "unconfirmed", msg, reprint=True)
            self.state.failed += 1
        log.error("printer %s: %s", self.state.name, msg)
        self.inflight.clear()
        p.close()
        return msg

    def _lost(self, exc: Exception) -> str:
        """The connection (or the printer) went away with jobs on their way: each is printed
        again, marked, once the printer is back — no confirmation, no ``done``."""
        self.state.state = "retrying"
        self._saw(unknown(str(exc)), reachable=False)
        for job in self.inflight:
            self.store.requeue(job.id, str(exc), reprint=True)
        log.warning("printer %s: %d job(s) unconfirmed: %s", self.state.name, len(self.inflight), exc)
        self.inflight.clear()
        return str(exc)

    def _internal_error(self, job_id: str, exc: Exception) -> str:
        """A fault of ours, not the printer's: retried (marked, it may have printed in part) and,
        when it keeps failing, set aside as failed so it does not block the printer forever."""
        log.exception("printer %s: job %s", self.state.name, job_id)
        outcome = f"internal error: {type(exc).__name__}: {exc}"
        others = [j for j in self.inflight if j.id != job_id]
        self.inflight.clear()
        for j in others:  # sent behind it, not confirmed
            self.store.requeue(j.id, outcome, reprint=True)
        self._internal_errors[job_id] = self._internal_errors.get(job_id, 0) + 1
        if self._internal_errors[job_id] >= MAX_INTERNAL_ATTEMPTS:
            del self._internal_errors[job_id]
            self.store.fail(job_id, outcome)
            self.state.failed += 1
        else:
            self.store.requeue(job_id, outcome, reprint=True)
        return outcome

    def _status_only(self) -> None:
        try:
            with self.printer as p:
                self._saw(p.status())
        except Escpos809Error as exc:
            self._saw(unknown(str(exc)), reachable=False)

    def _saw(self, st: PrinterStatus, reachable: bool = True) -> None:
        self.state.status = st
        if st.known:
            self.state.last_seen = time.time()
        if not reachable:
            self.state.last_error = st.reason

    def _not_ready(self, job: Job, st: PrinterStatus, when: str) -> str:
        problem = ", ".join(st.problems())
        msg = f"printer not ready {when}: {problem}"
        self.state.state = "waiting"
        if job.state == "printing":  # delivered: it stays in flight until the printer recovers
            self.store.note(job.id, msg)
        elif job.state != "held" or job.last_error != msg:
            self.store.hold(job.id, "printer", msg)
        log.info("printer %s: job %s waits: %s", self.state.name, job.id, problem)
        return msg

    def _ok(self, p: Printer, st: PrinterStatus) -> bool:
        if st.known:
            return st.ready
        return not (self.require_status and p.transport.can_read)

    def _failed(self, job: Job, exc: Escpos809Error) -> str:
        """The printer could not be reached: the job, never sent, waits for it, unmarked."""
        self.state.state = "retrying"
        self._saw(unknown(str(exc)), reachable=False)
        self.store.hold(job.id, "printer", str(exc))
        log.warning("printer %s: job %s: %s", self.state.name, job.id, exc)
        return str(exc)

    def _finished(self, job: Job, note: str | None = None) -> None:
        self.store.done(job.id, note)
        self.state.printed += 1
        self.state.state = "idle"
        self.state.last_error = None
        log.info(
            "printer %s: job %s printed (%d bytes%s)",
            self.state.name,
            job.id,
            len(job.data),
            ", marked REPRINT" if job.reprint else "",
        )
