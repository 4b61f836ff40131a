"""One small exception hierarchy; every message is something a user can act on.

The CLI maps each class to an exit code (see ``EXIT_CODES`` and README.md).
"""

from __future__ import annotations


class Escpos809Error(Exception):
    """Base class of every error this package raises on purpose."""

    exit_code = 1


class InvalidURI(Escpos809Error, ValueError):
    """A printer URI that cannot be understood."""

    exit_code = 7


class InvalidData(Escpos809Error, ValueError):
    """Data that a command cannot carry (bad barcode digits, oversized QR, …)."""

    exit_code = 7


class InvalidDocument(Escpos809Error, ValueError):
    """A receipt document that does not validate; ``errors`` lists (JSON path, message)."""

    exit_code = 7

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        first = "; ".join(f"{path or '(document)'}: {msg}" for path, msg in errors[:5])
        more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"invalid receipt: {first}{more}")


class ProfileError(Escpos809Error):
    """A model profile file that is missing or malformed."""

    exit_code = 7


class UnsupportedCommand(Escpos809Error):
    """The model profile says this printer does not take the command."""

    exit_code = 7


class PrinterNotFound(Escpos809Error):
    """No device at the address (no USB match, no such serial port, refused connection)."""

    exit_code = 3


class PrinterOffline(Escpos809Error):
    """The printer is there but cannot print now (connection lost, paper out, cover open)."""

    exit_code = 4


class PrinterTimeout(Escpos809Error):
    """The printer did not accept or answer within the timeout."""

    exit_code = 5


class JobNotConfirmed(PrinterOffline):
    """A job was sent, and the printer stopped while it was on its way (paper out, cover open):
    it is in the printer's buffer and prints once that is fixed, but it is not confirmed."""


class JobUnconfirmed(PrinterTimeout):
    """The printer took a job and answers its real-time status, but never confirmed the job
    (``GS r 1``): whether it printed is unknown."""


class PrinterPermissionDenied(Escpos809Error):
    """The OS refused access to the device; the message carries the udev/group hint."""

    exit_code = 6


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
