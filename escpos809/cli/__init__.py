"""The ``escpos809`` command line: parse, call the library, print, exit with a documented code.

Every failure is one line on stderr (``escpos809: …``) and an exit code from
:data:`escpos809.errors.EXIT_CODES`. The group is here; the commands live by area:
``printing`` (status, beep, cut, drawer, print, preview, demo), ``network`` (usb-list, setip,
discover), ``emulate``, ``serve``, ``cups`` and ``ocpp``; ``common`` holds what they share.
Each command imports the library it needs when it runs, so that ``escpos809 --help`` stays quick.
"""

from __future__ import annotations

import click

from ..errors import EXIT_CODES
from . import cups, emulate, network, ocpp, printing, serve
from . import everest as everest_cli
from . import probe as probe_cli
from .common import CliError, Group

__all__ = ["CliError", "Group", "cli", "main"]


def _show_version(ctx: click.Context, param, value: bool) -> None:
    """--version: from the package metadata (pyproject.toml), looked up only when asked."""
    if value and not ctx.resilient_parsing:
        from .. import __version__

        click.echo(f"escpos809, version {__version__}")
        ctx.exit()


@click.group(
    cls=Group,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Exit codes: " + "; ".join(f"{k} {v}" for k, v in EXIT_CODES.items()),
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_version,
    help="Show the version and exit.",
)
def cli() -> None:
    """Drive an OCOM OCPP-809 (ESC/POS) receipt printer."""
    # library warnings are reported by the commands themselves; show only errors as one line
    # (logging is imported here, not at the top: `escpos809 --help` does not need it)
    import logging

    logging.basicConfig(level=logging.ERROR, format="escpos809: %(message)s")


for _command in (
    printing.status,
    printing.beep,
    printing.cut,
    printing.drawer,
    printing.print_cmd,
    printing.preview,
    printing.demo,
    network.usb_list,
    network.setip,
    network.discover,
    emulate.emulate,
    serve.serve,
    cups.cups,
    ocpp.ocpp,
    everest_cli.everest,
    probe_cli.probe,
):
    cli.add_command(_command)


def main() -> None:
    cli(prog_name="escpos809")
