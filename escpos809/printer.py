"""``Printer`` = profile + transport: send bytes, ask status, and the everyday commands."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import PrinterOffline, PrinterTimeout
from .escpos import codes, commands, vendor
from .escpos.codepages import TextEncoder
from .escpos.status import PrinterStatus, decode, unknown
from .profile import Profile, load_profile
from .transport import Transport, open_transport

if TYPE_CHECKING:
    from PIL import Image

log = logging.getLogger(__name__)


class Printer:
    """One printer, addressed by URI (or an existing transport).

    >>> with Printer("tcp://192.168.1.50") as p:        # doctest: +SKIP
    ...     p.text("Hello €\\n"); p.cut()
    """

    def __init__(self, target: str | Transport, profile: Profile | str | Path | None = None, **transport_kw):
        self.profile = profile if isinstance(profile, Profile) else load_profile(profile)
        if isinstance(target, Transport):
            self.transport = target
        else:
            defaults = {k: v for k, v in self.profile.transport.items()
                        if k in ("write_timeout_s", "read_timeout_s", "chunk_bytes")}
            kw = {"chunk_bytes": defaults.get("chunk_bytes", 4096)}
            if "write_timeout_s" in defaults:
                kw["write_timeout"] = defaults["write_timeout_s"]
            if "read_timeout_s" in defaults:
                kw["read_timeout"] = defaults["read_timeout_s"]
            self.transport = open_transport(target, **{**kw, **transport_kw})
        self._encoder = TextEncoder(self.profile)
        self._codepage: int | None = None

    # --- connection ---------------------------------------------------------------------------
    def open(self) -> "Printer":
        self.transport.open()
        return self

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> "Printer":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def uri(self) -> str:
        return self.transport.uri

    def send(self, data: bytes) -> None:
        """Write raw bytes (chunked, with the transport's write timeout)."""
        if b"\x1b@" in data or b"\x1bt" in data:
            # ESC @ returns to the power-on page, ESC t picks one we did not track: either way,
            # the next text selects its page again (a false match only costs 3 bytes)
            self._codepage = None
        self.transport.write(data)

    # --- status ---------------------------------------------------------------------------------
    def status(self, timeout: float | None = None, drain: bool = True,
               strict: bool = False) -> PrinterStatus:
        """Ask ``DLE EOT 1..4`` after draining stale input. Any silence gives ``known=False``
        with the reason; this never reports "OK" without the printer saying so.

        ``drain=False`` skips the drain (and its quiet wait) when nothing sent since the last
        status can have made replies (a printer may push bytes on connect, so a new link drains). ``strict`` raises
        the transport's error (a lost connection) instead of answering "unknown": right after a
        job, that is the difference between "still printing" and "maybe not all delivered"."""
        t = self.transport
        if not t.can_read:
            return unknown(f"{t.uri} cannot read replies (write-only device)")
        timeout = t.read_timeout if timeout is None else timeout
        replies: dict[int, int] = {}
        try:
            t.open()
            # automatic status back off, so unsolicited 4-byte pushes cannot pose as replies
            t.write(commands.automatic_status_back())
            if drain:
                t.drain()
            for n in (1, 2, 3, 4):
                t.write(commands.status_request(n))
                reply = t.read(1, timeout)
                if not reply:
                    return unknown(f"no reply to DLE EOT {n} within {timeout:g} s", replies)
                replies[n] = reply[0]
        except (PrinterOffline, PrinterTimeout) as exc:
            if strict:
                raise
            return unknown(str(exc), replies)
        return decode(replies)

    def ensure_ready(self, timeout: float | None = None) -> PrinterStatus:
        """Raise :class:`PrinterOffline` when the printer *says* it cannot print (paper out,
        cover open, error). An unknown status is returned, not raised: many links cannot read."""
        st = self.status(timeout)
        if st.known and not st.ready:
            raise PrinterOffline(f"{self.uri}: not ready: {', '.join(st.problems())}")
        return st

    # --- everyday commands ----------------------------------------------------------------------
    def initialize(self) -> None:
        self.send(commands.initialize(self.profile.commands.get("chinese_mode_at_power_on", True)))

    def text(self, text: str) -> list[str]:
        """Print text with automatic code pages; returns characters replaced by ``?``."""
        enc = self._encoder.encode(text, self._codepage)
        self.transport.write(enc.data)
        self._codepage = enc.codepage
        if enc.replaced:
            log.warning("%s: no code page carries %r; printed as '?'", self.uri, "".join(enc.replaced))
        return enc.replaced

    def cut(self, mode: str = "partial", feed: int | None = None) -> None:
        self.send(commands.cut(mode, feed))

    def beep(self, times: int = 1, duration: int = 1) -> None:
        self.send(vendor.beep(times, duration))

    def alarm(self, times: int = 1, interval: int = 5, mode: str = "both") -> None:
        self.send(vendor.alarm(times, interval, mode))

    def drawer(self, pin: int = 2, on_ms: int = 100, off_ms: int = 100) -> None:
        self.send(commands.drawer_kick(pin, on_ms, off_ms))

    def print_document(self, doc) -> list[str]:
        """Print a receipt document (:mod:`escpos809.document`); returns characters printed as '?'."""
        from .receipt import render

        rendered = render(doc, self.profile)
        self.send(rendered.data)
        return rendered.replaced

    def _placed(self, data: bytes, center: bool) -> None:
        """Send a code or image, centred with ``ESC a 1`` (never by padding) when asked."""
        self.send(commands.align("center") + data + commands.align("left") if center else data)

    def qr(self, data: str | bytes, size: int = 6, ec: str = "M", center: bool = True) -> None:
        """Native QR code (``GS ( k``, the profile's form)."""
        self._placed(codes.qr_code(data, size, ec, form=self.profile.qr_form) + commands.LF, center)

    def barcode(self, kind: str, data: str, center: bool = True, **kw) -> None:
        """1-D barcode (``GS k``); keywords as :func:`escpos809.escpos.codes.barcode`."""
        self._placed(codes.barcode(kind, data, **kw) + commands.LF, center)

    def image(self, image: "Image.Image", center: bool = True, **kw) -> None:
        """Raster image in ``GS v 0`` bands of the profile's height."""
        from .raster import image_to_escpos

        self._placed(image_to_escpos(image, self.profile.width_dots, self.profile.band_rows, **kw), center)
