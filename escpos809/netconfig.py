"""Network set-up of OCPP-809-family printers: set IP / mask / gateway / DHCP, discover, verify.

The family has several set-IP commands (reference §12); exactly one chosen ``method`` is sent,
never several (an unknown command prints garbage on a real printer).
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass, field

from .errors import InvalidData
from .escpos import vendor

METHODS = {
    "91ip": "1F 1B 1F 91 00 49 50 + IP (family-wide; firmware forces gateway a.b.c.1, DHCP off)",
    "xp-netall": "1F 1B 1F 91 00 49 FA … (Xprinter setNetAll: IP, mask, gateway, DHCP at once)",
    "xp-udp": "XP0001SAVE on UDP 9000 (selects the printer by MAC; works across subnets)",
    "22": "1F 1B 1F 22 + IP (Xprinter 'new' form; may need a power cycle)",
}


@dataclass
class NetPlan:
    """A checked request: what to set and what the user should know first."""

    ip: ipaddress.IPv4Address | None
    network: ipaddress.IPv4Network | None
    gateway: ipaddress.IPv4Address | None
    dhcp: bool
    method: str
    warnings: list[str] = field(default_factory=list)

    @property
    def mask(self) -> str:
        return str(self.network.netmask) if self.network else "0.0.0.0"


def _addr(name: str, value: str) -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(value)
    except ipaddress.AddressValueError:
        raise InvalidData(f"{name} {value!r} is not an IPv4 address (like 192.168.1.50)") from None


def plan(
    ip: str | None, mask: str | None = None, gateway: str | None = None, dhcp: bool = False, method: str = "91ip"
) -> NetPlan:
    """Check a set-IP request before anything is sent; raises InvalidData with the reason."""
    if method not in METHODS:
        raise InvalidData(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if dhcp:
        if ip or mask or gateway:
            raise InvalidData("--dhcp takes no static address, mask or gateway: give one or the other")
        if method not in ("xp-netall", "xp-udp"):
            raise InvalidData("only --method xp-netall or xp-udp can switch DHCP on")
        return NetPlan(
            None,
            None,
            None,
            True,
            method,
            [
                "with DHCP on, the printer's next address comes from your DHCP server; "
                "find it with `escpos809 discover` or the self-test page"
            ],
        )
    if not ip:
        raise InvalidData("give the new IP address, or --dhcp")
    addr = _addr("IP", ip)
    try:
        net = ipaddress.IPv4Network(f"{addr}/{mask or '255.255.255.0'}", strict=False)
    except (ValueError, ipaddress.NetmaskValueError):
        raise InvalidData(f"mask {mask!r} is not a valid netmask (like 255.255.255.0)") from None
    if addr.is_multicast or addr.is_unspecified or addr.is_reserved or str(addr) == "255.255.255.255":
        raise InvalidData(f"{addr} cannot be a printer's address (multicast, unspecified or reserved)")
    if net.prefixlen < 31:
        if addr == net.network_address:
            raise InvalidData(f"{addr} is the network address of {net}; pick a host address")
        if addr == net.broadcast_address:
            raise InvalidData(f"{addr} is the broadcast address of {net}; pick a host address")
    gw = _addr("gateway", gateway) if gateway else None
    if gw is not None:
        if gw not in net:
            raise InvalidData(f"gateway {gw} is outside the printer's subnet {net}")
        if gw == addr:
            raise InvalidData("the gateway cannot be the printer's own address")
        if net.prefixlen < 31 and gw in (net.network_address, net.broadcast_address):
            raise InvalidData(f"gateway {gw} is the network or broadcast address of {net}")
    warnings = []
    if method in ("91ip", "22"):
        if mask or gateway:
            raise InvalidData(
                f"--method {method} sets the IP only; use --method xp-netall or xp-udp "
                "to set mask and gateway in one command"
            )
        forced = ipaddress.IPv4Address(int(net.network_address) | 1) if net.prefixlen <= 30 else None
        warnings.append(
            f"the firmware may force the gateway to {forced or 'a.b.c.1'} and switch DHCP off; "
            "it prints the new settings and restarts"
        )
    if method in ("xp-netall", "xp-udp") and gw is None:
        gw = ipaddress.IPv4Address(int(net.network_address) | 1)
        warnings.append(f"no --gateway given: using {gw}")
    return NetPlan(addr, net, gw, False, method, warnings)


def command_bytes(p: NetPlan) -> bytes:
    """The bytes of the chosen method for the printer's print channel (not for xp-udp)."""
    if p.method == "91ip":
        return vendor.set_ip(str(p.ip))
    if p.method == "22":
        return vendor.set_ip_short(str(p.ip))
    if p.method == "xp-netall":
        zero = "0.0.0.0"
        return vendor.set_network_all(str(p.ip or zero), p.mask, str(p.gateway or zero), p.dhcp)
    raise InvalidData("xp-udp is sent by UDP, not over the print connection")


def save_packet(p: NetPlan, mac: str) -> bytes:
    zero = "0.0.0.0"
    return vendor.save_request(vendor.NetSettings(mac, str(p.ip or zero), p.mask, str(p.gateway or zero), p.dhcp))


def discover(
    target: str = "255.255.255.255", port: int = 9000, timeout: float = 2.0, bind: str = "0.0.0.0"
) -> list[vendor.NetSettings]:
    """Broadcast ``XP0001FIND`` and collect ``XP0001FOUND`` replies until ``timeout``."""
    found: dict[str, vendor.NetSettings] = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        s.bind((bind, 0))
        try:
            s.sendto(vendor.discovery_request(), (target, port))
        except socket.gaierror:
            raise InvalidData(f"discovery target {target!r} is not an address or resolvable name") from None
        end = time.monotonic() + timeout
        while (left := end - time.monotonic()) > 0:
            s.settimeout(left)
            try:
                packet, _ = s.recvfrom(1024)
            except TimeoutError:
                break
            try:
                st = vendor.parse_discovery_reply(packet)
            except InvalidData:
                continue
            found[st.mac] = st
    return list(found.values())


def send_udp(packet: bytes, target: str = "255.255.255.255", port: int = 9000) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        s.sendto(packet, (target, port))


def wait_for_port(host: str, port: int, timeout: float, interval: float = 0.2) -> float | None:
    """Seconds until ``host:port`` accepts a TCP connection, or None if it never does."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            with socket.create_connection((host, port), timeout=min(1.0, timeout)):
                return time.monotonic() - start
        except OSError:
            time.sleep(interval)
    return None
