"""``escpos809 cups``: the CUPS backend, filter and PPD, and queues."""

from __future__ import annotations

import functools

import click

from .common import CliError, printer_option


@click.group()
def cups() -> None:
    """Set up CUPS queues for the printer (backend, raster filter, PPD)."""


def _cups_dirs(func):
    @click.option("--server-bin", metavar="DIR", help="CUPS ServerBin (default: cups-config --serverbin).")
    @click.option("--server-root", metavar="DIR", help="CUPS ServerRoot (default: cups-config --serverroot).")
    @click.option(
        "--lib-dir",
        metavar="DIR",
        help="Where a copy of the package goes when lp cannot read this one (default /usr/local/lib/escpos809).",
    )
    @functools.wraps(func)
    def wrapper(server_bin, server_root, lib_dir, **kw):
        from ..cups.install import layout

        return func(layout(server_bin, server_root, lib_dir), **kw)

    return wrapper


@cups.command("install")
@_cups_dirs
@click.option("--queue", "-q", metavar="NAME", help="Also add this queue (needs --printer).")
@printer_option(
    "The printer the queue sends to.",
    forms="tcp://host:9100, usb://VID:PID, serial:///dev/ttyUSB0, lp:///dev/usb/lp0 (not virtual:// or memory://: "
    "they print nowhere a person sees it)",
)
@click.option("--raw", is_flag=True, help="A raw queue (ESC/POS only, no PPD or filter).")
@click.option("--location", metavar="TEXT", help="Queue location shown by CUPS.")
def cups_install(lay, queue, printer_uri, raw, location) -> None:
    """Install the backend and filter; with --queue, add a queue for --printer."""
    from ..cups import install

    if queue and not printer_uri:
        raise CliError("--queue needs --printer URI (e.g. tcp://192.168.1.50:9100)", 2)
    if printer_uri:
        install.check_printer_uri(printer_uri)  # refuse before anything is installed
    install.install_files(lay, log=lambda line: click.echo(line, err=True))
    if queue:
        device = install.add_queue(queue, printer_uri, raw=raw, location=location)
        click.echo(f"queue {queue} -> {device}{' (raw)' if raw else ''}")


@cups.command("uninstall")
@_cups_dirs
@click.option(
    "--queue",
    "-q",
    "queues",
    metavar="NAME",
    multiple=True,
    help="Remove only this queue (default: every escpos809 queue, then the files).",
)
def cups_uninstall(lay, queues) -> None:
    """Remove escpos809 queues, and (without --queue) the backend and filter."""
    from ..cups import install

    for q in queues or install.escpos809_queues():
        install.remove_queue(q)
        click.echo(f"removed queue {q}")
    if not queues:
        for path in install.uninstall_files(lay):
            click.echo(f"removed {path}")


@cups.command("ppd")
def cups_ppd() -> None:
    """Print the OCPP-809 PPD (the same file as packaging/cups/ocpp809.ppd)."""
    from ..cups.ppd import generate

    click.echo(generate(), nl=False)
