"""The automatic part of the probe: what can be asked without paper.

Each request is sent alone, after a drain (a late reply to the previous one must not pose as
this one's), and waits at most ``timeout``: silence is a finding, never "OK".
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..errors import PrinterNotFound, PrinterTimeout
from ..escpos import commands, vendor
from ..escpos.status import is_status_byte
from ..transport import Transport

NO_OP = commands.line_spacing()  # ESC 2: changes nothing on paper (default line spacing)
BUFFER_TEST_BYTES = 32 * 1024
#: how long stale bytes (a late reply, a status push) are read before a request: a peer still
#: sending when it is over sends while nobody asks (a flood), which is no printer's reply
STALE_S = 0.5


class NotAPrinter(PrinterNotFound):
    """The peer answers, but not as an ESC/POS printer does (no printer found there)."""


@dataclass
class Findings:
    """What the printer answered (None: no reply within the timeout)."""

    uri: str
    dle_eot: dict[int, int | None] = field(default_factory=dict)
    gs_r: int | None = None
    esc_v: bytes | None = None
    ids: dict[str, int | str] = field(default_factory=dict)
    buffer: dict[str, float | bool] = field(default_factory=dict)
    status_port: bytes | None = None
    network: list[vendor.NetSettings] = field(default_factory=list)

    @property
    def silent(self) -> bool:
        """Nothing at all came back."""
        return all(v is None for v in self.dle_eot.values()) and self.gs_r is None and self.esc_v is None

    def lines(self) -> list[str]:
        """The findings for a person, one per line."""

        def hexes(b: bytes | None) -> str:
            return b.hex(" ") if b else "no reply"

        out = ["DLE EOT {}: {}".format(n, "no reply" if r is None else f"0x{r:02x}") for n, r in self.dle_eot.items()]
        out.append(
            "GS r 1: "
            + (f"0x{self.gs_r:02x} (jobs can be confirmed)" if self.gs_r is not None else "no reply (jobs: delivered)")
        )
        out.append(f"ESC v on the print port: {hexes(self.esc_v)}")
        out.append("GS I: " + (", ".join(f"{k} {_show(v)}" for k, v in self.ids.items()) or "no reply"))
        if self.buffer:
            b = self.buffer
            out.append(
                f"receive buffer: {int(b['bytes'])} bytes of ESC 2 taken in {b['seconds']:.2f} s; "
                f"DLE EOT answered right after: {'yes' if b['realtime'] else 'no'}"
            )
        if self.status_port is not None or self.network:
            out.append(f"status port (ESC v): {hexes(self.status_port)}")
        for st in self.network:
            dhcp = "on" if st.dhcp else "off"
            out.append(f"network (XP0001FIND): MAC {st.mac}, IP {st.ip}/{st.mask}, gateway {st.gateway}, DHCP {dhcp}")
        return out


def _show(v: int | str) -> str:
    return f"0x{v:02x}" if isinstance(v, int) else repr(v)


def _read_exact(t: Transport, n: int, timeout: float) -> bytes:
    got, end = b"", time.monotonic() + timeout
    while len(got) < n and (left := end - time.monotonic()) > 0:
        got += t.read(n - len(got), left)
    return got


def _read_text(t: Transport, timeout: float, limit: int = 80) -> bytes | None:
    """A ``5F``-headed NUL-terminated ``GS I`` string, without header and NUL."""
    got, end = b"", time.monotonic() + timeout
    while not got.endswith(b"\x00") and len(got) < limit and (left := end - time.monotonic()) > 0:
        got += t.read(1, left)
    if not got.startswith(b"\x5f") or not got.endswith(b"\x00"):
        return None
    return got[1:-1]


def _request(t: Transport, data: bytes) -> None:
    start = time.monotonic()
    stale = t.drain(quiet=0.05, limit=STALE_S)
    if stale and time.monotonic() - start >= STALE_S:  # still sending when the time was up
        raise NotAPrinter(f"{t.uri}: sends bytes nobody asked for ({len(stale)} in {STALE_S:g} s): not a printer")
    t.write(data)


def ask(t: Transport, timeout: float = 1.0, buffer_test: bool = True) -> Findings:
    """Ask the status forms, ``GS r``, ``ESC v`` and ``GS I``, and time the receive buffer.
    Raises :class:`PrinterTimeout` when nothing at all answers."""
    f = Findings(t.uri)
    t.open()
    t.write(commands.automatic_status_back())  # GS a 0: no unsolicited pushes among the replies
    for n in (1, 2, 3, 4):
        _request(t, commands.status_request(n))
        r = t.read(1, timeout)
        f.dle_eot[n] = r[0] if r else None
    _request(t, commands.transmit_status(1))
    r = t.read(1, timeout)
    f.gs_r = r[0] if r else None
    _request(t, vendor.status_port_request())
    f.esc_v = _read_exact(t, 4, timeout) or None
    if bad := {n: r for n, r in f.dle_eot.items() if r is not None and not is_status_byte(r)}:
        shown = ", ".join(f"{n}: 0x{r:02x}" for n, r in bad.items())
        raise NotAPrinter(
            f"{t.uri}: replies to DLE EOT without a status byte's fixed bits ({shown}): not an ESC/POS printer"
        )
    if f.silent:
        raise PrinterTimeout(
            f"{t.uri}: no reply to DLE EOT 1-4, GS r 1 or ESC v within {timeout:g} s each "
            "(printer off, a one-way port, or not a printer)"
        )
    for n, name in commands.PRINTER_ID_BYTE.items():
        if n > 3:
            continue
        _request(t, commands.printer_id(n))
        r = t.read(1, timeout)
        if not r:
            break  # a firmware without GS I: do not wait for every form
        f.ids[name] = r[0]
    if f.ids:
        for n, name in commands.PRINTER_ID_TEXT.items():
            _request(t, commands.printer_id(n))
            text = _read_text(t, timeout)
            if text is not None:
                f.ids[name] = text.decode("ascii", "replace")
    if buffer_test:
        t.drain(quiet=0.05, limit=0.5)
        start = time.monotonic()
        t.write(NO_OP * (BUFFER_TEST_BYTES // len(NO_OP)))
        seconds = time.monotonic() - start
        t.write(commands.status_request(1))
        f.buffer = {"bytes": BUFFER_TEST_BYTES, "seconds": seconds, "realtime": bool(t.read(1, timeout))}
    return f


def status_port(host: str, port: int, timeout: float = 1.0) -> bytes | None:
    """``ESC v`` on the status port (TCP 4000 by default): the 4 status bytes, None if closed
    or silent."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(vendor.status_port_request())
            got, end = b"", time.monotonic() + timeout
            while len(got) < 4 and (left := end - time.monotonic()) > 0:
                s.settimeout(left)
                chunk = s.recv(4 - len(got))
                if not chunk:
                    break
                got += chunk
            return got or None
    except OSError:
        return None


def tcp_host(uri: str) -> str | None:
    """The host of a ``tcp://`` URI (discovery and the status port only make sense there)."""
    parts = urlsplit(uri)
    return parts.hostname if parts.scheme == "tcp" else None
