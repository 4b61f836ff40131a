"""The virtual printer's receive buffer and print mechanism.

Bytes from a connection enter a bounded :class:`ReceiveBuffer` (the connection reader takes
them only while it has room, so a host's writes block as they do on a real printer); real-time
requests (``DLE EOT n``) are answered by the reader on arrival. The :class:`Mechanism` thread
takes the buffer in order and runs the interpreter over it. Throttled, it prints at the
profile's speed and stays about one line ahead of the paper: each operation is handed to the
recorder stamped with the moment its last dot is printed. ``GS r`` (buffer-ordered) goes to the
recorder the same way, so it is answered after everything before it is on paper and on disk.
While paused (paper out, cover open) the mechanism stands still and nothing after the pause is
processed, ``GS r`` included.
"""

from __future__ import annotations

import builtins
import enum
import logging
import os
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from ..paper.ops import Op
from .interpreter import Interpreter

if TYPE_CHECKING:
    from .recorder import Job
    from .server import VirtualPrinter

log = logging.getLogger(__name__)


class _End(enum.Enum):
    END = "END"

    def __repr__(self) -> str:
        return "END"


END: Final = _End.END  # buffer marker: the session's connection has closed


class PowerLost(Exception):
    """Raised inside the mechanism to abandon what it was doing when the power goes."""


@dataclass(eq=False)
class Session:
    """One connection (or burst on the serial line): its bytes, where its replies go, its job.
    A session becomes a job (a folder and a number) only when something other than status
    traffic reaches the mechanism."""

    source: str
    reply_to: socket.socket | int | None  # a socket, a file descriptor (the serial pty), or None
    epoch: int  # power cycle it belongs to
    bytes: int = 0
    dropped: bool = False
    job: Job | None = None
    status_ops: list[Op] = field(default_factory=list)  # status requests before the job began
    done: threading.Event = field(default_factory=threading.Event)
    _send_lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, data: builtins.bytes) -> bool:  # ``bytes`` in here is the field above
        """Bytes back to the host; False when it is gone."""
        target = self.reply_to
        if target is None:
            return False
        try:
            with self._send_lock:
                if isinstance(target, int):
                    os.write(target, data)
                else:
                    target.sendall(data)
            return True
        except OSError:
            return False


class ReceiveBuffer:
    """A bounded FIFO of ``(session, bytes)`` chunks and end-of-session markers."""

    def __init__(self, size: int):
        if size < 1:
            raise ValueError("the receive buffer needs at least one byte")
        self.size = size
        self.epoch = 0
        self._chunks: deque[tuple[Session, bytes | _End]] = deque()
        self._used = 0
        self._cv = threading.Condition()

    @property
    def used(self) -> int:
        """Bytes received and not yet taken by the mechanism."""
        return self._used

    def room(self) -> int:
        return max(0, self.size - self._used)

    def wait_room(self, timeout: float) -> int:
        """Room in bytes, waiting up to ``timeout`` for some."""
        with self._cv:
            if self._used >= self.size:
                self._cv.wait(timeout)
            return self.room()

    def put(self, session: Session, data: bytes) -> bool:
        """Append bytes (the reader took no more than ``room()``); refused after a power loss."""
        with self._cv:
            if session.epoch != self.epoch:
                return False
            if data:
                self._chunks.append((session, data))
                self._used += len(data)
            self._cv.notify_all()
            return True

    def end(self, session: Session) -> bool:
        """Mark the end of a session's bytes."""
        with self._cv:
            if session.epoch != self.epoch:
                return False
            self._chunks.append((session, END))
            self._cv.notify_all()
            return True

    def get(
        self, max_bytes: int, timeout: float, hold: Callable[[], bool] | None = None
    ) -> tuple[Session, bytes | _End] | None:
        """The next chunk (at most ``max_bytes``) or END, or None after ``timeout`` or while ``hold()``."""
        with self._cv:
            if not self._chunks:
                self._cv.wait(timeout)
            if not self._chunks or (hold is not None and hold()):
                return None
            session, data = self._chunks[0]
            if data is END:
                self._chunks.popleft()
                return session, data
            if len(data) > max_bytes:
                self._chunks[0] = (session, data[max_bytes:])
                data = data[:max_bytes]
            else:
                self._chunks.popleft()
            self._used -= len(data)
            self._cv.notify_all()
            return session, data

    def clear(self, epoch: int) -> int:
        """Drop everything (the power went); sessions of earlier epochs are refused from now on."""
        with self._cv:
            dropped = self._used
            self._chunks.clear()
            self._used = 0
            self.epoch = epoch
            self._cv.notify_all()
            return dropped

    def empty(self) -> bool:
        return not self._chunks


@dataclass
class Event:
    """What the mechanism hands the recorder; ``t`` is when it happens on paper (monotonic)."""

    kind: str  # op | reply | confirm | end | power
    session: Session | None
    t: float
    epoch: int
    op: Op | None = None
    data: bytes = b""
    n: int = 0


class Mechanism(threading.Thread):
    """Consumes the receive buffer in order through the interpreter; see the module docstring."""

    def __init__(self, printer: VirtualPrinter, interp: Interpreter):
        super().__init__(daemon=True, name="virtual-mechanism")
        self.vp = printer
        self.interp = interp
        self.epoch: int = printer.epoch
        self.session: Session | None = None
        prof = printer.profile
        self.speed = prof.speed_mm_s * prof.dpi / 25.4  # dots per second
        interp.sink = self._on_op
        interp.reply = self._on_reply
        interp.on_transmit_status = self._on_transmit_status

    # --- the loop ---------------------------------------------------------------------------------
    def run(self) -> None:
        vp = self.vp
        while not vp.stopping:
            if self.epoch != vp.epoch:
                self._power_cycle()
                continue
            if self.interp.paused:  # a stopped printer leaves its receive buffer alone
                try:
                    self._wait_running()
                except PowerLost:
                    pass
                continue
            # nothing leaves the buffer while paused, even if the pause began during the wait
            item = vp.buffer.get(4096, timeout=0.1, hold=lambda: self.interp.paused)
            if item is None:
                continue
            session, data = item
            if session.epoch != self.epoch:
                continue  # bytes from before a power loss
            self.session = session
            try:
                if data is END:
                    self._end(session)
                else:
                    self.interp.take(data)
                    self._process()
            except PowerLost:
                pass
            except Exception:  # noqa: BLE001 - an interpreter bug must not stop the printer
                log.exception("virtual printer: cannot process data from %s", session.source)
                self.interp.drop_pending()  # or the same bytes would fail again and again

    def _process(self) -> None:
        while True:
            self._wait_running()
            self.interp.process()
            if not (self.interp.paused and self.interp.pending):
                return

    def _end(self, session: Session) -> None:
        while True:
            self._wait_running()
            self.interp.finish()
            if not (self.interp.paused and self.interp.pending):
                break
        self.vp.recorder.put(Event("end", session, self._paper_time(), self.epoch))

    def _wait_running(self) -> None:
        """Stand still while paused (paper out, cover open)."""
        if not self.interp.paused:
            return
        while self.interp.paused:
            self._check_power()
            time.sleep(0.02)
        # the paper stopped for a fault, not for want of data: that is not idle time
        self.vp.paper_busy_until = max(self.vp.paper_busy_until, time.monotonic())

    def _power_cycle(self) -> None:
        """Back on after a power loss: the interpreter at power-on state, the recorder told."""
        old = self.epoch
        self.interp.reset()
        self.session = None
        cut = self.vp.power_cut_at(old)
        self.vp.paper_busy_until = min(self.vp.paper_busy_until, cut)
        self.epoch = self.vp.epoch
        self.vp.recorder.put(Event("power", None, cut, old))

    def _check_power(self) -> None:
        if self.epoch != self.vp.epoch or self.vp.stopping:
            raise PowerLost

    # --- paper time -------------------------------------------------------------------------------
    def _paper_time(self) -> float:
        """When something handed over now happens on paper: after what is printing now."""
        return max(time.monotonic(), self.vp.paper_busy_until)

    def _sleep_until(self, t: float) -> None:
        while (left := t - time.monotonic()) > 0:
            self._check_power()
            time.sleep(min(left, 0.05))
        self._check_power()

    # --- interpreter hooks (mechanism thread) ------------------------------------------------------
    def _on_op(self, op: Op) -> None:
        self._check_power()
        vp = self.vp
        if op.height and vp.throttle:
            now = time.monotonic()
            if vp.paper_busy_until and now > vp.paper_busy_until:
                vp.paper_idle_s += now - vp.paper_busy_until  # the mechanism stood still, waiting for data
            start = max(now, vp.paper_busy_until)
            vp.paper_busy_until = start + op.height / self.speed
            # one line ahead: take the next line once this one starts printing
            self._sleep_until(start)
            t = vp.paper_busy_until
        else:
            t = self._paper_time()
        vp.recorder.put(Event("op", self.session, t, self.epoch, op=op))

    def _on_reply(self, data: bytes) -> None:
        # in-order replies (GS a, ESC v on the print port, QR size) keep their order with GS r
        self.vp.recorder.put(Event("reply", self.session, self._paper_time(), self.epoch, data=data))

    def _on_transmit_status(self, n: int) -> None:
        self._check_power()
        self.vp.recorder.put(Event("confirm", self.session, self._paper_time(), self.epoch, n=n))


def reset_connection(conn: socket.socket) -> None:
    """Make the next close send RST (a printer losing power does not say goodbye)."""
    try:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
