"""The virtual printer's power: :meth:`PowerMixin.power_loss` pulls the plug (connections reset,
bytes not yet printed lost, the listeners closed) and the controller comes back in its
power-on state on the same ports. A mixin of :class:`~escpos809.emulator.server.VirtualPrinter`."""

from __future__ import annotations

import logging
import math
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

from .mechanism import ReceiveBuffer, Session, reset_connection

log = logging.getLogger("escpos809.emulator.server")


class PowerMixin:
    """Power cycles (see the module docstring)."""

    # the printer's state a power cycle works on (set up by VirtualPrinter.__init__)
    host: str
    port: int
    status_port: int | None
    epoch: int
    buffer: ReceiveBuffer
    power_log: list[tuple[float, str, dict[str, Any]]]
    _lock: threading.RLock
    _stop: threading.Event
    _cuts: dict[int, float]
    _powered: bool
    _power_gen: int
    _conns: set[socket.socket]
    _listener: socket.socket | None
    _status_listener: socket.socket | None

    if TYPE_CHECKING:  # the printer's own helpers

        def _listen(self, host: str, port: int) -> socket.socket: ...

        def note(self, kind: str, source: str | None, **details: Any) -> None: ...

        def open_sessions(self) -> list[Session]: ...

        @property
        def uri(self) -> str: ...

    def power_loss(self, off_s: float = 1.0) -> None:
        """Pull the plug: every connection is reset, bytes not yet printed are lost, the
        controller comes back in its power-on state after ``off_s`` seconds on the same ports
        (connections are refused meanwhile). What reached paper stays recorded; jobs number on.
        Returns once the printer is off and its paper recorded."""
        with self._lock:
            if self._stop.is_set():
                return
            old = self.epoch
            self._cuts[old] = time.monotonic()
            self.epoch += 1
            self._powered = False
            self._power_gen += 1
            gen = self._power_gen
            dropped = self.buffer.clear(self.epoch)
            for conn in list(self._conns):
                reset_connection(conn)
                try:
                    conn.shutdown(socket.SHUT_RD)  # wakes the reader, which closes with RST
                except OSError:
                    pass
            for name in ("_listener", "_status_listener"):
                sock = getattr(self, name)
                if sock is not None:
                    sock.close()
                    setattr(self, name, None)
        self.note("power_off", None, dropped=dropped, off_s=off_s)
        self.power_log.append((time.monotonic(), "power_off", {"dropped": dropped, "off_s": off_s}))
        log.warning("virtual printer: power lost (%d bytes not yet printed dropped), back in %g s", dropped, off_s)
        timer = threading.Timer(off_s, self._power_on, args=(gen,))
        timer.daemon = True
        timer.start()
        end = time.monotonic() + 5
        while time.monotonic() < end and any(s.epoch <= old for s in self.open_sessions()):
            time.sleep(0.01)

    def _power_on(self, gen: int) -> None:
        while not self._stop.is_set():
            with self._lock:
                if gen != self._power_gen:
                    return  # pulled again meanwhile
                try:
                    self._listener = self._listen(self.host, self.port)
                    if self.status_port is not None:
                        self._status_listener = self._listen(self.host, self.status_port)
                except OSError as exc:
                    log.warning("virtual printer: cannot listen on %s:%d again: %s", self.host, self.port, exc)
                else:
                    self._powered = True
                    break
            time.sleep(0.2)
        self.note("power_on", None)
        self.power_log.append((time.monotonic(), "power_on", {}))
        log.warning("virtual printer: power back, listening on %s", self.uri)

    def wait_powered(self, timeout: float = 10.0) -> bool:
        """Wait until the power is back (after :meth:`power_loss`)."""
        end = time.monotonic() + timeout
        while not self._powered and time.monotonic() < end:
            time.sleep(0.01)
        return self._powered

    def power_cut_at(self, epoch: int) -> float:
        """When the power cycle ``epoch`` ended (infinity while it lasts)."""
        return self._cuts.get(epoch, math.inf)
