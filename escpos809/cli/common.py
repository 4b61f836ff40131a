"""What every command shares: failures as one stderr line with an exit code, and the configuration."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from ..errors import Escpos809Error, InvalidData


class CliError(click.ClickException):
    """A failure shown as one line on stderr with its own exit code."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        # click declares exit_code a class variable; each failure here carries its own code
        self.exit_code = exit_code  # type: ignore[misc]

    def show(self, file=None) -> None:
        click.echo(f"escpos809: {self.format_message()}", err=True)


class Group(click.Group):
    def main(self, args=None, prog_name=None, **extra):
        """Run with every failure as one stderr line (click's usage errors included)."""
        extra["standalone_mode"] = False
        try:
            rv = super().main(args, prog_name or "escpos809", **extra)
        except click.UsageError as exc:
            where = f"{exc.ctx.command_path} --help" if exc.ctx else "escpos809 --help"
            click.echo(f"escpos809: {exc.format_message()} (see {where})", err=True)
            sys.exit(2)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("escpos809: aborted", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except Escpos809Error as exc:  # each error knows its exit code
            raise CliError(str(exc), exc.exit_code) from None
        except ValueError as exc:  # a builder's range check: invalid data
            raise CliError(str(exc), InvalidData.exit_code) from None
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            raise CliError(f"{where}{exc.strerror or exc}", Escpos809Error.exit_code) from None


#: The printer URI forms every ``--printer`` help names (escpos809.transport.uri).
PRINTER_URI_FORMS = (
    "tcp://host:9100, usb://VID:PID, serial:///dev/ttyUSB0, lp:///dev/usb/lp0, "
    "virtual://NAME (the built-in virtual printer), memory://"
)


def printer_option(
    then: str,
    *,
    forms: str = PRINTER_URI_FORMS,
    multiple: bool = False,
    metavar: str = "URI",
    dest: str = "printer_uri",
) -> Callable:
    """The one ``--printer`` / ``-p`` option: its help lists the URI ``forms``, then says
    ``then`` (what the command does with it, or without it)."""
    return click.option(
        "--printer", "-p", dest, metavar=metavar, multiple=multiple, help=f"Printer URI: {forms}. {then}"
    )


def command_config():
    """The configuration, read once per command on first use and shared by its parts."""
    from ..config import load

    meta = click.get_current_context().meta  # one dict for the whole command line
    if "escpos809.config" not in meta:
        meta["escpos809.config"] = load()
    return meta["escpos809.config"]


def run_until_stopped() -> None:
    """Block until SIGTERM or Ctrl-C: the long-running commands (``ocpp tap``, ``everest``),
    which then close what they started."""
    import signal
    import threading

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
