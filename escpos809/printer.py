"""``Printer`` = profile + transport: send bytes, ask status, and the everyday commands."""

from __future__ import annotations

import time
from collections import deque

from .errors import JobNotConfirmed, JobUnconfirmed, PrinterOffline, PrinterTimeout
from .escpos import commands
from .escpos.status import PrinterStatus, decode, is_confirmation_byte, unknown
from .profile import Profile, load_profile
from .transport import Transport, open_transport

# the CUPS backend, a new process per job, sends, asks the status and waits for the
# confirmation: what only text, codes and images need (code pages, codes, logging) is imported
# when they are first used, and typing not at all (tests/cups/test_startup.py keeps the list)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from logging import Logger
    from pathlib import Path

    from PIL import Image

    from .escpos.codepages import TextEncoder


def _log() -> Logger:
    import logging

    return logging.getLogger(__name__)


#: seconds a printer seen taking a long job's bytes may then take nothing and answer nothing
#: (a status question behind its TCP window and buffer) before it counts as stopped
STALL_S = 15.0


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
            defaults = {
                k: v
                for k, v in self.profile.transport.items()
                if k in ("write_timeout_s", "read_timeout_s", "chunk_bytes")
            }
            kw = {"chunk_bytes": defaults.get("chunk_bytes", 4096)}
            if "write_timeout_s" in defaults:
                kw["write_timeout"] = defaults["write_timeout_s"]
            if "read_timeout_s" in defaults:
                kw["read_timeout"] = defaults["read_timeout_s"]
            self.transport = open_transport(target, **{**kw, **transport_kw})
        self._text_encoder: TextEncoder | None = None  # made by the first text()
        self._codepage: int | None = None
        #: GS r requests sent on this connection and not answered yet, and answers not taken yet
        self._awaiting = 0
        self._answers: deque[int] = deque()
        self._heard = False  # the printer has said something on this connection
        #: why the last :meth:`print_job` / :meth:`confirm_sent` could not be confirmed (None: it was)
        self.unconfirmed_reason: str | None = None

    # --- connection ---------------------------------------------------------------------------
    def open(self) -> Printer:
        self.transport.open()
        return self

    def close(self) -> None:
        # confirmations still owed die with the connection: those jobs stay unconfirmed
        self._awaiting = 0
        self._answers.clear()
        self._heard = False
        self.transport.close()

    def __enter__(self) -> Printer:
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
    def status(self, timeout: float | None = None, drain: bool = True, strict: bool = False) -> PrinterStatus:
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
            if drain and not self._awaiting:  # a drain would swallow owed confirmations
                t.drain()
            for n in (1, 2, 3, 4):
                t.write(commands.status_request(n))
                reply = self._next_reply(timeout, confirmation=False)
                if reply is None:
                    return unknown(f"no reply to DLE EOT {n} within {timeout:g} s", replies)
                replies[n] = reply
        except (PrinterOffline, PrinterTimeout) as exc:
            if strict:
                raise
            return unknown(str(exc), replies)
        return decode(replies)

    # --- end-of-job confirmation ------------------------------------------------------------------
    @property
    def confirms(self) -> bool:
        """True when jobs can be confirmed: the link reads and the profile's model answers ``GS r``."""
        return self.transport.can_read and self.profile.commands.get("confirm", "gs-r") == "gs-r"

    @property
    def awaiting(self) -> int:
        """Jobs sent with :meth:`send_job` on this connection whose confirmation has not been taken."""
        return self._awaiting + len(self._answers)

    def send_job(self, data: bytes) -> None:
        """Send one job and, when the printer :attr:`confirms`, a ``GS r 1`` behind it: the
        printer answers that only once it has processed the job's last byte. Take the answers
        in order with :meth:`wait_confirmation`; the next job may be sent before that (the
        printer is kept fed while the previous confirmation is on its way). Known limit: raw
        bytes that carry a ``GS r`` of their own get an answer early; they are not searched for
        one, since ``1D 72`` also occurs inside image data."""
        self.send(data)
        if self.confirms:
            self._request_confirmation()

    def _request_confirmation(self) -> None:
        """``GS r 1`` behind what was sent; its answer is owed until taken."""
        self.transport.write(commands.transmit_status(1))
        self._awaiting += 1

    def wait_confirmation(self, timeout: float) -> int | None:
        """The oldest outstanding job's confirmation: the ``GS r 1`` reply byte (paper sensor:
        ``0x0C`` end, ``0x03`` near end), or None when it did not come within ``timeout``.
        A lost connection raises (the jobs not yet confirmed may not have been printed)."""
        if self._answers:
            return self._answers.popleft()
        if not self._awaiting:
            raise ValueError("no job is waiting for a confirmation")
        return self._next_reply(timeout, confirmation=True)

    def confirm(
        self,
        budget: float,
        *,
        wait_s: float = float("inf"),
        poll_s: float = 1.0,
        on_status: Callable[[PrinterStatus], bool] | None = None,
    ) -> int:
        """Wait for the oldest outstanding job's confirmation and return its reply byte, asking
        the real-time status every ``poll_s`` meanwhile. A printer that says it cannot print
        (paper out, cover open) holds the job: the wait goes on (the ``budget`` clock restarts
        when it recovers) up to ``wait_s`` in all, then :class:`JobNotConfirmed`. ``on_status``
        sees each status; returning False stops waiting the same way. A printer that stops
        answering raises :class:`PrinterTimeout`; one that answers but does not confirm within
        ``budget`` seconds of printing raises :class:`JobUnconfirmed`. Without a confirmation
        the job may or may not be on paper."""
        give_up = time.monotonic() + wait_s
        deadline = time.monotonic() + budget
        taking = _Taking(self.transport)
        while True:
            answer = self.wait_confirmation(max(0.05, min(poll_s, deadline - time.monotonic())))
            if answer is not None:
                return answer
            taking.look()
            st = self.status(strict=True)
            go_on = on_status(st) if on_status else True
            if not st.known:
                if taking.lately():
                    continue  # a long job: the question waits behind bytes the printer is taking
                raise PrinterTimeout(
                    f"{self.uri}: the printer stopped answering while a job was on its way "
                    f"({st.reason}); it may not have printed"
                )
            if not st.ready:
                deadline = time.monotonic() + budget
                if not go_on or time.monotonic() > give_up:
                    raise JobNotConfirmed(
                        f"{self.uri}: printer not ready: {', '.join(st.problems())}; the job waits "
                        "in the printer and prints when that is fixed (not confirmed)"
                    )
            elif time.monotonic() > deadline:
                raise JobUnconfirmed(
                    f"{self.uri}: the printer took the job but did not confirm it within {budget:.0f} s (it "
                    "answers DLE EOT, not GS r 1); it may or may not have printed. A model that cannot "
                    'confirm needs commands.confirm = "none" in its profile'
                )

    def confirm_budget(self, data: bytes = b"", *, size: int = 0, line_feeds: int = 0) -> float:
        """Seconds a printer may take to confirm a job (``data``, or one streamed elsewhere of
        ``size`` bytes with ``line_feeds`` LFs): the profile's base plus twice a generous
        estimate of its paper time (every LF a double-height line, every 8 bytes a raster row).
        A printer that takes a job but never confirms it is found out after this."""
        base = float(self.profile.transport.get("confirm_timeout_s", 10.0))
        dots_per_s = self.profile.speed_mm_s * self.profile.dpi / 25.4
        dots = (data.count(b"\n") + line_feeds) * 64 + (len(data) + size) / 8
        return base + 2 * dots / dots_per_s

    def _next_reply(self, timeout: float, confirmation: bool) -> int | None:
        """Read replies until one of the wanted kind arrives (``GS r`` answers when
        ``confirmation``, else ``DLE EOT`` answers). Answers of the other kind are kept
        (confirmations) or dropped (stale status); anything else is print garbage."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            got = self.transport.read(1, left)
            if not got:
                return None
            self._heard = True
            b = got[0]
            if self._awaiting and is_confirmation_byte(b):
                self._awaiting -= 1
                if confirmation:
                    return b
                self._answers.append(b)
            elif not confirmation:
                return b  # decode() judges it: a byte that is no status reply makes it unknown
            else:
                _log().debug("%s: dropped stray reply 0x%02X", self.uri, b)

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
        if self._text_encoder is None:
            from .escpos.codepages import TextEncoder

            self._text_encoder = TextEncoder(self.profile)
        enc = self._text_encoder.encode(text, self._codepage)
        self.transport.write(enc.data)
        self._codepage = enc.codepage
        if enc.replaced:
            _log().warning("%s: no code page carries %r; printed as '?'", self.uri, "".join(enc.replaced))
        return enc.replaced

    def cut(self, mode: str = "partial", feed: int | None = None) -> None:
        self.send(commands.cut(mode, feed))

    def beep(self, times: int = 1, duration: int = 1) -> None:
        from .escpos import vendor

        self.send(vendor.beep(times, duration))

    def alarm(self, times: int = 1, interval: int = 5, mode: str = "both") -> None:
        from .escpos import vendor

        self.send(vendor.alarm(times, interval, mode))

    def drawer(self, pin: int = 2, on_ms: int = 100, off_ms: int = 100) -> None:
        self.send(commands.drawer_kick(pin, on_ms, off_ms))

    def print_job(
        self, data: bytes, *, wait_s: float = float("inf"), on_status: Callable[[PrinterStatus], bool] | None = None
    ) -> bool:
        """Send one job and return once the printer confirms it printed (True), or at once when
        it cannot confirm (a write-only link, a model without ``GS r``: False, delivered only).
        Raises as :meth:`confirm` when the confirmation does not come."""
        self.send(data)
        return self.confirm_sent(self.confirm_budget(data), wait_s=wait_s, on_status=on_status)

    def confirm_sent(
        self, budget: float, *, wait_s: float = float("inf"), on_status: Callable[[PrinterStatus], bool] | None = None
    ) -> bool:
        """The job's bytes are sent: put ``GS r 1`` behind them and wait for its answer (True,
        see :meth:`confirm`). False, with :attr:`unconfirmed_reason`, when this printer cannot
        confirm: a link that cannot read, a model without ``GS r``, or a printer that answers
        nothing on this link (a one-way USB/parallel port) — the job is delivered, no more."""
        self.unconfirmed_reason = None
        if not self.transport.can_read:
            self.unconfirmed_reason = "the link cannot read replies"
        elif not self.confirms:
            self.unconfirmed_reason = 'the profile says this model cannot confirm (commands.confirm = "none")'
        elif not self._heard and not self.status(strict=True).known:  # a lost link raises
            self.unconfirmed_reason = "the printer answers nothing on this link (no reply to DLE EOT)"
        if self.unconfirmed_reason:
            return False
        self._request_confirmation()
        self.confirm(budget, wait_s=wait_s, on_status=on_status)
        return True

    def _hear_first(self) -> None:
        """Ask the status before a job on a connection the printer has not answered on yet:
        asked behind a long job, the question waits its turn in the printer's buffer, and a
        question left unanswered would make the job "delivered" only."""
        if self.transport.can_read and self.confirms and not self._heard:
            self.status()

    def print_document(self, doc, *, wait_s: float = float("inf")) -> list[str]:
        """Print a receipt document (:mod:`escpos809.document`) as one confirmed job
        (:meth:`print_job`); returns characters printed as '?'."""
        from .receipt import render_to

        # rendered whole before the first byte goes out (a block that cannot print is refused
        # with nothing printed), kept as the renderer's chunks and sent one by one: a document
        # of 20,000 lines is never one giant bytes object
        chunks: list[bytes] = []
        replaced = render_to(doc, chunks.append, self.profile)
        self._hear_first()
        size = line_feeds = 0
        for chunk in chunks:
            self.send(chunk)
            size, line_feeds = size + len(chunk), line_feeds + chunk.count(b"\n")
        self.confirm_sent(self.confirm_budget(size=size, line_feeds=line_feeds), wait_s=wait_s)
        return replaced

    def _placed(self, data: bytes, center: bool) -> None:
        """Send a code or image, centred with ``ESC a 1`` (never by padding) when asked."""
        self.send(commands.align("center") + data + commands.align("left") if center else data)

    def qr(self, data: str | bytes, size: int = 6, ec: str = "M", center: bool = True) -> None:
        """Native QR code (``GS ( k``, the profile's form); an image where the profile says the
        unit has none (``commands.qr = "image"``)."""
        if self.profile.qr_form == "image":
            from .document import QR
            from .layout import Layout
            from .raster import raster_bands

            text = data if isinstance(data, str) else data.decode("utf-8")
            r = Layout(self.profile).qr_image(QR(text, size, ec))
            self._placed(raster_bands(r.width_bytes, r.rows, r.data, self.profile.band_rows), center)
            return
        from .escpos import codes

        self._placed(codes.qr_code(data, size, ec, form=self.profile.qr_form) + commands.LF, center)

    def barcode(self, kind: str, data: str, center: bool = True, **kw) -> None:
        """1-D barcode (``GS k``); keywords as :func:`escpos809.escpos.codes.barcode`."""
        from .escpos import codes

        self._placed(codes.barcode(kind, data, **kw) + commands.LF, center)

    def image(self, image: Image.Image, center: bool = True, **kw) -> None:
        """Raster image in ``GS v 0`` bands of the profile's height."""
        from .raster import image_to_escpos

        self._placed(image_to_escpos(image, self.profile.width_dots, self.profile.band_rows, **kw), center)


class _Taking:
    """Whether the printer is still taking a job's bytes, from how many the link has not handed
    over (:meth:`Transport.unsent`). A status question asked behind a long job waits its turn:
    unanswered, it means a dead printer only once the printer has taken nothing for
    :data:`STALL_S` (after our last byte it may still have a TCP window and a buffer to take)."""

    def __init__(self, transport: Transport):
        self.transport = transport
        self.least: int | None = None  # the fewest bytes seen not yet taken
        self.at: float | None = None  # when the printer was last seen taking some

    def look(self) -> None:
        left = self.transport.unsent()
        if left is None:
            return
        if self.least is not None and left < self.least:
            self.at = time.monotonic()
        self.least = left if self.least is None else min(self.least, left)

    def lately(self) -> bool:
        self.look()
        return self.at is not None and time.monotonic() - self.at < STALL_S
