"""``escpos809 emulate``: the virtual OCPP-809 (the only import of ``escpos809.emulator`` from outside it)."""

from __future__ import annotations

import click

from ..errors import InvalidData
from .common import CliError


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback by default).")
@click.option("--port", default=9100, show_default=True, help="Raw print port (0 = any free port).")
@click.option("--status-port", default=4000, show_default=True, help="Status port answering ESC v (-1 = off).")
@click.option("--discovery-port", default=9000, show_default=True, help="UDP discovery port (-1 = off).")
@click.option("--serial", is_flag=True, help="Also listen on a pseudo-terminal (its path is printed).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Where the paper goes (PNG + JSON per job).")
@click.option(
    "--throttle", is_flag=True, help="Print at the printer's 300 mm/s (GS r is answered after the paper time)."
)
@click.option("--paper-mm", type=float, help="Paper on the roll; paper out after that many mm.")
@click.option("--near-end-mm", type=float, default=50.0, show_default=True, help="Paper near end below this.")
@click.option("--cover-open", is_flag=True, help="Start with the cover open (printing paused).")
@click.option("--cutter-error", is_flag=True, help="Report an auto-cutter error.")
@click.option("--silent", is_flag=True, help="Never answer status requests.")
@click.option("--drop-after", type=click.IntRange(min=0), help="Drop each connection after N bytes.")
@click.option("--slow", type=click.IntRange(min=1), help="Slow link: accept at most N bytes per second.")
@click.option(
    "--baud",
    type=click.IntRange(min=10),
    help="Pace the link as a serial line at this rate, 8N1 (--baud 115200 = --slow 11520).",
)
@click.option(
    "--map",
    "address_map",
    multiple=True,
    metavar="IP=LOCAL",
    help="After set-IP to IP, listen on LOCAL (a loopback address) instead.",
)
@click.option("--jobs", type=click.IntRange(min=1), help="Exit after this many jobs.")
@click.option(
    "--receive-buffer",
    type=click.IntRange(min=256),
    default=16 * 1024,
    show_default=True,
    help="Receive buffer in bytes; when it is full the printer stops reading and the host's writes block.",
)
@click.option(
    "--power-off-s",
    type=click.FloatRange(min=0),
    default=2.0,
    show_default=True,
    help="How long the plug stays out after SIGUSR1 (power loss: connections reset, unprinted data lost).",
)
@click.option("--profile", metavar="NAME|FILE", help="Model profile (default ocpp-809).")
@click.option("--firmware", metavar="NAME", help="Firmware variant of the clone to be (see --list-firmware).")
@click.option("--list-firmware", is_flag=True, help="List the firmware variants and exit.")
def emulate(
    host,
    port,
    status_port,
    discovery_port,
    serial,
    out_dir,
    throttle,
    paper_mm,
    near_end_mm,
    cover_open,
    cutter_error,
    silent,
    drop_after,
    slow,
    baud,
    address_map,
    jobs,
    receive_buffer,
    power_off_s,
    profile,
    firmware,
    list_firmware,
) -> None:
    """Run the virtual OCPP-809: print to it over TCP or serial, see the paper as PNG files.

    Send it SIGUSR1 to pull the plug (kill -USR1 PID): connections are reset, data not yet
    printed is lost, it comes back after --power-off-s on the same port. Restarted with the same
    --out (after a crash too), it numbers jobs on from the folders there.
    """
    import signal
    import threading
    import time

    from ..emulator import VirtualPrinter, paper_dir
    from ..emulator.firmware import builtin_firmware, load_firmware
    from ..profile import load_profile

    if list_firmware:
        for name in builtin_firmware():
            click.echo(f"{name:10} {load_firmware(name).description}")
        return

    mapping = {}
    for item in address_map:
        ip, sep, local = item.partition("=")
        if not sep:
            raise InvalidData(f"--map {item!r}: expected IP=LOCAL, e.g. 192.168.1.50=127.0.0.2")
        mapping[ip] = local
    vp = VirtualPrinter(
        out_dir or paper_dir("emulate"),
        host=host,
        port=port,
        status_port=None if status_port < 0 else status_port,
        discovery_port=None if discovery_port < 0 else discovery_port,
        serial=serial,
        profile=load_profile(profile),
        throttle=throttle,
        address_map=mapping,
        receive_buffer=receive_buffer,
        firmware=load_firmware(firmware) if firmware else None,
    )
    f = vp.faults
    f.paper_mm, f.near_end_mm, f.cover_open, f.cutter_error, f.silent = (
        paper_mm,
        near_end_mm,
        cover_open,
        cutter_error,
        silent,
    )
    vp.drop_after, vp.slow_bps = drop_after, slow
    if baud:
        from ..emulator.link import baud_to_bytes_per_s

        vp.slow_bps = baud_to_bytes_per_s(baud)
    try:
        vp.start()
    except OSError as exc:
        raise CliError(f"cannot listen on {host}:{port}: {exc.strerror} (use --port 0 for any free port)", 1) from None
    click.echo(f"virtual OCPP-809 printing on {vp.uri}" + (f" (firmware {firmware})" if firmware else ""))
    if vp.status_port is not None:
        click.echo(f"status port tcp://{host}:{vp.status_port} (ESC v)")
    if vp.discovery_port is not None:
        click.echo(f"discovery udp://{host}:{vp.discovery_port} (XP0001FIND)")
    if vp.serial_path:
        click.echo(f"serial serial://{vp.serial_path}")
    click.echo(f"paper goes to {vp.out_dir}", nl=True)
    # the handler only starts the power cut: it runs in the main thread, between our sleeps
    signal.signal(
        signal.SIGUSR1,
        lambda *_: threading.Thread(target=vp.power_loss, kwargs={"off_s": power_off_s}, daemon=True).start(),
    )
    seen = powers = 0
    try:
        while jobs is None or seen < jobs:
            time.sleep(0.05)
            for _, kind, info in vp.power_log[powers:]:
                powers += 1
                if kind == "power_off":
                    click.echo(
                        f"power lost: connections reset, {info['dropped']} bytes not printed; "
                        f"back in {info['off_s']:g} s"
                    )
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
