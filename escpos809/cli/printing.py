"""Commands that talk to a printer: status, beep, cut, drawer, print; and preview, demo."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import click

from ..errors import InvalidData, PrinterOffline, PrinterTimeout
from .common import CliError, command_config, printer_option
from .pdfsource import pdf_document, pdf_options, pdf_refusals

NOT_READY, UNKNOWN_STATUS = PrinterOffline.exit_code, PrinterTimeout.exit_code


def printer_options(func):
    """--printer / --profile / --timeout, shared by every command that talks to a printer."""

    @printer_option("Default: $ESCPOS809_PRINTER, then the config file.")
    @click.option("--profile", metavar="NAME|FILE", help="Model profile (default ocpp-809).")
    @click.option("--timeout", type=click.FloatRange(min=0.1), help="Write / reply timeout in seconds.")
    @functools.wraps(func)
    def wrapper(printer_uri, profile, timeout, **kw):
        return func(_printer(printer_uri, profile, timeout), **kw)

    return wrapper


def _printer(uri: str | None, profile: str | None, timeout: float | None):
    from ..printer import Printer

    config = command_config()
    uri = config.setting("printer", uri)
    if not uri:
        raise CliError(
            "no printer: give --printer URI, set ESCPOS809_PRINTER, or put "
            'printer = "tcp://…" in ~/.config/escpos809/config.toml',
            2,
        )
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
            row = data[off : off + 16]
            text = "".join(chr(b) if 32 <= b < 127 else "." for b in row)
            click.echo(f"{off:08x}  {row.hex(' '):<47}  {text}")


@click.command()
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
        flags = {
            "online": st.online,
            "cover open": st.cover_open,
            "paper near end": st.paper_near_end,
            "paper out": st.paper_end or st.paper_end_stop,
            "cutter error": st.cutter_error,
            "unrecoverable error": st.unrecoverable_error,
            "auto-recoverable error": st.autorecoverable_error,
            "drawer pin 3 high": st.drawer_pin3_high,
            "feed button": st.feed_button,
        }
        click.echo(f"{printer.uri}: {'ready' if st.ready else 'NOT READY: ' + ', '.join(st.problems())}")
        for name, value in flags.items():
            click.echo(f"  {name:<24}{'yes' if value else 'no'}")
    if not st.known:
        sys.exit(UNKNOWN_STATUS)
    if not st.ready:
        sys.exit(NOT_READY)


@click.command()
@printer_options
@click.option("--times", "-n", default=1, show_default=True, help="Number of beeps (1-9; 1-20 with --alarm).")
@click.option(
    "--duration",
    "-t",
    default=2,
    show_default=True,
    help="Beep length in units of 50 ms (1-9); alarm interval (1-20) with --alarm.",
)
@click.option(
    "--alarm",
    type=click.Choice(["beep", "light", "both"]),
    help="Use the sound-and-light alarm (ESC C) instead of the buzzer (ESC B).",
)
def beep(printer, times: int, duration: int, alarm: str | None) -> None:
    """Sound the buzzer."""
    with printer:
        printer.alarm(times, duration, alarm) if alarm else printer.beep(times, duration)
    _finish(printer)


@click.command()
@printer_options
@click.option("--mode", type=click.Choice(["full", "partial"]), default="partial", show_default=True)
@click.option("--feed", type=click.IntRange(0, 255), help="Feed to the cutter plus N dots first (GS V 65/66 n).")
def cut(printer, mode: str, feed: int | None) -> None:
    """Cut the paper (the mode asked for is the mode sent)."""
    with printer:
        printer.cut(mode, feed)
    _finish(printer)


@click.command()
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
    from ..document import from_dict
    from ..errors import InvalidDocument
    from ..template import fill, placeholders

    raw = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    base = Path.cwd() if source == "-" else Path(source).resolve().parent

    def parse(blob: bytes, what: str):
        from ..safejson import JsonRefused, loads

        try:  # within the same limits as the service: no RecursionError on [[[[…, no 10,000-digit ints
            return loads(blob)
        except JsonRefused as exc:
            raise InvalidDocument([("", f"{what} is not JSON we take: {exc}")]) from None

    data = parse(raw, source)
    if data_file:
        data = fill(data, parse(Path(data_file).read_bytes(), data_file))
    elif fields := placeholders(data):  # unfilled, it would print "{table}" or fail the schema
        shown = ", ".join(fields[:3]) + (", …" if len(fields) > 3 else "")
        raise click.UsageError(
            f"{source} is a template ({shown}): pass --data FILE", click.get_current_context(silent=True)
        )
    return from_dict(data, base)


def _warn_replaced(replaced: list[str]) -> None:
    if replaced:
        click.echo(
            f"escpos809: warning: no code page carries {''.join(sorted(set(replaced)))!r}; printed as '?'", err=True
        )


@click.command("print")
@printer_options
@click.argument("source", type=click.Path(dir_okay=False, allow_dash=True), required=False)
@click.option("--qr", "qr_data", metavar="DATA", help="Print a QR code of DATA (no SOURCE needed).")
@click.option(
    "--data",
    "data_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Fill the JSON receipt template SOURCE from this JSON file.",
)
@click.option("--raw", is_flag=True, help="Send the file's bytes unchanged (ESC/POS prepared elsewhere).")
@click.option("--encoding", default="utf-8", show_default=True, help="Encoding of a text file.")
@click.option(
    "--cut/--no-cut",
    "do_cut",
    default=True,
    show_default=True,
    help="Feed and cut after text, image or QR (after each page of a PDF).",
)
@click.option("--cut-mode", type=click.Choice(["full", "partial"]), default="partial", show_default=True)
@click.option(
    "--check/--no-check",
    default=True,
    show_default=True,
    help="Ask the status first and refuse when the printer reports paper out, cover open or an error.",
)
@click.option(
    "--confirm/--no-confirm",
    default=True,
    show_default=True,
    help="Wait until the printer confirms it has printed the job's last byte (GS r 1).",
)
@click.option(
    "--wait",
    "wait_s",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    help="Seconds to wait for a printer that stops mid-job (paper out, cover open) before giving up.",
)
@pdf_options
def print_cmd(
    printer, source, qr_data, data_file, raw, encoding, do_cut, cut_mode, check, confirm, wait_s, pages, scale
) -> None:
    """Print a receipt (.json), a PDF (.pdf: a cut after each page), an image (.png, .jpg, …),
    a text file (- for stdin), raw ESC/POS bytes (--raw) or a QR code (--qr DATA).

    Exit 0 once the printer confirms the job printed; 4 when it stopped mid-job (the job waits
    in it), 5 when it took the job but never confirmed it or stopped answering."""
    from ..document import QR, Cut, Document, Text

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
    elif suffix == ".pdf":
        doc = pdf_document(source, pages, scale, cut_mode if do_cut else "none")
    elif suffix in IMAGE_SUFFIXES:
        from ..document import from_dict  # the same checks as an image block in a receipt

        doc = from_dict({"blocks": [{"type": "image", "path": str(Path(source).resolve())}]})
    else:
        blob = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
        try:
            text = blob.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise InvalidData(f"{source} is not {encoding} text ({exc}); use --encoding or --raw") from None
        doc = Document((Text(text.removesuffix("\n")),))
    if doc is not None and do_cut and suffix not in (".json", ".pdf"):
        doc = Document(doc.blocks + (Cut(cut_mode, 0),))
    if payload is None:
        from ..receipt import render

        assert doc is not None  # every branch but --raw made a document
        draw = functools.partial(render, doc, printer.profile)
        rendered = pdf_refusals(draw, source) if suffix == ".pdf" else draw()
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
            click.echo(
                f"escpos809: {printer.uri}: printer not ready: {said[0]}; waiting up to {wait_s:g} s "
                "for it to print the job",
                err=True,
            )
        return True

    if not printer.print_job(data, wait_s=wait_s, on_status=tell):
        click.echo(
            f"escpos809: warning: {printer.uri}: sent {len(data)} bytes, not confirmed: {printer.unconfirmed_reason}",
            err=True,
        )


@click.command()
@click.argument("source", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="PNG to write; a receipt with several cuts gives NAME-2.png, NAME-3.png, …",
)
@click.option("--data", "data_file", type=click.Path(exists=True, dir_okay=False), help="Template data (JSON).")
@click.option("--profile", metavar="NAME|FILE", help="Model profile (default ocpp-809).")
@pdf_options
def preview(source, output, data_file, profile, pages, scale) -> None:
    """Draw a JSON receipt or a PDF as the printer would print it."""
    from ..profile import load_profile
    from ..receipt import preview as draw

    prof = load_profile(profile)
    if Path(source).suffix.lower() == ".pdf":
        pages = pdf_refusals(functools.partial(draw, pdf_document(source, pages, scale, "partial"), prof), source)
    else:
        pages = draw(_load_receipt(source, data_file), prof)
    out = Path(output)
    for n, page in enumerate(pages, 1):
        path = out if n == 1 else out.with_name(f"{out.stem}-{n}{out.suffix}")
        page.save(path)
        click.echo(str(path))


@click.command()
@printer_option("Default: the built-in virtual printer.")
@click.option("--profile", metavar="NAME|FILE", help="Model profile (default ocpp-809).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Where the virtual printer's paper goes.")
def demo(printer_uri, profile, out_dir) -> None:
    """Print a sample charging receipt (to the virtual printer unless --printer names one)."""
    import os

    from ..demo import document
    from ..printer import Printer
    from ..receipt import render

    if out_dir:
        os.environ["ESCPOS809_PAPER_DIR"] = str(out_dir)
    p = Printer(printer_uri or "virtual://demo", command_config().setting("profile", profile))
    rendered = render(document(), p.profile)
    _warn_replaced(rendered.replaced)
    with p:
        p.send(rendered.data)
    _finish(p)
