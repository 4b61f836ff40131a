"""The ``escpos809`` CUPS backend: device URI ``escpos809:<printer URI>``.

backend(7): run with no arguments it lists printers it can find; as a job,
``escpos809 job user title copies options [file]`` with the device URI in ``DEVICE_URI``.
It asks the printer's status before sending (paper out or cover open: ``STATE:`` reasons and
a retry exit, so cupsd keeps the job), reports the paper as a marker, sends with timeouts,
makes the copies itself only when given a file, and exits with the CUPS status each error
class carries (:class:`escpos809.errors.CupsStatus`).
It is installed mode 0755, so cupsd runs it as ``lp``.
"""

from __future__ import annotations

import os
import sys
import time

from ..errors import CUPS_STATUSES, Escpos809Error, InvalidURI

# cupsd starts the backend once per job: a job loads what it sends with (the printer, its
# link, the status) and typing not at all (tests/cups/test_startup.py keeps the list)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import BinaryIO

    from ..escpos.status import PrinterStatus
    from ..printer import Printer

    Log = Callable[[str], None]

SCHEME = "escpos809"
MAKE_MODEL = "OCOM OCPP-809"

# cups/backend.h; each error class carries the one its failure exits with
OK, FAILED, AUTH_REQUIRED, HOLD, STOP, CANCEL, RETRY, RETRY_CURRENT = CUPS_STATUSES
#: what cupsd does next, said after the error so the person reading it knows
_AFTERWARDS = {HOLD: "; the job is held", RETRY: "; the job is retried"}
#: said of a retry only when some of the job had gone out (not for a printer never reached)
_MAY_REPEAT = " (unconfirmed: it may print again)"

#: printer problem → the IPP printer-state-reason cupsd shows (``lpstat -l -p``)
REASONS = {
    "paper out": "media-empty-error",
    "cover open": "cover-open-error",
    "cutter error": "cutter-error",
    "mechanical error": "other-error",
    "unrecoverable error": "other-error",
    "auto-recoverable error": "other-error",
    "offline": "offline-report",
}
ALL_REASONS = sorted({*REASONS.values(), "media-low-report", "connecting-to-device"})
#: default seconds a printer may stop taking data (paper running out mid-job) before the
#: job is handed back to cupsd for a retry; ``?timeout=`` in the URI overrides it
JOB_WRITE_TIMEOUT = 120.0
STATUS_TIMEOUT = 2.0
#: how long a job waits, connected and polling, for paper or a closed cover before it goes
#: back to cupsd (held, retried after JobRetryInterval); ``ESCPOS809_BACKEND_WAIT`` changes it
READY_WAIT = 300.0
POLL_S = 1.0
READ_CHUNK = 1 << 16


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def discover(log: Log = _stderr, timeout: float = 1.5) -> list[str]:
    """Device lines (``class uri "make-model" "info" "device-id" "location"``): the
    profile's known USB printers, OCPP-809-family printers answering UDP discovery, and
    the bare scheme so a URI can be typed in."""
    from ..profile import load_profile
    from .ppd import DEVICE_ID

    lines = [f'network {SCHEME} "Unknown" "{MAKE_MODEL} (escpos809: tcp, serial, usb, lp)"']
    profile = load_profile()
    try:
        from ..transport.usb import list_devices

        for d in list_devices():
            known = profile.usb_id(d.vid, d.pid)
            if known is None:
                continue
            info = " ".join(x for x in (d.manufacturer, d.product) if x) or known.name or "USB"
            lines.append(f'direct {SCHEME}:{d.uri} "{MAKE_MODEL}" "{info} USB (escpos809)" "{DEVICE_ID}" ""')
    except Exception as exc:  # no pyusb or libusb here: USB just is not listed
        log(f"DEBUG: USB discovery skipped: {exc}")
    target = os.environ.get("ESCPOS809_DISCOVERY", "255.255.255.255:9000")
    host, _, port = target.rpartition(":")
    try:
        from ..netconfig import discover as udp_discover

        for st in udp_discover(host or target, int(port or 9000), timeout=timeout):
            lines.append(
                f'network {SCHEME}:tcp://{st.ip}:9100 "{MAKE_MODEL}" '
                f'"{MAKE_MODEL} at {st.ip} (escpos809)" "{DEVICE_ID}" ""'
            )
    except (OSError, ValueError, Escpos809Error) as exc:
        log(f"DEBUG: network discovery skipped: {exc}")
    return lines


def _printer_uri(device_uri: str) -> str:
    """The printer URI inside ``escpos809:<printer URI>``, if a CUPS queue may print to it
    (see :mod:`escpos809.cups.device_uri`): InvalidURI, and the queue stops, otherwise."""
    from .device_uri import check_printer_uri

    prefix = f"{SCHEME}:"
    if not device_uri.startswith(prefix) or len(device_uri) == len(prefix):
        raise InvalidURI(
            f"device URI {device_uri!r} is not {SCHEME}:<printer URI> (e.g. {SCHEME}:tcp://192.168.1.50:9100)"
        )
    return check_printer_uri(device_uri[len(prefix) :])


def _open_printer(uri: str) -> Printer:
    from ..printer import Printer
    from ..transport import open_transport

    # options in the URI's query (``?timeout=``) win over these defaults
    return Printer(open_transport(uri, write_timeout=JOB_WRITE_TIMEOUT, connect_timeout=10.0))


def _report_status(printer: Printer, log: Log, said: list[str]) -> list[str]:
    """Ask the printer; tell cupsd what changed since ``said``; return its problems."""
    st = printer.status(timeout=STATUS_TIMEOUT, strict=True)
    if not st.known:
        log(f"WARNING: cannot read the printer's status ({st.reason}); sending anyway")
        return []
    return _reported(st, log, said)


def _reported(st: PrinterStatus | None, log: Log, said: list[str]) -> list[str]:
    """Tell cupsd what changed since ``said`` (``st`` None: all clear); return the problems."""
    problems = st.problems() if st else []
    wanted = {REASONS[p] for p in problems if p in REASONS}
    if st and st.warnings():
        wanted.add("media-low-report")
    level = 100 if st is None else 0 if (st.paper_end or st.paper_end_stop) else 10 if st.paper_near_end else 100
    # one sign per STATE: line (cupsd applies the first character to the whole list)
    lines = ["STATE: -" + " ".join(r for r in ALL_REASONS if r not in wanted)]
    if wanted:
        lines.append("STATE: +" + " ".join(sorted(wanted)))
    lines += [
        f"ATTR: marker-names=Paper marker-types=paper marker-colors=none marker-levels={level} "
        "marker-low-levels=10 marker-high-levels=100"
    ]
    if problems:
        lines.append(f"INFO: printer not ready: {', '.join(problems)}; waiting")
    if lines != said:
        for line in lines:
            log(line)
        said[:] = lines
    return problems


def _wait_ready(printer: Printer, log: Log, wait: float) -> list[str]:
    """Poll until the printer can print or ``wait`` seconds pass; returns what is left."""
    said: list[str] = []
    deadline = time.monotonic() + wait
    while (problems := _report_status(printer, log, said)) and time.monotonic() < deadline:
        time.sleep(POLL_S)
    return problems


def _confirm(printer: Printer, size: int, line_feeds: int, log: Log) -> bool:
    """After the job: ``GS r 1``, and wait until the printer confirms it printed the last byte.
    A printer that stops (paper out, cover open) holds the job: the wait goes on, the reason
    shown in ``lpstat -l -p``, until it prints or the job is cancelled. False: the printer or
    link cannot confirm (the job was delivered; a WARNING says why)."""
    said: list[str] = []

    def report(st: PrinterStatus) -> bool:
        if st.known and (said or not st.ready):  # quiet while it just prints
            _reported(st, log, said)
        return True

    if not printer.confirm_sent(printer.confirm_budget(size=size, line_feeds=line_feeds), on_status=report):
        log(f"WARNING: not confirmed: {printer.unconfirmed_reason}")
        return False
    if said:
        _reported(None, log, said)  # clear the reasons shown while it waited
    return True


def _send(printer: Printer, source: BinaryIO) -> tuple[int, int]:
    """Send ``source`` in chunks; returns (bytes, line feeds) sent, for the confirmation budget."""
    sent = line_feeds = 0
    while chunk := source.read(READ_CHUNK):
        printer.send(chunk)
        sent, line_feeds = sent + len(chunk), line_feeds + chunk.count(b"\n")
    return sent, line_feeds


def _failed(exc: Escpos809Error, log: Log, sending: bool = False) -> int:
    """Say why the job did not print (``sending``: after its first byte may have gone out);
    the error's class says how the backend exits."""
    status = exc.cups_status
    if status == RETRY:
        log("STATE: +offline-report")
    log(f"ERROR: {exc}{_AFTERWARDS.get(status, '')}{_MAY_REPEAT if sending and status == RETRY else ''}")
    return int(status)


def run_job(
    device_uri: str, copies: int, path: str | None, stdin: BinaryIO, log: Log = _stderr, wait: float = READY_WAIT
) -> int:
    """Send one job; returns the CUPS backend exit code."""
    try:
        printer = _open_printer(_printer_uri(device_uri))
    except Escpos809Error as exc:
        return _failed(exc, log)
    log(f"DEBUG: escpos809 backend pid {os.getpid()} uid {os.getuid()} printer {printer.uri}")
    sending = False
    try:
        log("STATE: +connecting-to-device")
        printer.open()
        problems = _wait_ready(printer, log, wait)
        if problems:
            log(f"ERROR: printer not ready after {wait:g} s: {', '.join(problems)}; the job is held and retried")
            return RETRY
        sent = line_feeds = 0
        sending = True
        for copy in range(copies if path else 1):
            if path:
                with open(path, "rb") as source:
                    more, feeds = _send(printer, source)
            else:
                more, feeds = _send(printer, stdin)
            sent, line_feeds = sent + more, line_feeds + feeds
            if path:
                log(f"PAGE: {copy + 1} 1")
        log("STATE: -connecting-to-device")
        confirmed = _confirm(printer, sent, line_feeds, log)
        printer.close()
        log(
            f"INFO: {'printed' if confirmed else 'sent'} {sent} bytes to {printer.uri}"
            f"{'' if confirmed else ' (this printer or link cannot confirm printing)'}"
        )
        return OK
    except Escpos809Error as exc:
        return _failed(exc, log, sending)
    except OSError as exc:
        log(f"ERROR: cannot read the job file: {exc.strerror or exc}")
        return FAILED
    finally:
        try:
            printer.close()
        except Escpos809Error:
            pass


def main(argv: list[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    argv = sys.argv if argv is None else argv
    env = os.environ if env is None else env
    if len(argv) == 1:
        for line in discover():
            print(line, flush=True)
        return OK
    if len(argv) not in (6, 7):
        _stderr(f"Usage: {SCHEME} job-id user title copies options [file]")
        return FAILED
    try:
        copies = max(1, int(argv[4]))
    except ValueError:
        _stderr(f"ERROR: copies {argv[4]!r} is not a number")
        return FAILED
    try:
        wait = float(env.get("ESCPOS809_BACKEND_WAIT", READY_WAIT))
    except ValueError:
        wait = READY_WAIT
    device_uri = env.get("DEVICE_URI") or argv[0]
    return run_job(device_uri, copies, argv[6] if len(argv) == 7 else None, sys.stdin.buffer, wait=wait)


if __name__ == "__main__":
    sys.exit(main())
