"""``escpos809 ocpp``: charging-session receipts from OCPP traffic (replay a log, tap a live link)."""

from __future__ import annotations

import json
import sys

import click

from .common import CliError, command_config, printer_option, run_until_stopped


@click.group()
def ocpp() -> None:
    """Charging-session receipts from OCPP traffic (replay a log, or tap a live link)."""


def _ocpp_ingest(printer_uri: str | None, database: str | None, dry_run: bool, printed=None):
    """An Ingest printing to the chosen printer; ``printed(summary, job)`` hears of each receipt."""
    from ..ocpp.config import load_ocpp_config
    from ..ocpp.ingest import Ingest, printer_sink

    config = command_config()
    cfg = load_ocpp_config(config.table("ocpp"))
    uri = printer_uri or cfg.printer or config.printer or "virtual://ocpp"
    if dry_run:
        if database:  # a dry run leaves the database as it was: it works on a copy
            from ..sqlitedb import scratch_copy

            database, scratch = scratch_copy(database, "session database")
            click.get_current_context().call_on_close(scratch.cleanup)

        def send(key, doc, summary, reprint):
            return "not printed (--dry-run)"
    else:
        from ..transport import open_transport

        open_transport(uri)  # a bad URI stops here, before any frame is read
        send = printer_sink(uri, config.profile)

    def sink(key, doc, summary, reprint):
        job = send(key, doc, summary, reprint)
        if printed is not None:
            printed(summary, job)
        return job

    return Ingest(cfg, database or ":memory:", sink)


def _say_printed(s, job, as_json: bool) -> None:
    """One line on stdout for a receipt as it prints (nothing kept: a long replay's memory
    does not grow with its receipts)."""
    from ..ocpp.receipt import kwh

    if as_json:
        click.echo(json.dumps({**s.to_json(), "job": job}))
    else:
        energy = f"{kwh(s.energy_wh)} kWh" if s.energy_wh is not None else "energy unknown"
        cost = f"{s.cost.gross:.2f} {s.currency} ({s.cost.kind})" if s.cost else "cost pending"
        merged = f" (merged retried start {', '.join(s.merged)})" if s.merged else ""
        reused = f" (session {s.session}: the station reused the id)" if s.session != s.tx else ""
        click.echo(f"{s.cp} {s.tx}{merged}{reused}: {energy}, {cost} -> {job}")


def _lines(stream, limit: int):
    """(line, its length) for each line of a log; a line longer than ``limit`` is skipped
    without being held (None, its length): a log with no newline in gigabytes is read in
    bounded memory."""
    while line := stream.readline(limit + 1):
        if len(line) <= limit or line.endswith(b"\n"):
            yield line, len(line)
            continue
        size = len(line)
        while (rest := stream.readline(1 << 20)) and not rest.endswith(b"\n"):
            size += len(rest)
        yield None, size + len(rest)


@ocpp.command("replay")
@click.argument("source", type=click.Path(dir_okay=False, allow_dash=True))
@printer_option("Where receipts print (default: [ocpp] printer, $ESCPOS809_PRINTER, else the virtual printer).")
@click.option(
    "--db",
    "database",
    type=click.Path(dir_okay=False),
    help="Keep sessions in this SQLite file (a second replay then prints nothing twice; "
    "--dry-run reads it and leaves it unchanged).",
)
@click.option("--dry-run", is_flag=True, help="Assemble and report, print nothing.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per receipt on stdout.")
def ocpp_replay(source, printer_uri, database, dry_run, as_json) -> None:
    """Feed a JSONL log ({ts, cp, dir, frame} per line) and print each finished session.
    A bad line is refused on stderr with its number; the replay goes on."""
    from ..errors import InvalidInput
    from ..ocpp.intake import LIMITS, parse_line
    from ..safejson import JsonBeyondLimits

    printed = 0

    def say(summary, job) -> None:
        nonlocal printed
        printed += 1
        _say_printed(summary, job, as_json)

    ingest = _ocpp_ingest(printer_uri, database, dry_run, say)
    stream = sys.stdin.buffer if source == "-" else open(source, "rb")
    accepted = rejected = 0
    # the log is the record: no disk wait per frame (a commit per 20,000 writes); a receipt's
    # mark is on disk before it prints
    with stream, ingest.store.batch(every=20_000, marks_at_once=not dry_run):
        for number, (line, size) in enumerate(_lines(stream, LIMITS.max_bytes), 1):
            if line is not None and not line.strip():
                continue
            try:  # the line as bytes: one that is not UTF-8 is refused, not a traceback
                if line is None:
                    raise JsonBeyondLimits(f"{size:,} bytes of JSON; at most {LIMITS.max_bytes:,}")
                item = parse_line(line)
            except InvalidInput as exc:
                click.echo(f"escpos809: {source}:{number}: not a {{ts, cp, dir, frame}} line ({exc})", err=True)
                rejected += 1
                continue
            if item is None:
                continue
            res = ingest.feed(item.cp, item.direction, item.frame, item.ts, item.version)
            if not res.accepted:
                click.echo(f"escpos809: {source}:{number}: refused: {res.reason}", err=True)
                rejected += 1
            else:
                accepted += 1
    ingest.flush(force=True)  # the log is the whole story: no final cost will come after its end
    for row in ingest.sessions(printed=0):
        if row["state"] not in ("printed",):
            why = f": {row['error']}" if row.get("error") else ""
            click.echo(f"escpos809: {row['cp']} {row['transaction']}: {row['state']} (not printed{why})", err=True)
    click.echo(f"escpos809: {accepted} frames taken, {rejected} refused, {printed} receipts", err=True)
    ingest.close()
    if accepted == 0 and rejected:
        raise CliError(f"{source}: no OCPP frame in it", 7)


@ocpp.command("tap")
@click.option(
    "--listen",
    default="127.0.0.1:9000",
    show_default=True,
    metavar="HOST:PORT",
    help="Where charge points connect (give them ws://HOST:PORT/<path>/<cp id>).",
)
@click.option(
    "--upstream", required=True, metavar="URL", help="The CSMS, e.g. ws://csms:9000 (the station's path is kept)."
)
@printer_option("Where receipts print.")
@click.option(
    "--db", "database", type=click.Path(dir_okay=False), help="Session database (default: state dir ocpp.db)."
)
@click.option(
    "--certfile",
    type=click.Path(dir_okay=False),
    help="Serve wss:// with this certificate (PEM; security profiles 2 and 3).",
)
@click.option("--keyfile", type=click.Path(dir_okay=False), help="The certificate's private key (PEM).")
@click.option(
    "--client-ca",
    type=click.Path(dir_okay=False),
    help="Require a station certificate signed by this CA (security profile 3).",
)
@click.option(
    "--any-station-cn",
    is_flag=True,
    help="With --client-ca: take a certificate whatever station its commonName names "
    "(default: it must be the charge-point id in the station's URL).",
)
@click.option(
    "--upstream-ca", type=click.Path(dir_okay=False), help="CA bundle for a wss:// CSMS (default: the system's)."
)
@click.option(
    "--upstream-certfile",
    type=click.Path(dir_okay=False),
    help="The tap's client certificate for a CSMS that asks for one (with --upstream-keyfile).",
)
@click.option("--upstream-keyfile", type=click.Path(dir_okay=False), help="Key of --upstream-certfile.")
@click.option("--log-level", default="INFO", show_default=True)
def ocpp_tap(
    listen,
    upstream,
    printer_uri,
    database,
    certfile,
    keyfile,
    client_ca,
    any_station_cn,
    upstream_ca,
    upstream_certfile,
    upstream_keyfile,
    log_level,
) -> None:
    """Sit between charge points and the CSMS; forward everything, print each session's receipt.
    Stations' Basic auth goes to the CSMS untouched."""
    import logging

    from ..ocpp.tap import Recorder, Tap, server_tls, upstream_tls

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not upstream.startswith(("ws://", "wss://")):
        raise CliError(f"--upstream {upstream!r}: expected ws://host:port or wss://…", 2)
    host, _, port = listen.rpartition(":")
    if not port.isdigit() or int(port) > 65535:
        raise CliError(f"--listen {listen!r}: expected HOST:PORT with a port 0-65535", 2)
    if (keyfile or client_ca) and not certfile:
        raise CliError("--keyfile and --client-ca need --certfile (the tap's TLS certificate)", 2)
    if any_station_cn and not client_ca:
        raise CliError("--any-station-cn needs --client-ca (station certificates)", 2)
    if (upstream_ca or upstream_certfile) and not upstream.startswith("wss://"):
        raise CliError("--upstream-ca and --upstream-certfile need a wss:// --upstream", 2)
    tls = server_tls(certfile, keyfile, client_ca) if certfile else None  # bad files: one line, exit 7
    up_tls = upstream_tls(upstream_ca, upstream_certfile, upstream_keyfile) if upstream.startswith("wss://") else None
    if database is None:
        from ..config import state_path

        database = str(state_path("ocpp.db"))
    ingest = _ocpp_ingest(printer_uri, database, False).start()
    recorder = Recorder(ingest.feed)
    try:
        tap = Tap(
            upstream, recorder, host or "127.0.0.1", int(port), tls, up_tls, station_identity=not any_station_cn
        ).start_thread()
    except OSError as exc:
        raise CliError(f"cannot listen on {listen}: {exc.strerror or exc}", 1) from None
    scheme = "wss" if tls else "ws"
    click.echo(f"escpos809 tap on {scheme}://{host}:{tap.tap.port}/ -> {upstream} (sessions in {database})", err=True)
    run_until_stopped()
    tap.stop()
    recorder.drain(5)
    recorder.close()
    ingest.close()
