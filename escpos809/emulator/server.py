"""The virtual OCPP-809 on real sockets: raw TCP print port, status port (``ESC v``), a serial
endpoint on a pseudo-terminal, and the Xprinter UDP discovery responder — all bound to
loopback by default.

Inside, it is built like the printer: connection readers fill a bounded receive buffer and
answer ``DLE EOT`` on arrival; a mechanism thread takes the buffer in order (at 300 mm/s when
throttled, see :mod:`.mechanism`); a recorder thread writes the paper as it is printed (the
on-disk contract is in :mod:`.recorder`). ``GS r`` is answered after the paper before it is
printed and on disk. :meth:`VirtualPrinter.power_loss` pulls the plug.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from ..profile import Profile, load_profile
from .firmware import Firmware
from .interpreter import Interpreter
from .link import LinkPace
from .mechanism import Mechanism, ReceiveBuffer, Session, reset_connection
from .ports import FIND, FOUND, SAVE, PortsMixin
from .power import PowerMixin
from .recorder import Job, Recorder
from .state import RealtimeScanner

__all__ = ["VirtualPrinter", "Job", "RECEIVE_BUFFER", "FIND", "FOUND", "SAVE"]

log = logging.getLogger(__name__)

#: The receive buffer: the printer takes data while it has room here, then stops reading, so
#: the host's writes block (and time out while paper is out or the cover open) as on a real one.
RECEIVE_BUFFER = 16 * 1024
TCP_WINDOW = 16 * 1024  # SO_RCVBUF of the print port (Linux doubles it)
JOBS_WITH_OPS = 1000  # finished jobs that keep their operations in memory (older ones: on disk only)


class VirtualPrinter(PortsMixin, PowerMixin):
    """An OCPP-809 you can print to. ``start()`` it, print to ``uri``, read ``jobs``.

    ``receive_buffer``: its size in bytes. ``throttle``: print at the profile's speed.
    ``events``: a bounded log of ``(monotonic time, kind, source, details)`` — data arrival,
    real-time replies (``status``), paper (``printed``), ``GS r`` replies (``confirm``),
    ``power_off`` / ``power_on`` — on the printer's own clock.
    """

    def __init__(
        self,
        out_dir: str | Path,
        host: str = "127.0.0.1",
        port: int = 0,
        status_port: int | None = None,
        discovery_port: int | None = None,
        serial: bool = False,
        profile: Profile | None = None,
        throttle: bool = False,
        address_map: dict[str, str] | None = None,
        reboot_s: float = 0.3,
        idle_s: float = 0.4,
        receive_buffer: int = RECEIVE_BUFFER,
        firmware: Firmware | None = None,
    ):
        self.profile = profile or load_profile()
        self.out_dir = Path(out_dir)
        self.host, self.port = host, port
        self.status_port, self.discovery_port = status_port, discovery_port
        self.serial_wanted, self.throttle = serial, throttle
        self.address_map = dict(address_map or {})
        self.reboot_s, self.idle_s = reboot_s, idle_s
        self.interp = Interpreter(
            self.profile.width_dots, self.profile.font_cells, dict(self.profile.codepages), firmware=firmware
        )
        self.firmware = self.interp.firmware
        self.faults = self.interp.faults
        self.network = self.interp.network
        self.network.ip = host if host != "0.0.0.0" else self.network.ip
        self.buffer = ReceiveBuffer(receive_buffer)
        self.drop_after: int | None = None  # fault: close the connection after N bytes
        self.slow_bps: int | None = None  # fault: slow link, bytes per second (a serial line: link.py)
        self._pace: LinkPace | None = None
        self.jobs: list[Job] = []
        self.events: deque[tuple[float, str, str | None, dict[str, Any]]] = deque(maxlen=20_000)
        self.power_log: list[tuple[float, str, dict[str, Any]]] = []  # (monotonic, power_off | power_on, details)
        self.serial_path: str | None = None
        self.paper_busy_until = 0.0  # throttled: when (time.monotonic) the mechanism will have printed all it has
        self.paper_idle_s = 0.0  # throttled: time the mechanism waited for data between prints
        self.epoch = 0  # power cycles: bytes and sessions of an earlier one are gone
        self._cuts: dict[int, float] = {}
        self._powered = True
        self._power_gen = 0
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._conns: set[socket.socket] = set()
        self._open: list[Session] = []
        self._recent: deque[Session] = deque(maxlen=512)
        self._listener: socket.socket | None = None
        self._status_listener: socket.socket | None = None
        self._rebind_to: str | None = None
        self._pty: tuple[int, int] | None = None
        self._next_job = 1
        self.mechanism = Mechanism(self, self.interp)
        self.recorder = Recorder(self)

    # --- life cycle -----------------------------------------------------------------------------------
    def start(self) -> VirtualPrinter:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        # keep earlier runs' paper (a restart after a crash too): number jobs on from the last folder
        numbers = [int(p.name[4:]) for p in self.out_dir.glob("job-[0-9][0-9][0-9][0-9]*") if p.name[4:].isdigit()]
        self._next_job = max(numbers, default=0) + 1
        self._listener = self._listen(self.host, self.port)
        self.port = self._listener.getsockname()[1]
        if self.status_port is not None:
            self._status_listener = self._listen(self.host, self.status_port)
            self.status_port = self._status_listener.getsockname()[1]
            self._spawn(self._serve_status)
        if self.discovery_port is not None:
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            u.bind((self.host if self.host != "0.0.0.0" else "127.0.0.1", self.discovery_port))
            self.discovery_port = u.getsockname()[1]
            self._sockets.append(u)
            self._spawn(self._serve_discovery, u)
        if self.serial_wanted:
            import tty

            master, slave = os.openpty()
            tty.setraw(master)
            tty.setraw(slave)
            self.serial_path = os.ttyname(slave)
            self._pty = (master, slave)
            self._spawn(self._serve_serial, master)
        self.mechanism.start()
        self.recorder.start()
        self._spawn(self._serve_print)
        return self

    def stop(self) -> None:
        """Stop; what reached paper is on disk (an open job is recorded as ``stopped``)."""
        self._stop.set()
        with self._lock:
            for s in self._sockets + [self._listener, self._status_listener]:
                try:
                    if s is not None:
                        s.close()
                except OSError:
                    pass
        for t in self._threads:
            t.join(2)
        for t in (self.mechanism, self.recorder):
            if t.is_alive():
                t.join(5)
        if self._pty:
            for fd in self._pty:
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._pty = None

    def __enter__(self) -> VirtualPrinter:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def uri(self) -> str:
        return f"tcp://{self._bound_host()}:{self.port}"

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def stop_event(self) -> threading.Event:
        return self._stop

    @property
    def receive_buffer(self) -> int:
        """Size of the receive buffer in bytes."""
        return self.buffer.size

    @property
    def paused(self) -> bool:
        """Paper out or cover open: the mechanism stands still."""
        return self.faults.paused

    @property
    def pending(self) -> int:
        """Bytes received and not yet printed (receive buffer and the command being read)."""
        return self.buffer.used + self.interp.pending

    @property
    def powered(self) -> bool:
        return self._powered

    @property
    def idle(self) -> bool:
        """No connection open, nothing left to print or to record."""
        return not self._open and self.recorder.idle

    def _bound_host(self) -> str:
        listener = self._listener
        try:
            return listener.getsockname()[0] if listener else self.host
        except OSError:
            return self.host

    def _spawn(self, target, *args) -> None:
        t = threading.Thread(target=target, args=args, daemon=True, name=f"virtual-{target.__name__}")
        t.start()
        self._threads.append(t)

    def _listen(self, host: str, port: int) -> socket.socket:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # a small TCP window, as a printer's network module has (its size is not documented for
        # this model: an assumption): the host's kernel then keeps what the printer has not
        # taken, as with a real printer, instead of handing ours megabytes at once
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, TCP_WINDOW)
        s.bind((host, port))
        s.listen(8)
        s.settimeout(0.1)
        return s

    # --- waiting ------------------------------------------------------------------------------------
    def wait_job(self, source: str, timeout: float = 30.0) -> Job | None:
        """Wait until the connection from ``source`` (e.g. ``tcp 127.0.0.1:40000``) is processed
        and its paper recorded; its job, or None (status traffic only, or ``timeout``)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                session = next((s for s in reversed(self._open) if s.source == source), None) or next(
                    (s for s in reversed(self._recent) if s.source == source), None
                )
            if session is not None:
                return session.job if session.done.wait(max(0.0, end - time.monotonic())) else None
            time.sleep(0.01)
        return None

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no job is in progress (the last one is on paper and recorded)."""
        end = time.monotonic() + timeout
        time.sleep(0.02)  # a connection the client just made may not be accepted yet
        while time.monotonic() < end:
            if self.idle:
                return True
            time.sleep(0.01)
        return False

    # --- sessions and jobs (called by the readers, the mechanism and the recorder) -------------------
    def note(self, kind: str, source: str | None, **details: Any) -> None:
        """Add to :attr:`events` (the printer's clock)."""
        self.events.append((time.monotonic(), kind, source, details))

    def open_sessions(self) -> list[Session]:
        """Connections (or serial bursts) whose paper is not recorded yet."""
        with self._lock:
            return list(self._open)

    def _open_session(self, source: str, reply_to: socket.socket | int | None) -> Session:
        with self._lock:
            session = Session(source, reply_to, self.epoch)
            self._open.append(session)
        return session

    def session_done(self, session: Session) -> None:
        """The session is processed and recorded (the recorder says so)."""
        with self._lock:
            if session in self._open:
                self._open.remove(session)
                self._recent.append(session)
        session.done.set()

    def new_job(self, session: Session) -> Job:
        """The session put something other than status traffic through: it becomes a job."""
        with self._lock:
            number = self._next_job
            self._next_job += 1
        job = Job(number, session.source, self.out_dir / f"job-{number:04d}")
        job.folder.mkdir(parents=True, exist_ok=True)
        session.job = job
        return job

    def job_finished(self, job: Job) -> None:
        """The job's paper is on disk (done, power loss or stop): list it."""
        with self._lock:
            self.jobs.append(job)
            if len(self.jobs) > JOBS_WITH_OPS:
                self.jobs[-JOBS_WITH_OPS - 1].ops = []  # memory stays bounded on a long run
        self.note("job", job.source, number=job.number, pages=len(job.pages), state=job.state)
        log.info(
            "job %d from %s: %d bytes, %d page(s) in %s (%s)",
            job.number,
            job.source,
            job.bytes,
            len(job.pages),
            job.folder,
            job.state,
        )
        if job.network_changed:
            self._schedule_rebind()

    # --- the print port ---------------------------------------------------------------------------------
    def _serve_print(self) -> None:
        while not self._stop.is_set():
            if self._rebind_to:
                self._rebind()
            listener = self._listener
            if listener is None:
                time.sleep(0.02)
                continue
            try:
                conn, peer = listener.accept()
            except (TimeoutError, OSError):
                continue
            # one connection at a time, as the firmware: the next waits in the backlog
            self._read_connection(conn, f"tcp {peer[0]}:{peer[1]}")

    def _read_connection(self, conn: socket.socket, source: str) -> None:
        session = self._open_session(source, conn)
        scanner = RealtimeScanner()
        conn.settimeout(0.1)
        with self._lock:
            self._conns.add(conn)
        try:
            while not self._stop.is_set() and session.epoch == self.epoch:
                room = self.buffer.wait_room(0.1)
                if room <= 0:
                    self._link().stood_still()
                    continue  # full: leave the bytes in the socket (the host's writes block)
                try:
                    data = conn.recv(min(room, 4096, self._link().slice() if self.slow_bps else 4096))
                except TimeoutError:
                    self._link().stood_still()
                    continue
                except OSError:
                    break
                if not data:
                    break
                if self.drop_after is not None and session.bytes + len(data) >= self.drop_after:
                    data = data[: max(0, self.drop_after - session.bytes)]
                    session.dropped = True
                if not self._arrived(session, scanner, data) or session.dropped:
                    reset_connection(conn)
                    break
        finally:
            with self._lock:
                self._conns.discard(conn)
            if session.epoch != self.epoch:
                reset_connection(conn)  # the power went
            else:
                self.buffer.end(session)
            conn.close()

    def _link(self) -> LinkPace:
        if self._pace is None or self._pace.bytes_per_s != self.slow_bps:
            self._pace = LinkPace(self.slow_bps or 1)
        return self._pace

    def _arrived(self, session: Session, scanner: RealtimeScanner, data: bytes) -> bool:
        """Bytes from the host: real-time requests answered now, the rest to the buffer."""
        if self.slow_bps:
            self._link().arrived(len(data))
        session.bytes += len(data)
        self.note("data", session.source, n=len(data))
        for n in scanner.scan(data):
            if not self.faults.silent and self.firmware.answers_to("dle-eot"):
                session.send(bytes([self.faults.status_byte(n)]))
                self.note("status", session.source, n=n)
        return self.buffer.put(session, data)
