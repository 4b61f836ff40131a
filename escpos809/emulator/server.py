"""The virtual OCPP-809 on real sockets: raw TCP print port, status port (``ESC v``), a serial
endpoint on a pseudo-terminal, and the Xprinter UDP discovery responder — all bound to
loopback by default. Each job (connection, or burst on the serial line) becomes a folder with
one PNG per cut and a JSON log of operations."""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..profile import Profile, load_profile
from .interpreter import Interpreter
from .paper import render_pages

log = logging.getLogger(__name__)

#: While paused (paper out, cover open) the printer keeps taking data into a buffer this big,
#: then stops reading, so the host's writes block and time out as with a real printer.
RECEIVE_BUFFER = 16 * 1024
FIND, FOUND, SAVE = b"XP0001FIND", b"XP0001FOUND", b"XP0001SAVE"


@dataclass
class Job:
    number: int
    source: str
    folder: Path
    bytes: int = 0
    pages: list[Path] = field(default_factory=list)
    ops: list = field(default_factory=list)
    dropped: bool = False

    @property
    def log_path(self) -> Path:
        return self.folder / "job.json"


class VirtualPrinter:
    """An OCPP-809 you can print to. ``start()`` it, print to ``uri``, read ``jobs``."""

    def __init__(self, out_dir: str | Path, host: str = "127.0.0.1", port: int = 0,
                 status_port: int | None = None, discovery_port: int | None = None, serial: bool = False,
                 profile: Profile | None = None, throttle: bool = False, address_map: dict[str, str] | None = None,
                 reboot_s: float = 0.3, idle_s: float = 0.4):
        self.profile = profile or load_profile()
        self.out_dir = Path(out_dir)
        self.host, self.port = host, port
        self.status_port, self.discovery_port = status_port, discovery_port
        self.serial_wanted, self.throttle = serial, throttle
        self.address_map = dict(address_map or {})
        self.reboot_s, self.idle_s = reboot_s, idle_s
        fonts = self.profile.font_cells
        self.interp = Interpreter(self.profile.width_dots, fonts, dict(self.profile.codepages), reply=self._reply)
        self.faults = self.interp.faults
        self.network = self.interp.network
        self.network.ip = host if host != "0.0.0.0" else self.network.ip
        self.drop_after: int | None = None       # fault: close the connection after N bytes
        self.slow_bps: int | None = None         # fault: slow link, bytes per second
        self.jobs: list[Job] = []
        self.serial_path: str | None = None
        self._lock = threading.RLock()
        self._reply_to = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._busy = threading.Event()
        self._listener: socket.socket | None = None
        self._rebind_to: str | None = None
        self._job_ops_start = 0
        self._first_job = 1
        self.paper_busy_until = 0.0  # throttled: when (time.monotonic) the mechanism will have printed all it has
        self.paper_idle_s = 0.0  # throttled: time the mechanism waited for data between prints

    # --- life cycle -----------------------------------------------------------------------------------
    def start(self) -> "VirtualPrinter":
        self.out_dir.mkdir(parents=True, exist_ok=True)
        # keep earlier runs' paper: number jobs on from the last folder there
        numbers = [int(p.name[4:]) for p in self.out_dir.glob("job-[0-9][0-9][0-9][0-9]") if p.name[4:].isdigit()]
        self._first_job = max(numbers, default=0) + 1
        self._listener = self._listen(self.host, self.port)
        self.port = self._listener.getsockname()[1]
        self._spawn(self._serve_print)
        if self.status_port is not None:
            s = self._listen(self.host, self.status_port)
            self.status_port = s.getsockname()[1]
            self._spawn(self._serve_status, s)
        if self.discovery_port is not None:
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            u.bind((self.host if self.host != "0.0.0.0" else "127.0.0.1", self.discovery_port))
            self.discovery_port = u.getsockname()[1]
            self._sockets.append(u)
            self._spawn(self._serve_discovery, u)
        if self.serial_wanted:
            master, slave = os.openpty()
            import tty
            tty.setraw(master)
            tty.setraw(slave)
            self.serial_path = os.ttyname(slave)
            self._pty = (master, slave)
            self._spawn(self._serve_serial, master)
        return self

    def stop(self) -> None:
        self._stop.set()
        for s in self._sockets:
            try:
                s.close()
            except OSError:
                pass
        for t in self._threads:
            t.join(2)
        if getattr(self, "_pty", None):
            for fd in self._pty:
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._pty = None

    def __enter__(self) -> "VirtualPrinter":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def uri(self) -> str:
        return f"tcp://{self._bound_host()}:{self.port}"

    def _bound_host(self) -> str:
        return self._listener.getsockname()[0] if self._listener else self.host

    def _spawn(self, target, *args) -> None:
        t = threading.Thread(target=target, args=args, daemon=True, name=f"virtual-{target.__name__}")
        t.start()
        self._threads.append(t)

    def _listen(self, host: str, port: int) -> socket.socket:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))
        s.listen(8)
        s.settimeout(0.1)
        self._sockets.append(s)
        return s

    def wait_job(self, source: str, timeout: float = 30.0) -> Job | None:
        """Wait for the job from ``source`` (e.g. ``tcp 127.0.0.1:40000``) to be on paper."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                job = next((j for j in reversed(self.jobs) if j.source == source), None)
            if job:
                return job
            time.sleep(0.01)
        return None

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no job is in progress (the last one is rendered)."""
        end = time.monotonic() + timeout
        time.sleep(0.02)
        while time.monotonic() < end:
            if not self._busy.is_set():
                return True
            time.sleep(0.01)
        return False

    # --- jobs --------------------------------------------------------------------------------------------
    def _reply(self, data: bytes) -> None:
        target = self._reply_to
        if target is None:
            return
        try:
            if isinstance(target, int):
                os.write(target, data)
            else:
                target.sendall(data)
        except OSError:
            pass

    def _begin(self, source: str, reply_to) -> Job:
        self._busy.set()
        with self._lock:
            self._reply_to = reply_to
            self._job_ops_start = len(self.interp.ops)
            number = self._first_job + len(self.jobs)
            job = Job(number, source, self.out_dir / f"job-{number:04d}")
        return job

    def _end(self, job: Job) -> None:
        if self.throttle:
            self._wait_paper()  # the job is on paper when the mechanism has printed it
        # a paused printer keeps the job until paper is loaded / the cover closed
        while self.interp.paused and self.interp.pending and not self._stop.is_set():
            with self._lock:
                if self.interp.pending_is_status_only():  # a status poll: answered, nothing to print
                    break
            time.sleep(0.05)
        with self._lock:
            self.interp.finish()
            job.ops = self.interp.ops[self._job_ops_start:]
            del self.interp.ops[:]
            self._job_ops_start = 0
            self._reply_to = None
        if all(op.kind == "status_request" for op in job.ops):
            # a status query (a driver's, a print service's poll) is not a job: no paper, no folder
            with self._lock:
                self.jobs.append(job)
            self._busy.clear()
            return
        fonts = self.profile.font_cells
        job.folder.mkdir(parents=True, exist_ok=True)
        error = None
        try:
            for n, page in enumerate(render_pages(job.ops, self.profile.width_dots, fonts), 1):
                path = job.folder / f"page-{n}.png"
                page.save(path)
                job.pages.append(path)
        except Exception as exc:  # noqa: BLE001 - a drawing bug must not lose the job or stop the server
            log.exception("job %d: cannot draw the paper", job.number)
            error = f"{type(exc).__name__}: {exc}"
        job.log_path.write_text(json.dumps({
            "job": job.number, "source": job.source, "bytes": job.bytes, "dropped": job.dropped,
            "render_error": error, "pages": [p.name for p in job.pages], "ops": [op.to_json() for op in job.ops],
        }, indent=1))
        with self._lock:
            self.jobs.append(job)
        if any(op.kind == "network" for op in job.ops):
            self._schedule_rebind()
        log.info("job %d from %s: %d bytes, %d page(s) in %s", job.number, job.source, job.bytes,
                 len(job.pages), job.folder)
        self._busy.clear()

    def _take(self, job: Job, data: bytes) -> None:
        job.bytes += len(data)
        if self.slow_bps:
            time.sleep(len(data) / self.slow_bps)
        if not self.throttle:
            with self._lock:
                self.interp.feed(data)
            return
        # the controller takes data in, answers real-time requests and parses while the mechanism
        # is still printing what came before, at its own speed: a host is never kept waiting for
        # a status reply by the paper, and a printer fed in time never stops between jobs
        with self._lock:
            before = self.interp.y
            self.interp.feed(data)
            advanced = self.interp.y - before
        if not advanced:
            return
        speed = self.profile.speed_mm_s * self.profile.dpi / 25.4
        now = time.monotonic()
        if self.paper_busy_until and now > self.paper_busy_until:
            self.paper_idle_s += now - self.paper_busy_until  # the mechanism stood still, waiting for data
        starts = max(now, self.paper_busy_until)
        self.paper_busy_until = starts + advanced / speed
        time.sleep(max(0.0, starts - now))  # take more data once this starts printing (one ahead)

    def _wait_paper(self) -> None:
        time.sleep(max(0.0, self.paper_busy_until - time.monotonic()))

    def _can_read(self) -> bool:
        with self._lock:
            self.interp.process()  # resume when a fault was cleared
            return not (self.interp.paused and self.interp.pending >= RECEIVE_BUFFER)

    # --- servers ---------------------------------------------------------------------------------------
    def _serve_print(self) -> None:
        while not self._stop.is_set():
            if self._rebind_to:
                self._rebind()
            try:
                conn, peer = self._listener.accept()
            except (socket.timeout, OSError):
                continue
            self._handle_print(conn, f"tcp {peer[0]}:{peer[1]}")

    def _handle_print(self, conn: socket.socket, source: str) -> None:
        job = self._begin(source, conn)
        conn.settimeout(0.1)
        try:
            while not self._stop.is_set():
                if not self._can_read():
                    time.sleep(0.02)
                    continue
                try:
                    data = conn.recv(4096)
                except socket.timeout:
                    continue
                except OSError:
                    break
                if not data:
                    break
                if self.drop_after is not None and job.bytes + len(data) >= self.drop_after:
                    self._take(job, data[:max(0, self.drop_after - job.bytes)])
                    job.dropped = True
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    break
                self._take(job, data)
        finally:
            conn.close()
            self._end(job)

    def _serve_status(self, listener: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = listener.accept()
            except (socket.timeout, OSError):
                continue
            conn.settimeout(2)
            try:
                buf = b""
                while not self._stop.is_set():
                    chunk = conn.recv(64)
                    if not chunk:
                        break
                    buf += chunk
                    while (i := buf.find(b"\x1bv")) != -1:
                        if not self.faults.silent:
                            conn.sendall(self.interp.asb_bytes())
                        buf = buf[i + 2:]
            except OSError:
                pass
            finally:
                conn.close()

    def _serve_discovery(self, sock: socket.socket) -> None:
        # packets are decoded here from the reference's offsets, not with escpos809.escpos.vendor,
        # so the virtual printer stays an independent check of the driver (design.md)
        sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                packet, peer = sock.recvfrom(1024)
            except (socket.timeout, OSError):
                continue
            if packet.startswith(FIND):
                sock.sendto(self.found_packet(), peer)
            elif packet.startswith(SAVE) and len(packet) >= 33:
                mac = ":".join(f"{b:02X}" for b in packet[10:16])
                if mac != self.network.mac.upper():
                    continue
                ip4 = lambda off: str(ipaddress.IPv4Address(packet[off:off + 4]))  # noqa: E731
                with self._lock:
                    self.interp._set_network("xp-udp", ip4(18), ip4(22), ip4(26), bool(packet[32]))
                self._schedule_rebind()

    def found_packet(self) -> bytes:
        """This printer's ``XP0001FOUND`` reply (offsets per the reference, §12)."""
        n = self.network
        mac = bytes(int(p, 16) for p in n.mac.split(":"))
        ip = lambda a: ipaddress.IPv4Address(a).packed  # noqa: E731
        return FOUND + mac + b"\x00\x00" + ip(n.ip) + ip(n.mask) + ip(n.gateway) + b"\x00\x00" + bytes([n.dhcp])

    def _serve_serial(self, master: int) -> None:
        job = None
        last = 0.0
        while not self._stop.is_set():
            if job and not self._can_read():
                time.sleep(0.02)
                continue
            try:
                ready, _, _ = select.select([master], [], [], 0.05)
            except (OSError, ValueError):
                break
            if ready:
                try:
                    data = os.read(master, 4096)
                except OSError:
                    data = b""
                if data:
                    if job is None:
                        job = self._begin(f"serial {self.serial_path}", master)
                    self._take(job, data)
                    last = time.monotonic()
                    continue
            if job and time.monotonic() - last > self.idle_s:
                self._end(job)
                job = None
        if job:
            self._end(job)

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
        time.sleep(self.reboot_s)  # the firmware resets after a new address
        old = self._listener
        try:
            self._listener = self._listen(target, self.port)
        except OSError as exc:
            log.warning("cannot rebind to %s:%d: %s", target, self.port, exc)
            return
        old.close()
        log.info("virtual printer now listens on %s:%d", target, self.port)
