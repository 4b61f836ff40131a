"""``escpos809 serve``: the HTTP print service (``escpos809_service``, the ``service`` extra)."""

from __future__ import annotations

import click

from ..errors import InvalidData
from .common import CliError, command_config, printer_option


@click.command()
@click.option("--host", help="Address to listen on (default 127.0.0.1; anything else needs a token).")
@click.option("--port", type=click.IntRange(0, 65535), help="HTTP port (default 8809; 0 = any free port).")
@click.option("--db", "database", type=click.Path(dir_okay=False), help="Job database (SQLite).")
@click.option("--token", envvar="ESCPOS809_SERVICE_TOKEN", help="Bearer token clients must send.")
@printer_option(
    "A printer to serve as NAME=URI (repeatable); default: the config's [printers], else virtual://default.",
    multiple=True,
    metavar="NAME=URI",
    dest="printers",
)
@click.option(
    "--on-restart",
    type=click.Choice(["reprint", "hold"]),
    help="A job cut short by a crash is reprinted (marked REPRINT) or held for release.",
)
@click.option("--zeroconf/--no-zeroconf", default=None, help="Advertise the API and printers (default on).")
@click.option(
    "--allow-origin",
    "allowed_origins",
    multiple=True,
    metavar="ORIGIN",
    help="A web origin (scheme://host[:port]) whose pages may print, with CORS (repeatable).",
)
@click.option(
    "--server-name",
    "server_names",
    multiple=True,
    metavar="NAME",
    help="A host name clients use for this service, besides its address and localhost (repeatable).",
)
@click.option(
    "--log-level", default="INFO", show_default=True, type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"])
)
def serve(
    host, port, database, token, printers, on_restart, zeroconf, allowed_origins, server_names, log_level
) -> None:
    """Run the HTTP print service (waitress): durable queue, one worker per printer, status page."""
    try:
        from escpos809_service.config import load_service_config
        from escpos809_service.server import serve as run
        from escpos809_service.server import setup_logging
    except ImportError as exc:
        raise CliError(
            f"the service needs its extra: pip install 'escpos809[service]' ({exc.name} missing)", 1
        ) from None
    chosen = {}
    for item in printers:
        name, sep, uri = item.partition("=")
        if not sep or not name or not uri:
            raise InvalidData(f"--printer {item!r}: expected NAME=URI, e.g. front=tcp://192.168.1.50")
        chosen[name] = uri
    config = load_service_config(
        command_config(),
        host=host,
        port=port,
        database=database,
        token=token,
        on_restart=on_restart,
        zeroconf=zeroconf,
        allowed_origins=list(allowed_origins) or None,
        server_names=list(server_names) or None,
    )
    if chosen:
        config.printers = chosen
        config.check()
    setup_logging(log_level)
    run(config, ready=lambda url: click.echo(f"escpos809 service on {url}/ (API {url}/api/v1)", err=True))
