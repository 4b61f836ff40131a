"""OCPP-809-family (Xprinter / SPRT-derived firmware) vendor commands.

Bytes from ../shared/reference/ocpp809-commands.md §9 (buzzer, alarm), §11 (status port) and
§12 (network configuration, UDP discovery). None is confirmed on an OCOM unit: the
confidence of each is in its docstring. Unknown ``1F …`` sequences print as garbage on a real
printer, so callers send one chosen variant, never several.
"""

from __future__ import annotations

from ..errors import InvalidData
from ..record import Record
from ._check import choice, in_range

# the CUPS filter imports this module for the buzzer on every job: ipaddress waits until
# an address is built, and the records here are Records, not dataclasses
TYPE_CHECKING = False
if TYPE_CHECKING:
    import ipaddress

ESC = b"\x1b"
US_PREFIX = b"\x1f\x1b\x1f"


def beep(times: int = 1, duration: int = 1) -> bytes:
    """``ESC B n t``: n beeps (1-9), each t units long (1-9).

    The unit is 50 ms per the firmware and Xprinter SDK, 100 ms per other documents (M):
    measure on the device. The firmware ignores values outside 1-9, so they are refused here.
    """
    return ESC + b"B" + bytes([in_range("beep count", times, 1, 9), in_range("beep duration", duration, 1, 9)])


_ALARM = {"none": 0, "beep": 1, "light": 2, "flash": 2, "both": 3}


def alarm(times: int = 1, interval: int = 5, mode: str = "both") -> bytes:
    """``ESC C m t n``: sound-and-light alarm, m times (1-20), interval t x 50 ms (1-20),
    mode none / beep / light / both. The guess for the OCPP-809 alarm (G, Xprinter headers)."""
    return (
        ESC
        + b"C"
        + bytes(
            [
                in_range("alarm count", times, 1, 20),
                in_range("alarm interval", interval, 1, 20),
                choice("alarm mode", mode, _ALARM),
            ]
        )
    )


def status_port_request() -> bytes:
    """``ESC v`` sent to TCP 4000: the printer answers the 4 automatic-status-back bytes (M)."""
    return ESC + b"v"


# --- network configuration (§12) ---------------------------------------------------------------


def _ip(name: str, value: str | ipaddress.IPv4Address) -> bytes:
    import ipaddress

    try:
        return ipaddress.IPv4Address(value).packed
    except (ipaddress.AddressValueError, ValueError):
        raise InvalidData(f"{name} {value!r} is not an IPv4 address") from None


def set_ip(ip: str) -> bytes:
    """``1F 1B 1F 91 00 49 50 a b c d`` (H family / M OCOM). The firmware also forces the
    gateway to a.b.c.1, keeps the mask, turns DHCP off, prints the settings and resets."""
    return US_PREFIX + b"\x91\x00IP" + _ip("IP", ip)


def set_network_all(ip: str, mask: str, gateway: str, dhcp: bool = False) -> bytes:
    """XSDK ``setNetAll``: ``1F 1B 1F 91 00 49 FA dh 5A ip mask gw`` (21 bytes, M)."""
    return (
        US_PREFIX
        + b"\x91\x00\x49\xfa"
        + bytes([1 if dhcp else 0])
        + b"\x5a"
        + _ip("IP", ip)
        + _ip("mask", mask)
        + _ip("gateway", gateway)
    )


def set_ip_short(ip: str) -> bytes:
    """Xprinter "new" ``1F 1B 1F 22 ip`` (M: confirmed on one unit, "broken" on another)."""
    return US_PREFIX + b"\x22" + _ip("IP", ip)


def set_mask(mask: str) -> bytes:
    """XSDK ``setMask``: ``1F 1B 1F B0 mask`` (M)."""
    return US_PREFIX + b"\xb0" + _ip("mask", mask)


def set_gateway(gateway: str) -> bytes:
    """XSDK ``setGateway``: ``1F 1B 1F B1 gw`` (M)."""
    return US_PREFIX + b"\xb1" + _ip("gateway", gateway)


# --- UDP discovery (Xprinter PosUdpNet, H for Xprinter) ------------------------------------------

FIND = b"XP0001FIND"
FOUND = b"XP0001FOUND"
SAVE = b"XP0001SAVE"


class NetSettings(Record):
    """A printer's network settings as discovery reports them: (mac, ip, mask, gateway, dhcp)."""

    __slots__ = ("mac", "ip", "mask", "gateway", "dhcp")
    mac: str
    ip: str
    mask: str
    gateway: str
    dhcp: bool


def _mac(value: str) -> bytes:
    parts = value.replace("-", ":").split(":")
    try:
        raw = bytes(int(p, 16) for p in parts)
    except ValueError:
        raw = b""
    if len(raw) != 6 or any(len(p) != 2 for p in parts):
        raise InvalidData(f"MAC {value!r} is not six hex octets like 00:11:22:33:44:55")
    return raw


def _ip4(raw: bytes) -> str:
    import ipaddress

    return str(ipaddress.IPv4Address(raw))


def _fmt_mac(raw: bytes) -> str:
    return ":".join(f"{b:02X}" for b in raw)


def discovery_request() -> bytes:
    """``XP0001FIND``, broadcast to UDP 9000."""
    return FIND


def discovery_reply(s: NetSettings) -> bytes:
    """``XP0001FOUND`` reply (34 bytes; offsets 17-18 and 31-32 undocumented, sent as zero)."""
    return (
        FOUND
        + _mac(s.mac)
        + b"\x00\x00"
        + _ip("IP", s.ip)
        + _ip("mask", s.mask)
        + _ip("gateway", s.gateway)
        + b"\x00\x00"
        + bytes([1 if s.dhcp else 0])
    )


def parse_discovery_reply(packet: bytes) -> NetSettings:
    """Decode an ``XP0001FOUND`` reply; raises InvalidData on anything else."""
    if not packet.startswith(FOUND) or len(packet) < 34:
        raise InvalidData(f"not an XP0001FOUND reply ({len(packet)} bytes)")
    ip4 = lambda off: _ip4(packet[off : off + 4])  # noqa: E731
    return NetSettings(_fmt_mac(packet[11:17]), ip4(19), ip4(23), ip4(27), bool(packet[33]))


def save_request(s: NetSettings) -> bytes:
    """``XP0001SAVE`` (33 bytes): the MAC selects the target printer, so it crosses subnets."""
    return (
        SAVE
        + _mac(s.mac)
        + b"\x22\x00"
        + _ip("IP", s.ip)
        + _ip("mask", s.mask)
        + _ip("gateway", s.gateway)
        + b"\x8c\x17"
        + bytes([1 if s.dhcp else 0])
    )


def parse_save_request(packet: bytes) -> NetSettings:
    """Decode an ``XP0001SAVE`` packet; raises InvalidData on anything else."""
    if not packet.startswith(SAVE) or len(packet) < 33:
        raise InvalidData(f"not an XP0001SAVE packet ({len(packet)} bytes)")
    ip4 = lambda off: _ip4(packet[off : off + 4])  # noqa: E731
    return NetSettings(_fmt_mac(packet[10:16]), ip4(18), ip4(22), ip4(26), bool(packet[32]))
