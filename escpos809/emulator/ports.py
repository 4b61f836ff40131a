"""The virtual printer's other ports: the status port (``ESC v``, TCP 4000), the Xprinter UDP
discovery responder (9000), the serial line on a pseudo-terminal, and the move to a new
address after a set-IP command. A mixin of :class:`~escpos809.emulator.server.VirtualPrinter`."""

from __future__ import annotations

import ipaddress
import logging
import os
import select
import socket
import threading
import time
from typing import TYPE_CHECKING

from .firmware import Firmware
from .link import LinkPace
from .mechanism import ReceiveBuffer, Session
from .state import Faults, Network, RealtimeScanner

log = logging.getLogger(__name__)

FIND, FOUND, SAVE = b"XP0001FIND", b"XP0001FOUND", b"XP0001SAVE"


def _ip_at(packet: bytes, off: int) -> str:
    """The IPv4 address in the 4 bytes of ``packet`` at ``off``."""
    return str(ipaddress.IPv4Address(packet[off : off + 4]))


class PortsMixin:
    """Status port, discovery, serial pty, rebinding (see the module docstring)."""

    # the printer's state the ports work on (set up by VirtualPrinter.__init__)
    host: str
    port: int
    address_map: dict[str, str]
    reboot_s: float
    idle_s: float
    faults: Faults
    firmware: Firmware
    network: Network
    buffer: ReceiveBuffer
    serial_path: str | None
    epoch: int
    _powered: bool
    _lock: threading.RLock
    _stop: threading.Event
    _listener: socket.socket | None
    _status_listener: socket.socket | None
    _rebind_to: str | None
    slow_bps: int | None

    if TYPE_CHECKING:  # the printer's own helpers

        def _bound_host(self) -> str: ...

        def _listen(self, host: str, port: int) -> socket.socket: ...

        def _open_session(self, source: str, reply_to: socket.socket | int | None) -> Session: ...

        def _arrived(self, session: Session, scanner: RealtimeScanner, data: bytes) -> bool: ...

        def _link(self) -> LinkPace: ...

    # --- status port --------------------------------------------------------------------------------
    def _serve_status(self) -> None:
        while not self._stop.is_set():
            listener = self._status_listener
            if listener is None:
                time.sleep(0.05)
                continue
            try:
                conn, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            epoch = self.epoch
            conn.settimeout(0.1)
            try:
                buf, quiet_since = b"", time.monotonic()
                while not self._stop.is_set() and epoch == self.epoch and time.monotonic() - quiet_since < 2:
                    try:
                        chunk = conn.recv(64)
                    except TimeoutError:
                        continue
                    if not chunk:
                        break
                    buf, quiet_since = buf + chunk, time.monotonic()
                    while (i := buf.find(b"\x1bv")) != -1:
                        if not self.faults.silent and self.firmware.answers_to("esc-v"):
                            conn.sendall(self.faults.asb_bytes())
                        buf = buf[i + 2 :]
                    buf = buf[-1:]
            except OSError:
                pass
            finally:
                conn.close()

    # --- UDP discovery --------------------------------------------------------------------------------
    def _serve_discovery(self, sock: socket.socket) -> None:
        # packets are decoded here from the reference's offsets, not with escpos809.escpos.vendor,
        # so the virtual printer stays an independent check of the driver (design.md)
        sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                packet, peer = sock.recvfrom(1024)
            except (TimeoutError, OSError):
                continue
            if not self._powered:
                continue
            if packet.startswith(FIND):
                sock.sendto(self.found_packet(), peer)
            elif packet.startswith(SAVE) and len(packet) >= 33:
                mac = ":".join(f"{b:02X}" for b in packet[10:16])
                if mac != self.network.mac.upper():
                    continue
                n = self.network
                n.ip, n.mask, n.gateway = _ip_at(packet, 18), _ip_at(packet, 22), _ip_at(packet, 26)
                n.dhcp = bool(packet[32])
                log.info("XP0001SAVE: now %s/%s via %s, DHCP %s", n.ip, n.mask, n.gateway, n.dhcp)
                self._schedule_rebind()

    def found_packet(self) -> bytes:
        """This printer's ``XP0001FOUND`` reply (offsets per the reference, §12)."""
        n = self.network
        mac = bytes(int(p, 16) for p in n.mac.split(":"))
        ip = lambda a: ipaddress.IPv4Address(a).packed  # noqa: E731
        return FOUND + mac + b"\x00\x00" + ip(n.ip) + ip(n.mask) + ip(n.gateway) + b"\x00\x00" + bytes([n.dhcp])

    # --- serial line ------------------------------------------------------------------------------------
    def _serve_serial(self, master: int) -> None:
        """A burst of bytes on the line is a job; it ends after ``idle_s`` of silence."""
        session: Session | None = None
        scanner = RealtimeScanner()
        last = time.monotonic()
        while not self._stop.is_set():
            if session is not None and session.epoch != self.epoch:
                session = None  # the power went: that burst is over
            room = self.buffer.room()
            if room <= 0:  # full: leave the bytes in the line (the host's writes block)
                self._link().stood_still()
                self.buffer.wait_room(0.05)
                last = time.monotonic()
                continue
            try:
                ready, _, _ = select.select([master], [], [], 0.05)
            except (OSError, ValueError):
                break
            if ready:
                try:
                    data = os.read(master, min(room, self._link().slice() if self.slow_bps else 4096))
                except OSError:
                    data = b""
                if data and self._powered:  # bytes sent to a printer that is off are lost
                    if session is None:
                        session, scanner = self._open_session(f"serial {self.serial_path}", master), RealtimeScanner()
                    self._arrived(session, scanner, data)
                    last = time.monotonic()
                    continue
            else:
                self._link().stood_still()
            if session is not None and time.monotonic() - last > self.idle_s:
                self.buffer.end(session)
                session = None
        if session is not None:
            self.buffer.end(session)

    # --- network changes ------------------------------------------------------------------------------
    def _schedule_rebind(self) -> None:
        new = self.network.ip
        target = self.address_map.get(new) or (new if ipaddress.IPv4Address(new).is_loopback else None)
        if target and target != self._bound_host():
            self._rebind_to = target
        else:
            log.info("virtual printer keeps %s (new address %s is not on this machine)", self._bound_host(), new)

    def _rebind(self) -> None:
        target, self._rebind_to = self._rebind_to, None
        if target is None:  # nothing scheduled (the print port calls this only when something is)
            return
        if self._stop.wait(self.reboot_s):  # the firmware resets after a new address; stopped meanwhile:
            return  # no new listener to leak
        with self._lock:
            old = self._listener
            try:
                self._listener = self._listen(target, self.port)
            except OSError as exc:
                log.warning("cannot rebind to %s:%d: %s", target, self.port, exc)
                return
            self.host = target
            if old is not None:
                old.close()
        log.info("virtual printer now listens on %s:%d", target, self.port)
