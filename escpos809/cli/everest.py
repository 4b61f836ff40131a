"""``escpos809 everest``: charging receipts from an EVerest charger's MQTT API."""

from __future__ import annotations

import click

from .common import CliError, command_config, printer_option, run_until_stopped


@click.command("everest")
@click.option("--broker", metavar="URL", help="mqtt://HOST:PORT or mqtts://HOST:PORT (default: [everest] broker).")
@click.option("--prefix", metavar="TOPIC", help="The API module's topic prefix (default everest_api).")
@click.option(
    "--events-prefix",
    metavar="TOPIC",
    help="The EVerest framework's prefix for evse_manager session events (default everest/; '' = off).",
)
@printer_option("Where receipts print (default: [everest] printer, then the configuration, then virtual://everest).")
@click.option(
    "--db", "database", type=click.Path(dir_okay=False), help="Session database (default: state dir everest.db)."
)
@click.option("--username", metavar="NAME", help="Broker user name.")
@click.option(
    "--password-file",
    type=click.Path(dir_okay=False),
    help="File holding the broker password (kept off the command line).",
)
@click.option(
    "--ca", type=click.Path(dir_okay=False), help="CA bundle that signed the broker's certificate (mqtts://)."
)
@click.option("--cert", type=click.Path(dir_okay=False), help="Client certificate, PEM (mqtts://).")
@click.option("--key", type=click.Path(dir_okay=False), help="The client certificate's key, PEM.")
@click.option("--settle", "settle_s", type=float, help="Seconds to wait after a session ends (default 2).")
@click.option("--log-level", default="INFO", show_default=True)
def everest(
    broker, prefix, events_prefix, printer_uri, database, username, password_file, ca, cert, key, settle_s, log_level
) -> None:
    """Listen to EVerest over MQTT and print one receipt per charging session (plug-in, charge,
    Finished). Receipt text, time zone and tariff come from [ocpp]; broker settings from
    [everest]. Runs until SIGTERM or Ctrl-C."""
    import logging  # here, not at the top: `escpos809 --help` loads every command module

    from ..everest.config import load_everest_config
    from ..everest.listener import Listener
    from ..ocpp.config import load_ocpp_config
    from ..ocpp.ingest import printer_sink
    from ..transport import open_transport

    level = getattr(logging, log_level.upper(), None)
    if not isinstance(level, int):
        raise CliError(f"--log-level {log_level!r}: expected DEBUG, INFO, WARNING or ERROR", 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    config = command_config()
    cfg = load_everest_config(
        config.table("everest"),
        broker=broker,
        prefix=prefix,
        events_prefix=events_prefix,
        username=username,
        password_file=password_file,
        ca=ca,
        cert=cert,
        key=key,
        settle_s=settle_s,
    )
    receipt_cfg = load_ocpp_config(config.table("ocpp"))
    uri = printer_uri or cfg.printer or receipt_cfg.printer or config.printer or "virtual://everest"
    open_transport(uri)  # a bad URI stops here, before the broker is asked anything
    if database is None:
        from ..config import state_path

        database = cfg.database or str(state_path("everest.db"))
    listener = Listener(cfg, receipt_cfg, database, printer_sink(uri, config.profile)).start()
    click.echo(f"escpos809 everest: {cfg.broker} ({cfg.prefix}) -> {uri} (sessions in {database})", err=True)
    run_until_stopped()
    listener.close()
    click.echo(f"escpos809 everest: {listener.printed} receipts printed, {listener.skipped} messages skipped", err=True)
