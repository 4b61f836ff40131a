"""The ``escpos809`` command line: parse, call the library, print, exit with a documented code.

Every failure is one line on stderr (``escpos809: …``) and an exit code from
:data:`escpos809.errors.EXIT_CODES`.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from pathlib import Path

import click

from .errors import EXIT_CODES, Escpos809Error, InvalidData

NOT_READY, UNKNOWN_STATUS = 4, 5


class CliError(click.ClickException):
    """A failure shown as one line on stderr with its own exit code."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code

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


def printer_options(func):
    """--printer / --profile / --timeout, shared by every command that talks to a printer."""
    @click.option("--printer", "-p", "printer_uri", metavar="URI",
                  help="Printer URI (tcp://host:9100, usb://VID:PID, serial:///dev/ttyUSB0, lp:///dev/usb/lp0, "
                       "memory://). Default: $ESCPOS809_PRINTER, then the config file.")
    @click.option("--profile", metavar="NAME|FILE", help="Model profile (default ocpp-809).")
    @click.option("--timeout", type=click.FloatRange(min=0.1), help="Write / reply timeout in seconds.")
    @functools.wraps(func)
    def wrapper(printer_uri, profile, timeout, **kw):
        return func(_printer(printer_uri, profile, timeout), **kw)
    return wrapper


def _config():
    """The configuration, read once per command on first use and shared by its parts."""
    from .config import load

    meta = click.get_current_context().meta  # one dict for the whole command line
    if "escpos809.config" not in meta:
        meta["escpos809.config"] = load()
    return meta["escpos809.config"]


def _printer(uri: str | None, profile: str | None, timeout: float | None):
    from .printer import Printer

    config = _config()
    uri = config.setting("printer", uri)
    if not uri:
        raise CliError("no printer: give --printer URI, set ESCPOS809_PRINTER, or put "
                       "printer = \"tcp://…\" in ~/.config/escpos809/config.toml", 2)
    kw = {"write_timeout": timeout, "read_timeout": timeout} if timeout else {}
    return Printer(uri, config.setting("profile", profile), **kw)


def _finish(printer) -> None:
    """Close; for virtual:// say where the paper went, for memory:// show the bytes."""
    printer.close()
    job = getattr(printer.transport, "last_job", None)
    if job is not None:
        for page in job.pages:
            click.echo(f"{printer.uri}: printed {page}")
        click.echo(f"{printer.uri}: operations in {job.log_path}")
    written = getattr(printer.transport, "written", None)
    if written is not None:
        data = bytes(written)
        click.echo(f"{len(data)} bytes for {printer.uri}:")
        for off in range(0, len(data), 16):
            row = data[off:off + 16]
            text = "".join(chr(b) if 32 <= b < 127 else "." for b in row)
            click.echo(f"{off:08x}  {row.hex(' '):<47}  {text}")


def _show_version(ctx: click.Context, param, value: bool) -> None:
    """--version: from the package metadata (pyproject.toml), looked up only when asked."""
    if value and not ctx.resilient_parsing:
        from . import __version__

        click.echo(f"escpos809, version {__version__}")
        ctx.exit()


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]},
             epilog="Exit codes: " + "; ".join(f"{k} {v}" for k, v in EXIT_CODES.items()))
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_show_version,
              help="Show the version and exit.")
def cli() -> None:
    """Drive an OCOM OCPP-809 (ESC/POS) receipt printer."""
    # library warnings are reported by the commands themselves; show only errors as one line
    logging.basicConfig(level=logging.ERROR, format="escpos809: %(message)s")


@cli.command()
@printer_options
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(printer, as_json: bool) -> None:
    """Ask the printer for its status (DLE EOT 1-4).

    Exit 0 when ready, 4 when the printer reports a problem, 5 when it does not answer.
    """
    with printer:
        st = printer.status()
    if as_json:
        click.echo(json.dumps(st.to_dict(), indent=2))
    elif not st.known:
        click.echo(f"{printer.uri}: status unknown ({st.reason})")
    else:
        flags = {"online": st.online, "cover open": st.cover_open, "paper near end": st.paper_near_end,
                 "paper out": st.paper_end or st.paper_end_stop, "cutter error": st.cutter_error,
                 "unrecoverable error": st.unrecoverable_error,
                 "auto-recoverable error": st.autorecoverable_error, "drawer pin 3 high": st.drawer_pin3_high,
                 "feed button": st.feed_button}
        click.echo(f"{printer.uri}: {'ready' if st.ready else 'NOT READY: ' + ', '.join(st.problems())}")
        for name, value in flags.items():
            click.echo(f"  {name:<24}{'yes' if value else 'no'}")
    if not st.known:
        sys.exit(UNKNOWN_STATUS)
    if not st.ready:
        sys.exit(NOT_READY)


@cli.command()
@printer_options
@click.option("--times", "-n", default=1, show_default=True, help="Number of beeps (1-9; 1-20 with --alarm).")
@click.option("--duration", "-t", default=2, show_default=True,
              help="Beep length in units of 50 ms (1-9); alarm interval (1-20) with --alarm.")
@click.option("--alarm", type=click.Choice(["beep", "light", "both"]),
              help="Use the sound-and-light alarm (ESC C) instead of the buzzer (ESC B).")
def beep(printer, times: int, duration: int, alarm: str | None) -> None:
    """Sound the buzzer."""
    with printer:
        printer.alarm(times, duration, alarm) if alarm else printer.beep(times, duration)
    _finish(printer)


@cli.command()
@printer_options
@click.option("--mode", type=click.Choice(["full", "partial"]), default="partial", show_default=True)
@click.option("--feed", type=click.IntRange(0, 255), help="Feed to the cutter plus N dots first (GS V 65/66 n).")
def cut(printer, mode: str, feed: int | None) -> None:
    """Cut the paper (the mode asked for is the mode sent)."""
    with printer:
        printer.cut(mode, feed)
    _finish(printer)


@cli.command()
@printer_options
@click.option("--pin", type=click.Choice(["2", "5"]), default="2", show_default=True)
@click.option("--on-ms", default=100, show_default=True, help="Pulse length, 0-510 ms.")
@click.option("--off-ms", default=100, show_default=True, help="Pause after the pulse, 0-510 ms.")
def drawer(printer, pin: str, on_ms: int, off_ms: int) -> None:
    """Open the cash drawer (ESC p)."""
    with printer:
        printer.drawer(int(pin), on_ms, off_ms)
    _finish(printer)


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff")


def _load_receipt(source: str, data_file: str | None):
    """A receipt document from a JSON file (``-`` = stdin), filled from ``data_file`` if given."""
    from .document import from_dict
    from .errors import InvalidDocument
    from .template import fill, placeholders

    raw = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    base = Path.cwd() if source == "-" else Path(source).resolve().parent

    def parse(blob: bytes, what: str):
        try:
            return json.loads(blob)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InvalidDocument([("", f"{what} is not JSON: {exc}")]) from None
    data = parse(raw, source)
    if data_file:
        data = fill(data, parse(Path(data_file).read_bytes(), data_file))
    elif fields := placeholders(data):  # unfilled, it would print "{table}" or fail the schema
        shown = ", ".join(fields[:3]) + (", …" if len(fields) > 3 else "")
        raise click.UsageError(f"{source} is a template ({shown}): pass --data FILE",
                               click.get_current_context(silent=True))
    return from_dict(data, base)


def _warn_replaced(replaced: list[str]) -> None:
    if replaced:
        click.echo(f"escpos809: warning: no code page carries {''.join(sorted(set(replaced)))!r}; "
                   "printed as '?'", err=True)


@cli.command("print")
@printer_options
@click.argument("source", type=click.Path(dir_okay=False, allow_dash=True), required=False)
@click.option("--qr", "qr_data", metavar="DATA", help="Print a QR code of DATA (no SOURCE needed).")
@click.option("--data", "data_file", type=click.Path(exists=True, dir_okay=False),
              help="Fill the JSON receipt template SOURCE from this JSON file.")
@click.option("--raw", is_flag=True, help="Send the file's bytes unchanged (ESC/POS prepared elsewhere).")
@click.option("--encoding", default="utf-8", show_default=True, help="Encoding of a text file.")
@click.option("--cut/--no-cut", "do_cut", default=True, show_default=True, help="Feed and cut after text, image or QR.")
@click.option("--cut-mode", type=click.Choice(["full", "partial"]), default="partial", show_default=True)
@click.option("--check/--no-check", default=True, show_default=True,
              help="Ask the status first and refuse when the printer reports paper out, cover open or an error.")
@click.option("--confirm/--no-confirm", default=True, show_default=True,
              help="Wait until the printer confirms it has printed the job's last byte (GS r 1).")
@click.option("--wait", "wait_s", type=click.FloatRange(min=0), default=60.0, show_default=True,
              help="Seconds to wait for a printer that stops mid-job (paper out, cover open) before giving up.")
def print_cmd(printer, source, qr_data, data_file, raw, encoding, do_cut, cut_mode, check, confirm, wait_s) -> None:
    """Print a receipt (.json), an image (.png, .jpg, …), a text file (- for stdin),
    raw ESC/POS bytes (--raw) or a QR code (--qr DATA).

    Exit 0 once the printer confirms the job printed; 4 when it stopped mid-job (the job waits
    in it), 5 when it took the job but never confirmed it or stopped answering."""
    from .document import QR, Cut, Document, Text

    if (source is None) == (qr_data is None):
        raise click.UsageError("give a SOURCE file or --qr DATA (one of them)")
    suffix = Path(source).suffix.lower() if source else ""
    payload: bytes | None = None
    if qr_data is not None:
        doc = Document((QR(qr_data),))
    elif raw:
        payload = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
        doc = None
    elif suffix == ".json":
        doc = _load_receipt(source, data_file)
    elif suffix in IMAGE_SUFFIXES:
        from .document import from_dict  # the same checks as an image block in a receipt
        doc = from_dict({"blocks": [{"type": "image", "path": str(Path(source).resolve())}]})
    else:
        blob = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
        try:
            text = blob.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise InvalidData(f"{source} is not {encoding} text ({exc}); use --encoding or --raw") from None
        doc = Document((Text(text.removesuffix("\n")),))
    if doc is not None and do_cut and suffix != ".json":
        doc = Document(doc.blocks + (Cut(cut_mode, 0),))
    if payload is None:
        from .receipt import render

        rendered = render(doc, printer.profile)
        payload = rendered.data
        _warn_replaced(rendered.replaced)
    with printer:
        if check:
            printer.ensure_ready()
        _print_confirmed(printer, payload, confirm, wait_s)
    _finish(printer)


def _print_confirmed(printer, data: bytes, confirm: bool, wait_s: float) -> None:
    """Send one job; with ``confirm``, return only once the printer says it printed it."""
    dry_run = printer.transport.scheme == "memory"
    if not confirm or dry_run:
        printer.send(data)
        return
    said: list[str] = []

    def tell(st) -> bool:
        if st.known and not st.ready and not said:
            said.append(", ".join(st.problems()))
            click.echo(f"escpos809: {printer.uri}: printer not ready: {said[0]}; waiting up to {wait_s:g} s "
                       "for it to print the job", err=True)
        return True

    if not printer.print_job(data, wait_s=wait_s, on_status=tell):
        click.echo(f"escpos809: warning: {printer.uri}: sent {len(data)} bytes, not confirmed: "
                   f"{printer.unconfirmed_reason}", err=True)


@cli.command()
@click.argument("source", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="PNG to write; a receipt with several cuts gives NAME-2.png, NAME-3.png, …")
@click.option("--data", "data_file", type=click.Path(exists=True, dir_okay=False), help="Template data (JSON).")
@click.option("--profile", metavar="NAME|FILE", help="Model profile (default ocpp-809).")
def preview(source, output, data_file, profile) -> None:
    """Draw a JSON receipt as the printer would print it."""
    from .profile import load_profile
    from .receipt import preview as draw

    pages = draw(_load_receipt(source, data_file), load_profile(profile))
    out = Path(output)
    for n, page in enumerate(pages, 1):
        path = out if n == 1 else out.with_name(f"{out.stem}-{n}{out.suffix}")
        page.save(path)
        click.echo(str(path))


@cli.command("usb-list")
@click.option("--profile", metavar="NAME|FILE", help="Model profile whose known USB ids are marked.")
def usb_list(profile: str | None) -> None:
    """List USB printers (printer- or vendor-class interfaces): the URI for --printer, the name,
    the model family if known, and the CUPS device URI (escpos809:<URI>) for lpadmin -v."""
    from .cups.backend import SCHEME as CUPS_SCHEME
    from .profile import load_profile
    from .transport.usb import list_devices

    prof = load_profile(profile)
    devices = list_devices()
    if not devices:
        click.echo("no USB printers found", err=True)
        sys.exit(3)
    for d in devices:
        known = prof.usb_id(d.vid, d.pid)
        label = " ".join(x for x in (d.manufacturer, d.product) if x) or "(no name)"
        mark = f"  [{prof.id} family: {known.name}]" if known else ""
        click.echo(f"{d.uri}  {label}{mark}  cups {CUPS_SCHEME}:{d.uri}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback by default).")
@click.option("--port", default=9100, show_default=True, help="Raw print port (0 = any free port).")
@click.option("--status-port", default=4000, show_default=True, help="Status port answering ESC v (-1 = off).")
@click.option("--discovery-port", default=9000, show_default=True, help="UDP discovery port (-1 = off).")
@click.option("--serial", is_flag=True, help="Also listen on a pseudo-terminal (its path is printed).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Where the paper goes (PNG + JSON per job).")
@click.option("--throttle", is_flag=True, help="Print at the printer's 300 mm/s (GS r is answered after the paper time).")
@click.option("--paper-mm", type=float, help="Paper on the roll; paper out after that many mm.")
@click.option("--near-end-mm", type=float, default=50.0, show_default=True, help="Paper near end below this.")
@click.option("--cover-open", is_flag=True, help="Start with the cover open (printing paused).")
@click.option("--cutter-error", is_flag=True, help="Report an auto-cutter error.")
@click.option("--silent", is_flag=True, help="Never answer status requests.")
@click.option("--drop-after", type=click.IntRange(min=0), help="Drop each connection after N bytes.")
@click.option("--slow", type=click.IntRange(min=1), help="Slow link: accept at most N bytes per second.")
@click.option("--map", "address_map", multiple=True, metavar="IP=LOCAL",
              help="After set-IP to IP, listen on LOCAL (a loopback address) instead.")
@click.option("--jobs", type=click.IntRange(min=1), help="Exit after this many jobs.")
@click.option("--receive-buffer", type=click.IntRange(min=256), default=16 * 1024, show_default=True,
              help="Receive buffer in bytes; when it is full the printer stops reading and the host's writes block.")
@click.option("--power-off-s", type=click.FloatRange(min=0), default=2.0, show_default=True,
              help="How long the plug stays out after SIGUSR1 (power loss: connections reset, unprinted data lost).")
@click.option("--profile", metavar="NAME|FILE", help="Model profile (default ocpp-809).")
def emulate(host, port, status_port, discovery_port, serial, out_dir, throttle, paper_mm, near_end_mm, cover_open,
            cutter_error, silent, drop_after, slow, address_map, jobs, receive_buffer, power_off_s, profile) -> None:
    """Run the virtual OCPP-809: print to it over TCP or serial, see the paper as PNG files.

    Send it SIGUSR1 to pull the plug (kill -USR1 PID): connections are reset, data not yet
    printed is lost, it comes back after --power-off-s on the same port. Restarted with the same
    --out (after a crash too), it numbers jobs on from the folders there.
    """
    import signal
    import threading
    import time

    from .emulator import VirtualPrinter, paper_dir
    from .profile import load_profile

    mapping = {}
    for item in address_map:
        ip, sep, local = item.partition("=")
        if not sep:
            raise InvalidData(f"--map {item!r}: expected IP=LOCAL, e.g. 192.168.1.50=127.0.0.2")
        mapping[ip] = local
    vp = VirtualPrinter(out_dir or paper_dir("emulate"), host=host, port=port,
                        status_port=None if status_port < 0 else status_port,
                        discovery_port=None if discovery_port < 0 else discovery_port, serial=serial,
                        profile=load_profile(profile), throttle=throttle, address_map=mapping,
                        receive_buffer=receive_buffer)
    f = vp.faults
    f.paper_mm, f.near_end_mm, f.cover_open, f.cutter_error, f.silent = paper_mm, near_end_mm, cover_open, cutter_error, silent
    vp.drop_after, vp.slow_bps = drop_after, slow
    try:
        vp.start()
    except OSError as exc:
        raise CliError(f"cannot listen on {host}:{port}: {exc.strerror} (use --port 0 for any free port)", 1) from None
    click.echo(f"virtual OCPP-809 printing on {vp.uri}")
    if vp.status_port is not None:
        click.echo(f"status port tcp://{host}:{vp.status_port} (ESC v)")
    if vp.discovery_port is not None:
        click.echo(f"discovery udp://{host}:{vp.discovery_port} (XP0001FIND)")
    if vp.serial_path:
        click.echo(f"serial serial://{vp.serial_path}")
    click.echo(f"paper goes to {vp.out_dir}", nl=True)
    # the handler only starts the power cut: it runs in the main thread, between our sleeps
    signal.signal(signal.SIGUSR1, lambda *_: threading.Thread(
        target=vp.power_loss, kwargs={"off_s": power_off_s}, daemon=True).start())
    seen = powers = 0
    try:
        while jobs is None or seen < jobs:
            time.sleep(0.05)
            for _, kind, info in vp.power_log[powers:]:
                powers += 1
                if kind == "power_off":
                    click.echo(f"power lost: connections reset, {info['dropped']} bytes not printed; "
                               f"back in {info['off_s']:g} s")
                else:
                    click.echo(f"power back on {vp.uri}")
            for job in vp.jobs[seen:]:
                pages = ", ".join(str(p) for p in job.pages) or "no paper"
                if len(job.pages) > 5:  # a stream of metres: one line, not thousands of names
                    pages = f"{job.pages[0]} … {job.pages[-1].name} ({len(job.pages)} pages)"
                note = "" if job.state == "done" else f" [{job.state.replace('_', ' ')}]"
                click.echo(f"job {job.number} ({job.source}, {job.bytes} bytes): {pages}{note}")
                seen += 1
    except KeyboardInterrupt:
        pass
    finally:
        vp.stop()


@cli.command()
@click.option("--host", help="Address to listen on (default 127.0.0.1; anything else needs a token).")
@click.option("--port", type=click.IntRange(0, 65535), help="HTTP port (default 8809; 0 = any free port).")
@click.option("--db", "database", type=click.Path(dir_okay=False), help="Job database (SQLite).")
@click.option("--token", envvar="ESCPOS809_SERVICE_TOKEN", help="Bearer token clients must send.")
@click.option("--printer", "-p", "printers", multiple=True, metavar="NAME=URI",
              help="A printer to serve (repeatable); default: the config's [printers], else virtual://default.")
@click.option("--on-restart", type=click.Choice(["reprint", "hold"]),
              help="A job cut short by a crash is reprinted (marked REPRINT) or held for release.")
@click.option("--zeroconf/--no-zeroconf", default=None, help="Advertise the API and printers (default on).")
@click.option("--allow-origin", "allowed_origins", multiple=True, metavar="ORIGIN",
              help="A web origin (scheme://host[:port]) whose pages may print, with CORS (repeatable).")
@click.option("--server-name", "server_names", multiple=True, metavar="NAME",
              help="A host name clients use for this service, besides its address and localhost (repeatable).")
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]))
def serve(host, port, database, token, printers, on_restart, zeroconf, allowed_origins, server_names,
          log_level) -> None:
    """Run the HTTP print service (waitress): durable queue, one worker per printer, status page."""
    try:
        from escpos809_service.config import load_service_config
        from escpos809_service.server import serve as run, setup_logging
    except ImportError as exc:
        raise CliError(f"the service needs its extra: pip install 'escpos809[service]' ({exc.name} missing)", 1) from None
    chosen = {}
    for item in printers:
        name, sep, uri = item.partition("=")
        if not sep or not name or not uri:
            raise InvalidData(f"--printer {item!r}: expected NAME=URI, e.g. front=tcp://192.168.1.50")
        chosen[name] = uri
    config = load_service_config(_config(), host=host, port=port, database=database, token=token, on_restart=on_restart,
                                 zeroconf=zeroconf, allowed_origins=list(allowed_origins) or None,
                                 server_names=list(server_names) or None)
    if chosen:
        config.printers = chosen
        config.check()
    setup_logging(log_level)
    run(config, ready=lambda url: click.echo(f"escpos809 service on {url}/ (API {url}/api/v1)", err=True))


@cli.command()
@click.option("--printer", "-p", "printer_uri", metavar="URI", help="A real printer; default: the built-in virtual one.")
@click.option("--profile", metavar="NAME|FILE", help="Model profile (default ocpp-809).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Where the virtual printer's paper goes.")
def demo(printer_uri, profile, out_dir) -> None:
    """Print a sample charging receipt (to the virtual printer unless --printer names one)."""
    import os

    from .demo import document
    from .printer import Printer
    from .receipt import render

    if out_dir:
        os.environ["ESCPOS809_PAPER_DIR"] = str(out_dir)
    p = Printer(printer_uri or "virtual://demo", profile)
    rendered = render(document(), p.profile)
    _warn_replaced(rendered.replaced)
    with p:
        p.send(rendered.data)
    _finish(p)


@cli.command()
@click.argument("ip", required=False)
@click.option("--mask", help="Subnet mask (xp-netall / xp-udp only).")
@click.option("--gateway", help="Gateway (xp-netall / xp-udp only).")
@click.option("--dhcp/--static", default=False, help="Switch DHCP on (xp-netall / xp-udp only).")
@click.option("--method", type=click.Choice(["91ip", "xp-netall", "xp-udp", "22"]), default="91ip",
              show_default=True, help="Which one of the family's commands to send.")
@click.option("--printer", "-p", "printer_uri", metavar="URI", help="Current connection (usb, serial or tcp).")
@click.option("--mac", help="xp-udp: the printer's MAC (default: found by discovery).")
@click.option("--udp-target", default="255.255.255.255", show_default=True, help="xp-udp / discovery address.")
@click.option("--udp-port", default=9000, show_default=True)
@click.option("--port", "verify_port", default=9100, show_default=True, help="Print port to check on the new address.")
@click.option("--wait", default=15.0, show_default=True, help="Seconds to wait for the printer to come back.")
@click.option("--no-verify", is_flag=True, help="Do not wait for the printer on its new address.")
def setip(ip, mask, gateway, dhcp, method, printer_uri, mac, udp_target, udp_port, verify_port, wait, no_verify) -> None:
    """Give the printer a new IP address and check that it answers there."""
    from . import netconfig
    from .printer import Printer

    if not ip and not dhcp:  # nothing to do is a usage error (exit 2), not bad data (7)
        raise click.UsageError("give the new IP address, or --dhcp", click.get_current_context())
    plan = netconfig.plan(ip, mask, gateway, dhcp, method)
    for w in plan.warnings:
        click.echo(f"escpos809: note: {w}", err=True)
    if method == "xp-udp":
        if not mac:
            found = netconfig.discover(udp_target, udp_port, timeout=2.0)
            if len(found) != 1:
                raise CliError(f"found {len(found)} printers by discovery; name one with --mac", 3)
            mac = found[0].mac
        netconfig.send_udp(netconfig.save_packet(plan, mac), udp_target, udp_port)
        click.echo(f"sent XP0001SAVE to {mac} via {udp_target}:{udp_port}")
    else:
        uri = _config().setting("printer", printer_uri)
        if not uri:
            raise CliError("no printer: give --printer URI (the printer's current connection)", 2)
        with Printer(uri) as p:
            p.send(netconfig.command_bytes(plan))
        click.echo(f"sent {method} to {uri}")
    if no_verify or plan.ip is None:
        click.echo("not verified" if no_verify else "DHCP on: find the printer with `escpos809 discover`")
        return
    took = netconfig.wait_for_port(str(plan.ip), verify_port, wait)
    if took is None:
        raise CliError(f"the printer did not answer on {plan.ip}:{verify_port} within {wait:g} s; "
                       "hold FEED at power-on to print its settings", 4)
    click.echo(f"printer answers on tcp://{plan.ip}:{verify_port} after {took:.1f} s")


@cli.command()
@click.option("--target", default="255.255.255.255", show_default=True, help="Broadcast (or unicast) address.")
@click.option("--port", default=9000, show_default=True, help="UDP discovery port.")
@click.option("--timeout", default=2.0, show_default=True, help="Seconds to collect replies.")
@click.option("--json", "as_json", is_flag=True)
def discover(target, port, timeout, as_json) -> None:
    """Find printers on the network by UDP discovery (XP0001FIND)."""
    from . import netconfig

    found = netconfig.discover(target, port, timeout)
    if as_json:
        click.echo(json.dumps([vars(f) for f in found], indent=2))
    for f in [] if as_json else found:
        click.echo(f"{f.ip:<15} mask {f.mask:<15} gateway {f.gateway:<15} MAC {f.mac}  DHCP {'on' if f.dhcp else 'off'}")
    if not found:
        click.echo("no printers answered", err=True)
        sys.exit(3)


@cli.group()
def cups() -> None:
    """Set up CUPS queues for the printer (backend, raster filter, PPD)."""


def _cups_dirs(func):
    @click.option("--server-bin", metavar="DIR", help="CUPS ServerBin (default: cups-config --serverbin).")
    @click.option("--server-root", metavar="DIR", help="CUPS ServerRoot (default: cups-config --serverroot).")
    @click.option("--lib-dir", metavar="DIR", help="Where a copy of the package goes when lp cannot read this one "
                                                   "(default /usr/local/lib/escpos809).")
    @functools.wraps(func)
    def wrapper(server_bin, server_root, lib_dir, **kw):
        from .cups.install import layout

        return func(layout(server_bin, server_root, lib_dir), **kw)
    return wrapper


@cups.command("install")
@_cups_dirs
@click.option("--queue", "-q", metavar="NAME", help="Also add this queue (needs --printer).")
@click.option("--printer", "-p", "printer_uri", metavar="URI", help="The printer the queue sends to (tcp://…, usb://…).")
@click.option("--raw", is_flag=True, help="A raw queue (ESC/POS only, no PPD or filter).")
@click.option("--location", metavar="TEXT", help="Queue location shown by CUPS.")
def cups_install(lay, queue, printer_uri, raw, location) -> None:
    """Install the backend and filter; with --queue, add a queue for --printer."""
    from .cups import install

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
@click.option("--queue", "-q", "queues", metavar="NAME", multiple=True,
              help="Remove only this queue (default: every escpos809 queue, then the files).")
def cups_uninstall(lay, queues) -> None:
    """Remove escpos809 queues, and (without --queue) the backend and filter."""
    from .cups import install

    for q in queues or install.escpos809_queues():
        install.remove_queue(q)
        click.echo(f"removed queue {q}")
    if not queues:
        for path in install.uninstall_files(lay):
            click.echo(f"removed {path}")


@cups.command("ppd")
def cups_ppd() -> None:
    """Print the OCPP-809 PPD (the same file as packaging/cups/ocpp809.ppd)."""
    from .cups.ppd import generate

    click.echo(generate(), nl=False)


@cli.group()
def ocpp() -> None:
    """Charging-session receipts from OCPP traffic (replay a log, or tap a live link)."""


def _ocpp_ingest(printer_uri: str | None, database: str | None, dry_run: bool, printed: list | None = None):
    """An Ingest printing to the chosen printer; each receipt printed is also added to ``printed``."""
    from .ocpp.config import load_ocpp_config
    from .ocpp.ingest import Ingest, printer_sink

    config = _config()
    cfg = load_ocpp_config(config.table("ocpp"))
    uri = printer_uri or cfg.printer or config.printer or "virtual://ocpp"
    if dry_run:
        def send(key, doc, summary, reprint):
            return "not printed (--dry-run)"
    else:
        from .transport import open_transport

        open_transport(uri)  # a bad URI stops here, before any frame is read
        send = printer_sink(uri, config.profile)

    def sink(key, doc, summary, reprint):
        job = send(key, doc, summary, reprint)
        if printed is not None:
            printed.append((summary, job))
        return job
    return Ingest(cfg, database or ":memory:", sink)


def _say_printed(printed: list, as_json: bool) -> None:
    for s, job in printed:
        if as_json:
            click.echo(json.dumps({**s.to_json(), "job": job}))
            continue
        energy = f"{s.to_json()['energy_kwh']} kWh" if s.energy_wh is not None else "energy unknown"
        cost = f"{s.cost.gross:.2f} {s.currency} ({s.cost.kind})" if s.cost else "cost pending"
        click.echo(f"{s.cp} {s.tx}: {energy}, {cost} -> {job}")


@ocpp.command("replay")
@click.argument("source", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--printer", "-p", "printer_uri", metavar="URI", help="Where receipts print (default: [ocpp] printer, "
              "$ESCPOS809_PRINTER, else the virtual printer).")
@click.option("--db", "database", type=click.Path(dir_okay=False), help="Keep sessions in this SQLite file "
              "(a second replay then prints nothing twice).")
@click.option("--dry-run", is_flag=True, help="Assemble and report, print nothing.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per receipt on stdout.")
def ocpp_replay(source, printer_uri, database, dry_run, as_json) -> None:
    """Feed a JSONL log ({ts, cp, dir, frame} per line) and print each finished session.
    A bad line is refused on stderr with its number; the replay goes on."""
    from .errors import InvalidInput
    from .ocpp.intake import parse_line

    printed: list = []
    ingest = _ocpp_ingest(printer_uri, database, dry_run, printed)
    stream = sys.stdin.buffer if source == "-" else open(source, "rb")
    accepted = rejected = 0
    with stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:  # the line as bytes: one that is not UTF-8 is refused, not a traceback
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
    _say_printed(printed, as_json)
    for row in ingest.sessions():
        if row["state"] not in ("printed",):
            why = f": {row['error']}" if row.get("error") else ""
            click.echo(f"escpos809: {row['cp']} {row['transaction']}: {row['state']} (not printed{why})", err=True)
    click.echo(f"escpos809: {accepted} frames taken, {rejected} refused, {len(printed)} receipts", err=True)
    ingest.close()
    if accepted == 0 and rejected:
        raise CliError(f"{source}: no OCPP frame in it", 7)


@ocpp.command("tap")
@click.option("--listen", default="127.0.0.1:9000", show_default=True, metavar="HOST:PORT",
              help="Where charge points connect (give them ws://HOST:PORT/<path>/<cp id>).")
@click.option("--upstream", required=True, metavar="URL", help="The CSMS, e.g. ws://csms:9000 (the station's path is kept).")
@click.option("--printer", "-p", "printer_uri", metavar="URI", help="Where receipts print.")
@click.option("--db", "database", type=click.Path(dir_okay=False), help="Session database (default: state dir ocpp.db).")
@click.option("--log-level", default="INFO", show_default=True)
def ocpp_tap(listen, upstream, printer_uri, database, log_level) -> None:
    """Sit between charge points and the CSMS; forward everything, print each session's receipt."""
    import signal
    import threading

    from .ocpp.tap import Recorder, Tap

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not upstream.startswith(("ws://", "wss://")):
        raise CliError(f"--upstream {upstream!r}: expected ws://host:port or wss://…", 2)
    host, _, port = listen.rpartition(":")
    if not port.isdigit() or int(port) > 65535:
        raise CliError(f"--listen {listen!r}: expected HOST:PORT with a port 0-65535", 2)
    if database is None:
        from .config import state_path

        database = str(state_path("ocpp.db"))
    ingest = _ocpp_ingest(printer_uri, database, False).start()
    recorder = Recorder(ingest.feed)
    try:
        tap = Tap(upstream, recorder, host or "127.0.0.1", int(port)).start_thread()
    except OSError as exc:
        raise CliError(f"cannot listen on {listen}: {exc.strerror or exc}", 1) from None
    click.echo(f"escpos809 tap on ws://{host}:{tap.tap.port}/ -> {upstream} (sessions in {database})", err=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    tap.stop()
    recorder.drain(5)
    recorder.close()
    ingest.close()


def main() -> None:
    cli(prog_name="escpos809")


if __name__ == "__main__":  # pragma: no cover
    main()
