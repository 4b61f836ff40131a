"""One small exception hierarchy; every message is something a user can act on.

Errors carry their codes: each class says what the three front ends answer when it reaches
them, and they look the codes up instead of mapping classes by hand:

- ``exit_code``: the command line's exit status (:data:`EXIT_CODES`, README "Exit codes");
- ``http_status`` and ``http_title``: the print service's ``application/problem+json`` answer,
  with ``errors`` (JSON path, message) pairs where the error has them;
- ``cups_status``: the CUPS backend's exit status (:class:`CupsStatus`).

Classes raised elsewhere in the package (OCPP, JSON, CUPS raster, the service) subclass
these where they are defined; ``tests/test_errors.py`` holds the whole table.
"""

from __future__ import annotations


class CupsStatus(int):
    """CUPS backend exit statuses (``cups/backend.h``), and what cupsd does with each.

    An ``int`` with a name rather than an ``enum.IntEnum``: the CUPS filter and backend start
    once per job and importing :mod:`enum` costs them several milliseconds."""

    OK: CupsStatus  # job done
    FAILED: CupsStatus  # the queue's error policy decides (install sets retry-job)
    AUTH_REQUIRED: CupsStatus
    HOLD: CupsStatus  # job held until a person releases it
    STOP: CupsStatus  # queue stopped with the message, job kept
    CANCEL: CupsStatus
    RETRY: CupsStatus  # job retried after JobRetryInterval
    RETRY_CURRENT: CupsStatus

    @property
    def name(self) -> str:
        return _CUPS_STATUS_NAMES[int(self)]

    def __repr__(self) -> str:
        return f"<CupsStatus.{self.name}: {int(self)}>"


_CUPS_STATUS_NAMES = ("OK", "FAILED", "AUTH_REQUIRED", "HOLD", "STOP", "CANCEL", "RETRY", "RETRY_CURRENT")
#: every status, in value order (0-7)
CUPS_STATUSES = tuple(CupsStatus(value) for value in range(len(_CUPS_STATUS_NAMES)))
for _status in CUPS_STATUSES:
    setattr(CupsStatus, _status.name, _status)
del _status


class Escpos809Error(Exception):
    """Base class of every error this package raises on purpose."""

    exit_code: int = 1
    http_status: int = 500
    http_title: str = "Internal error"
    cups_status: CupsStatus = CupsStatus.FAILED
    #: (JSON path, message) pairs shown in a problem body's ``errors``; None when there are none
    errors: list[tuple[str, str]] | None = None


class InvalidInput(Escpos809Error, ValueError):
    """Input that cannot be taken as it is (a request body, a log line, a job's content)."""

    exit_code = 7
    http_status = 422
    http_title = "Invalid input"


class InvalidURI(InvalidInput):
    """A printer URI that cannot be understood."""

    http_title = "Invalid printer URI"
    # retrying does not mend a queue's device URI: the queue stops with the reason
    cups_status = CupsStatus.STOP


class InvalidData(InvalidInput):
    """Data that a command cannot carry (bad barcode digits, oversized QR, …), or a field of
    outside input that is out of shape."""

    http_title = "Invalid data"
    # the backend sends a job's bytes unread: data it refuses is the queue's set-up, not the job
    cups_status = CupsStatus.STOP


class InvalidDocument(InvalidInput):
    """A receipt document that does not validate; ``errors`` lists (JSON path, message)."""

    http_title = "Invalid document"
    errors: list[tuple[str, str]]

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        first = "; ".join(f"{path or '(document)'}: {msg}" for path, msg in errors[:5])
        more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"invalid receipt: {first}{more}")


class ProfileError(Escpos809Error):
    """A model profile file that is missing or malformed."""

    exit_code = 7
    http_title = "Profile error"  # the service's own set-up: a 500
    cups_status = CupsStatus.STOP


class UnsupportedCommand(Escpos809Error):
    """The model profile says this printer does not take the command."""

    exit_code = 7
    http_status = 422
    http_title = "Unsupported command"


class PrinterNotFound(Escpos809Error):
    """No device at the address (no USB match, no such serial port, refused connection)."""

    exit_code = 3
    http_status = 503
    http_title = "Printer not found"
    cups_status = CupsStatus.RETRY


class PrinterOffline(Escpos809Error):
    """The printer is there but cannot print now (connection lost, paper out, cover open)."""

    exit_code = 4
    http_status = 503
    http_title = "Printer offline"
    cups_status = CupsStatus.RETRY


class PrinterTimeout(Escpos809Error):
    """The printer did not accept or answer within the timeout."""

    exit_code = 5
    http_status = 504
    http_title = "Printer timeout"
    cups_status = CupsStatus.RETRY


class JobNotConfirmed(PrinterOffline):
    """A job was sent, and the printer stopped while it was on its way (paper out, cover open):
    it is in the printer's buffer and prints once that is fixed, but it is not confirmed."""

    http_title = "Job not confirmed"


class JobUnconfirmed(PrinterTimeout):
    """The printer took a job and answers its real-time status, but never confirmed the job
    (``GS r 1``): whether it printed is unknown."""

    http_title = "Job not confirmed"
    # it may have printed: a retry could print it twice, so a person decides
    cups_status = CupsStatus.HOLD


class PrinterPermissionDenied(Escpos809Error):
    """The OS refused access to the device; the message carries the udev/group hint."""

    exit_code = 6
    http_status = 503
    http_title = "Printer permission denied"
    cups_status = CupsStatus.STOP


UDEV_HINT = (
    "install the udev rules (sudo cp udev/60-escpos809.rules /etc/udev/rules.d/ && "
    "sudo udevadm control --reload && sudo udevadm trigger) or add yourself to the 'lp' group"
)

#: Exit codes of the command line, documented in README.md.
EXIT_CODES = {
    0: "success",
    1: "other error",
    2: "usage error (bad option or argument)",
    3: "printer not found",
    4: "printer offline or not ready (paper out, cover open, connection lost)",
    5: "printer timeout (no answer)",
    6: "permission denied on the device",
    7: "invalid input (URI, data, profile)",
}
