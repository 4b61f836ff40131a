"""Finding printers and giving them an address: usb-list, setip, discover."""

from __future__ import annotations

import json

import click

from ..errors import PrinterNotFound
from .common import CliError, command_config, printer_option


@click.command("usb-list")
@click.option("--profile", metavar="NAME|FILE", help="Model profile whose known USB ids are marked.")
def usb_list(profile: str | None) -> None:
    """List USB printers (printer- or vendor-class interfaces): the URI for --printer, the name,
    the model family if known, and the CUPS device URI (escpos809:<URI>) for lpadmin -v."""
    from ..cups.backend import SCHEME as CUPS_SCHEME
    from ..profile import load_profile
    from ..transport.usb import list_devices

    prof = load_profile(profile)
    devices = list_devices()
    if not devices:
        raise CliError("no USB printers found", PrinterNotFound.exit_code)
    for d in devices:
        known = prof.usb_id(d.vid, d.pid)
        label = " ".join(x for x in (d.manufacturer, d.product) if x) or "(no name)"
        mark = f"  [{prof.id} family: {known.name}]" if known else ""
        click.echo(f"{d.uri}  {label}{mark}  cups {CUPS_SCHEME}:{d.uri}")


@click.command()
@click.argument("ip", required=False)
@click.option("--mask", help="Subnet mask (xp-netall / xp-udp only).")
@click.option("--gateway", help="Gateway (xp-netall / xp-udp only).")
@click.option("--dhcp/--static", default=False, help="Switch DHCP on (xp-netall / xp-udp only).")
@click.option(
    "--method",
    type=click.Choice(["91ip", "xp-netall", "xp-udp", "22"]),
    default="91ip",
    show_default=True,
    help="Which one of the family's commands to send.",
)
@printer_option("The printer's current connection.")
@click.option("--mac", help="xp-udp: the printer's MAC (default: found by discovery).")
@click.option("--udp-target", default="255.255.255.255", show_default=True, help="xp-udp / discovery address.")
@click.option("--udp-port", default=9000, show_default=True)
@click.option("--port", "verify_port", default=9100, show_default=True, help="Print port to check on the new address.")
@click.option("--wait", default=15.0, show_default=True, help="Seconds to wait for the printer to come back.")
@click.option("--no-verify", is_flag=True, help="Do not wait for the printer on its new address.")
def setip(
    ip, mask, gateway, dhcp, method, printer_uri, mac, udp_target, udp_port, verify_port, wait, no_verify
) -> None:
    """Give the printer a new IP address and check that it answers there."""
    from .. import netconfig
    from ..printer import Printer

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
        uri = command_config().setting("printer", printer_uri)
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
        raise CliError(
            f"the printer did not answer on {plan.ip}:{verify_port} within {wait:g} s; "
            "hold FEED at power-on to print its settings",
            4,
        )
    click.echo(f"printer answers on tcp://{plan.ip}:{verify_port} after {took:.1f} s")


@click.command()
@click.option("--target", default="255.255.255.255", show_default=True, help="Broadcast (or unicast) address.")
@click.option("--port", default=9000, show_default=True, help="UDP discovery port.")
@click.option("--timeout", default=2.0, show_default=True, help="Seconds to collect replies.")
@click.option("--json", "as_json", is_flag=True)
def discover(target, port, timeout, as_json) -> None:
    """Find printers on the network by UDP discovery (XP0001FIND)."""
    from .. import netconfig

    found = netconfig.discover(target, port, timeout)
    if as_json:
        click.echo(json.dumps([vars(f) for f in found], indent=2))
    for f in [] if as_json else found:
        click.echo(
            f"{f.ip:<15} mask {f.mask:<15} gateway {f.gateway:<15} MAC {f.mac}  DHCP {'on' if f.dhcp else 'off'}"
        )
    if not found:
        raise CliError("no printers answered", PrinterNotFound.exit_code)
