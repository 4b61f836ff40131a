"""``escpos809 probe``: what an installer runs once on a real printer (see :mod:`escpos809.probe`)."""

from __future__ import annotations

import sys

import click

from .common import command_config, printer_option

_GROUPS = (
    ("chinese", "Does this line show the accents (not Chinese characters)?"),
    ("codepage", "Code pages: which of these lines show exactly the characters named on them?"),
    ("qr", "QR codes: which of these can a phone read, with the text named?"),
    ("barcode", "Barcodes: which of these can a scanner read, with the digits named?"),
    ("band", "Bands: which of these bars are whole (as tall as named, no gap, no garbage)?"),
    ("cut", "Cuts: which of these lines had the cut named right below them?"),
)


def _interactive() -> bool:
    """A person at a terminal can answer the sheet's questions."""
    return sys.stdin.isatty()


def _ask_person(lines) -> dict[int, bool]:
    """Ask group by group in the terminal: the numbers that printed right."""
    from ..probe.result import parse_selection

    answers: dict[int, bool] = {}
    for kind, question in _GROUPS:
        group = [ln for ln in lines if ln.kind == kind]
        if not group:
            continue
        click.echo(f"\n{question}")
        for ln in group:
            click.echo(f"  {ln.number:3d}  {ln.question}")
        while True:
            text = click.prompt("lines that printed right (e.g. 3,5-9), 'all' or 'none'", default="all")
            try:
                answers |= parse_selection(text, group)
                break
            except ValueError as exc:
                click.echo(f"  {exc}")
    return answers


@click.command()
@printer_option("The printer to probe (default: configuration).")
@click.option("--profile", metavar="NAME|FILE", help="Profile to start from (default ocpp-809).")
@click.option("--batch", is_flag=True, help="Only the automatic part: print nothing, ask nothing.")
@click.option("--no-sheet", is_flag=True, help="Do not print the sheet again: answers refer to the last one.")
@click.option(
    "--answer",
    "answer_specs",
    multiple=True,
    metavar="N=yes|no",
    help="A sheet line printed right or not: N=yes, N=no, N-M=yes, comma-separated; repeatable.",
)
@click.option(
    "--write-profile",
    "out",
    type=click.Path(dir_okay=False),
    help="Write the findings as a profile (replaces only a profile the probe wrote).",
)
@click.option("--timeout", type=click.FloatRange(min=0.1), default=1.0, show_default=True, help="Wait per request, s.")
@click.option("--discovery-port", type=click.IntRange(min=-1, max=65535), help="UDP discovery port (-1 off).")
@click.option("--status-port", type=click.IntRange(min=-1, max=65535), help="TCP status port (-1 off).")
def probe(printer_uri, profile, batch, no_sheet, answer_specs, out, timeout, discovery_port, status_port) -> None:
    """Find out what this printer does and write it down as a profile.

    Asks what needs no paper (DLE EOT 1-4, GS r 1, ESC v, GS I, the receive buffer; on
    tcp:// also the status port and UDP discovery), then prints a calibration sheet of numbered
    lines and asks which printed right (in a terminal, or give --answer N=yes|no). With
    --write-profile FILE the differences from the base profile are written there
    (extends = the base); use it with --profile FILE or `profile = "FILE"` in the configuration.
    Exit codes: 3 printer not found (or not a printer), 4 offline, 5 no reply at all, 2 a bad --answer.
    """
    from pathlib import Path

    from ..netconfig import discover
    from ..probe import ask, result, sheet
    from ..profile import DEFAULT_PROFILE, load_profile
    from ..transport import open_transport

    config = command_config()
    uri = config.setting("printer", printer_uri)
    if not uri:
        raise click.UsageError("no printer: give --printer URI (or set printer in the configuration)")
    base_name = config.setting("profile", profile) or DEFAULT_PROFILE
    base = load_profile(base_name)
    lines = sheet.plan(base)
    try:
        answers = result.parse_answers(list(answer_specs), lines)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--answer") from None
    if batch and answers:
        raise click.UsageError("--batch asks nothing and prints nothing: --answer does not go with it")

    transport = open_transport(uri, read_timeout=timeout)
    click.echo(f"probe {transport.uri} (base profile {base_name})")
    with transport:
        if not transport.can_read:  # known once open (a write-only lp device)
            raise click.UsageError(f"{uri} cannot read replies: probe needs a two-way link (tcp, serial, usb)")
        found = ask.ask(transport, timeout)
        host = ask.tcp_host(uri)
        if host:
            net = base.network
            sport = status_port if status_port is not None else int(net.get("status_port", 4000))
            dport = discovery_port if discovery_port is not None else int(net.get("discovery_port", 9000))
            if sport >= 0:
                found.status_port = ask.status_port(host, sport, timeout)
            if dport >= 0:
                found.network = discover(host, dport, timeout)
        for line in found.lines():
            click.echo(f"  {line}")
        if not batch and not no_sheet:
            transport.write(sheet.sheet_bytes(lines))
            click.echo(f"calibration sheet sent: {len(lines)} numbered lines")
    if not batch and not answers:
        if _interactive():
            answers = _ask_person(lines)
        else:
            click.echo("the sheet's lines (answer with --answer N=yes|no ... --no-sheet):")
            for ln in lines:
                click.echo(f"  {ln.number:3d}  {ln.question}")
    changes = result.derive(lines, answers, base, found)
    click.echo(f"answers for {len(answers)} of {len(lines)} sheet lines")
    if not changes:
        click.echo(f"no differences from {base_name}")
    for table, entries in changes.items():
        for key, value in entries.items():
            click.echo(f"  [{table}] {key} = {value!r}")
    if out:
        notes = [] if answers or batch else ["the sheet was not answered: only the automatic findings are in"]
        # a base file is named by its full path, so the profile works from any folder
        extends = str(Path(base_name).resolve()) if Path(base_name).is_file() else base_name
        result.write_profile(Path(out), result.profile_text(changes, extends, found, notes))
        click.echo(f"wrote {out} (use --profile {out})")
