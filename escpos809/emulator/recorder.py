"""Paper as it is printed: the recorder thread turns the mechanism's events into files.

On-disk contract (``<out>/job-NNNN/``, one folder per job; a job is a connection, or a burst on
the serial line, that sent anything other than status requests):

* ``page-K.png`` is page K: the paper from the job's start or the previous cut up to cut K,
  written when that cut happens on paper. An uncut stretch longer than ``SEGMENT_DOTS`` is
  closed as a page of its own (no cut line), so no page is ever held whole in memory. The paper
  after the last cut is the last page, written when the job ends.
* Before any ``GS r`` reply, everything printed so far is on disk, including the uncut part of
  the current page: that page's file is then written as it stands (``job.json`` names it in
  ``open_page``) and rewritten as the page grows.
* Files are replaced atomically (written beside, then renamed): a PNG is always complete.
  ``job.json`` is rewritten at every ``GS r`` reply, at the end of the job, at a power loss,
  and after cuts (at most every ``JSON_EVERY_S`` while data streams in, at once when the
  printer goes idle). Each page file exists before ``job.json`` names it.
* ``job.json``: ``job``, ``source``, ``bytes``, ``dropped``, ``state`` (``printing``, ``done``,
  ``power_loss``, ``stopped``), ``render_error``, ``pages``, ``open_page``, ``page_info``
  (height and how each page ended), ``confirmed`` (``GS r`` requests answered),
  ``draw_warnings`` (operations that could not be drawn: index, kind, why; and those drawn with
  replacement marks for characters no font has, named in ``missing_glyphs``), ``ops_total``,
  ``ops_truncated`` and ``ops``: the first ``KEEP_OPS`` operations (and at most ``KEEP_BYTES``
  of them as JSON); the rest are drawn and then dropped from memory. ``pages_truncated``: the
  job went on past ``KEEP_PAGES`` pages; the paper after them was not drawn.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..paper.draw import has_paper, paint, png_bytes
from ..paper.ops import Op
from .mechanism import Event, Session

if TYPE_CHECKING:
    from .server import VirtualPrinter

log = logging.getLogger(__name__)

SEGMENT_DOTS = 8192  # an uncut stretch is closed as a page after about 1 m of paper
KEEP_OPS = 10_000  # operations kept in memory and in job.json per job
KEEP_BYTES = 16 * 1024**2  # ... and at most this much of them as JSON
#: pages drawn per job (about 5 km of paper): 3 bytes of ESC d 255 feed a quarter of a page, so
#: a 60 kB stream of feeds made 20 000 PNG files (240 MB); the paper beyond is counted, not drawn
KEEP_PAGES = 5_000
JSON_EVERY_S = 0.25
MAX_WARNINGS = 100


@dataclass
class Job:
    """A job on the virtual printer's paper (see the module docstring for its files)."""

    number: int
    source: str
    folder: Path
    bytes: int = 0
    pages: list[Path] = field(default_factory=list)
    ops: list[Op] = field(default_factory=list)
    dropped: bool = False
    state: str = "printing"
    ops_total: int = 0
    ops_truncated: bool = False
    pages_truncated: bool = False
    confirmed: int = 0
    draw_warnings: list[dict[str, Any]] = field(default_factory=list)
    render_error: str | None = None
    network_changed: bool = False

    @property
    def log_path(self) -> Path:
        return self.folder / "job.json"


def _atomic_write(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    os.replace(tmp, path)


class Canvas:
    """One reusable page buffer: pages are drawn into it one after the other (fresh memory for
    every 1 m segment would cost more than the drawing)."""

    def __init__(self) -> None:
        self._buf: np.ndarray | None = None

    def get(self, width: int, rows: int = SEGMENT_DOTS + 4096) -> np.ndarray:
        if self._buf is None or self._buf.shape[1] != width:
            self._buf = np.empty((rows, width), dtype=np.uint8)
        return self._buf


class JobRecord:
    """The open job of one session: its current page and its kept operations."""

    def __init__(self, job: Job, session: Session, width: int, fonts: dict[str, tuple[int, int]], canvas: Canvas):
        self.job, self.session, self.canvas = job, session, canvas
        self.width, self.fonts = width, fonts
        self.page_ops: list[Op] = []
        self.page_index: list[int] = []
        self.page_no = 1
        self.page_changed = False
        self.open_page: Path | None = None
        self.page_info: list[dict[str, Any]] = []
        self.json_ops: list[str] = []
        self.json_bytes = 0
        self.dirty = False
        self.last_write = 0.0

    def add(self, op: Op) -> None:
        j = self.job
        index = j.ops_total
        j.ops_total += 1
        if len(j.ops) < KEEP_OPS and self.json_bytes < KEEP_BYTES:
            text = json.dumps(op.to_json(), ensure_ascii=False)
            j.ops.append(op)
            self.json_ops.append(text)
            self.json_bytes += len(text)
        else:
            j.ops_truncated = True
        j.network_changed |= op.kind == "network"
        # a page needs its first operation (where it starts), what moves paper, and its cut
        if not self.page_ops or op.height or op.kind == "cut":
            self.page_ops.append(op)
            self.page_index.append(index)
            self.page_changed = True
        if op.kind == "cut":
            self.write_page("cut")
        elif op.y + op.height - self.page_ops[0].y >= SEGMENT_DOTS:
            self.write_page("segment")

    def write_page(self, end: str) -> None:
        """Draw the current page to ``page-K.png``; ``end`` = cut, segment, open (it goes on),
        done / power_loss / stopped (the job's last paper)."""
        if self.page_no > KEEP_PAGES and has_paper(self.page_ops):
            self.job.pages_truncated = True
        elif has_paper(self.page_ops) and (self.page_changed or end != "open"):
            path = self.job.folder / f"page-{self.page_no}.png"
            warnings: list[dict[str, Any]] = []
            dots = paint(
                self.page_ops,
                self.width,
                self.fonts,
                warnings=warnings,
                indices=self.page_index,
                out=self.canvas.get(self.width),
            )
            png = png_bytes(dots)  # the paper is black dots on white: 1 bit per dot, lossless
            try:
                _atomic_write(path, lambda tmp: tmp.write_bytes(png))
            except OSError as exc:
                log.error("job %d: cannot write %s: %s", self.job.number, path, exc)
                self.job.render_error = f"{path.name}: {exc}"
            else:
                info = {"file": path.name, "height": dots.shape[0], "end": end}
                if path == self.open_page:  # the open page grew: same file, new picture
                    self.page_info[-1] = info
                    self.job.draw_warnings[:] = [w for w in self.job.draw_warnings if w.get("page") != path.name]
                else:
                    self.job.pages.append(path)
                    self.page_info.append(info)
                for w in warnings[: max(0, MAX_WARNINGS - len(self.job.draw_warnings))]:
                    self.job.draw_warnings.append({"page": path.name, **w})
            self.page_changed = False
            self.open_page = path if end == "open" else None
            self.dirty = True
        if end != "open":
            if self.page_ops and has_paper(self.page_ops):
                self.page_no += 1
            self.page_ops, self.page_index = [], []
            self.open_page = None

    def write_json(self) -> None:
        j, s = self.job, self.session
        j.bytes, j.dropped = s.bytes, s.dropped
        head = {
            "job": j.number,
            "source": j.source,
            "bytes": j.bytes,
            "dropped": j.dropped,
            "state": j.state,
            "render_error": j.render_error,
            "pages": [p.name for p in j.pages],
            "open_page": self.open_page.name if self.open_page else None,
            "page_info": self.page_info,
            "confirmed": j.confirmed,
            "draw_warnings": j.draw_warnings,
            "ops_total": j.ops_total,
            "ops_truncated": j.ops_truncated,
            "pages_truncated": j.pages_truncated,
        }
        text = json.dumps(head, ensure_ascii=False)[:-1] + ', "ops": [\n' + ",\n".join(self.json_ops) + "\n]}\n"
        try:
            _atomic_write(j.log_path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        except OSError as exc:
            log.error("job %d: cannot write %s: %s", j.number, j.log_path, exc)
        self.dirty = False
        self.last_write = time.monotonic()

    def finish(self, state: str) -> None:
        self.job.state = state
        self.write_page(state)
        self.write_json()
        self.json_ops = []  # the job's ops stay in job.ops; their JSON is on disk


class EventQueue:
    """The mechanism → recorder queue, bounded in events and in image bytes held. Each side
    wakes the other only when it has to (empty → not empty, full → half empty): a thread switch
    per printed line would cost more than drawing it."""

    def __init__(self, max_events: int = 4096, max_bytes: int = 16 * 1024**2):
        self.max_events, self.max_bytes = max_events, max_bytes
        self._q: deque[Event] = deque()
        self._bytes = 0
        self.unfinished = 0
        self._lock = threading.Lock()
        self._not_empty = threading.Condition(self._lock)
        self._not_full = threading.Condition(self._lock)
        self._producer_waits = False

    @staticmethod
    def _weight(ev: Event) -> int:
        data = ev.op.args.get("data") if ev.op is not None else None
        return len(data) if isinstance(data, (bytes, bytearray)) else 0

    def _full(self, w: int) -> bool:
        return bool(self._q) and (len(self._q) >= self.max_events or self._bytes + w > self.max_bytes)

    def put(self, ev: Event, give_up: threading.Event) -> None:
        w = self._weight(ev)
        with self._lock:
            while self._full(w):
                if give_up.is_set():
                    return
                self._producer_waits = True
                self._not_full.wait(0.1)
            self._q.append(ev)
            self._bytes += w
            self.unfinished += 1
            if len(self._q) == 1:
                self._not_empty.notify()

    def get_batch(self, timeout: float, most: int = 256) -> list[Event]:
        """Up to ``most`` events, waiting up to ``timeout`` for the first."""
        with self._lock:
            if not self._q:
                self._not_empty.wait(timeout)
            batch: list[Event] = []
            while self._q and len(batch) < most:
                ev = self._q.popleft()
                self._bytes -= self._weight(ev)
                batch.append(ev)
            if self._producer_waits and (len(self._q) <= self.max_events // 2 and self._bytes <= self.max_bytes // 2):
                self._producer_waits = False
                self._not_full.notify()
            return batch

    def done(self, n: int = 1) -> None:
        with self._lock:
            self.unfinished -= n

    def empty(self) -> bool:
        return not self._q


class Recorder(threading.Thread):
    """Takes the mechanism's events at their paper time: draws and writes pages, writes
    ``job.json``, sends in-order replies (``GS r`` after the paper before it is on disk)."""

    def __init__(self, printer: VirtualPrinter):
        super().__init__(daemon=True, name="virtual-recorder")
        self.vp = printer
        self.queue = EventQueue()
        self.records: dict[Session, JobRecord] = {}
        self.canvas = Canvas()

    def put(self, ev: Event) -> None:
        self.queue.put(ev, self.vp.stop_event)

    @property
    def idle(self) -> bool:
        return self.queue.unfinished == 0

    def run(self) -> None:
        vp = self.vp
        while True:
            batch = self.queue.get_batch(0.1)
            if not batch:
                if vp.stopping:
                    break
                self._write_dirty(idle=True)
                continue
            for ev in batch:
                try:
                    self._handle(ev)
                except Exception:  # noqa: BLE001 - a recording bug must not stop the printer
                    log.exception("virtual printer: cannot record %s", ev.kind)
                finally:
                    self.queue.done()
            self._write_dirty(idle=self.queue.empty())
        for session in list(self.records):
            self._close(session, "stopped")
        for session in vp.open_sessions():  # never processed: nobody waits for them forever
            vp.session_done(session)

    # --- events -----------------------------------------------------------------------------------
    def _handle(self, ev: Event) -> None:
        vp = self.vp
        if ev.kind == "power":
            for session in vp.open_sessions():
                if session.epoch <= ev.epoch:
                    self._close(session, "power_loss")
            return
        self._wait_until(ev)
        if ev.epoch != vp.epoch and ev.t > vp.power_cut_at(ev.epoch):
            return  # the power went before this reached paper
        s = ev.session
        assert s is not None  # every event but a power cycle belongs to a session
        if ev.kind == "op":
            assert ev.op is not None
            self._op(s, ev.op)
        elif ev.kind == "reply":
            s.send(ev.data)
        elif ev.kind == "confirm":
            self._confirm(s, ev)
        elif ev.kind == "end":
            self._close(s, "done")

    def _wait_until(self, ev: Event) -> None:
        vp = self.vp
        while (left := ev.t - time.monotonic()) > 0 and not vp.stopping and ev.epoch == vp.epoch:
            time.sleep(min(left, 0.02))

    def _op(self, s: Session, op: Op) -> None:
        rec = self.records.get(s)
        if rec is None:
            if op.kind == "status_request":  # status traffic alone makes no job
                if len(s.status_ops) < 64:
                    s.status_ops.append(op)
                return
            job = self.vp.new_job(s)
            rec = self.records[s] = JobRecord(
                job, s, self.vp.profile.width_dots, self.vp.profile.font_cells, self.canvas
            )
            for early in s.status_ops:
                rec.add(early)
            s.status_ops = []
            rec.write_json()
        rec.add(op)
        if op.height:
            self.vp.note("printed", s.source, y=op.y + op.height)

    def _confirm(self, s: Session, ev: Event) -> None:
        vp = self.vp
        # no wait for a paused printer here: the mechanism reached this GS r before it paused (it
        # stops taking from the buffer while paused), so the paper before it is printed even when
        # the paper ran out later, in a job behind it — that job's GS r is what waits
        if ev.epoch != vp.epoch:
            return
        rec = self.records.get(s)
        if rec is not None:
            rec.job.confirmed += 1
        for r in self.records.values():  # everything printed so far goes to disk first
            r.write_page("open")
            r.write_json()
        reply = vp.faults.transmit_status(ev.n)
        if reply is not None and not vp.faults.silent:
            s.send(reply)
            vp.note("confirm", s.source, n=ev.n, reply=reply.hex())

    def _close(self, s: Session, state: str) -> None:
        rec = self.records.pop(s, None)
        if rec is not None:
            rec.finish(state)
            self.vp.job_finished(rec.job)
        self.vp.session_done(s)

    def _write_dirty(self, idle: bool) -> None:
        now = time.monotonic()
        for rec in self.records.values():
            if rec.dirty and (idle or now - rec.last_write >= JSON_EVERY_S):
                rec.write_json()
