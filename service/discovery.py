"""Zeroconf: the API as ``_http._tcp`` and ``_escpos809._tcp``, and each network printer as
``_pdl-datastream._tcp`` (Bonjour Printing TXT keys) with its ``_printer._tcp`` name reservation
on port 0, as CUPS does. Advertised only on the interfaces the service listens on: a service
bound to loopback is announced on loopback alone."""

from __future__ import annotations

import logging
import socket
import threading
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:  # zeroconf is the service extra's, imported when advertising starts
    from zeroconf import InterfaceChoice, ServiceInfo, Zeroconf

    from escpos809.profile import Profile

log = logging.getLogger(__name__)

API_TYPES = ("_http._tcp.local.", "_escpos809._tcp.local.")
PRINTER_TYPE, RESERVE_TYPE = "_pdl-datastream._tcp.local.", "_printer._tcp.local."


def printer_txt(profile: Profile, name: str, note: str = "") -> dict[str, str]:
    """Bonjour Printing 1.2.1 keys for a raw ESC/POS port."""
    make, _, model = profile.name.partition(" ")
    return {
        "txtvers": "1",
        "qtotal": "1",
        "ty": profile.name,
        "product": f"({model})",
        "pdl": "application/vnd.escpos",
        "note": note or name,
        "priority": "50",
        "usb_MFG": make,
        "usb_MDL": model,
        "usb_CMD": "ESC/POS",
        "Color": "F",
        "Duplex": "F",
        "kind": "receipt",
        "PaperMax": "<legal-A4",
    }


def _network_address(uri: str) -> tuple[str, int] | None:
    """Host and port of a printer reachable over TCP (tcp:// and the virtual printer)."""
    parts = urlsplit(uri)
    if parts.scheme == "tcp" and parts.hostname:
        return parts.hostname, parts.port or 9100
    if parts.scheme == "virtual":
        from escpos809.emulator import virtual_printer

        vp = virtual_printer(parts.netloc or "default")
        return vp._bound_host(), vp.port
    return None


class Advertiser:
    """Registers the services in a background thread (probing takes ~1.7 s) and withdraws them
    on ``close()``."""

    def __init__(self, host: str, port: int, printers: dict[str, str], profile: Profile, instance: str | None = None):
        self.host, self.port, self.printers, self.profile = host, port, printers, profile
        self.instance = instance or f"escpos809 on {socket.gethostname()}"
        self.registered: list[ServiceInfo] = []
        self._zc: Zeroconf | None = None
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()

    def _interfaces(self) -> tuple[InterfaceChoice | list[str], list[str] | None]:
        """The interfaces to announce on, and the addresses to announce (None: the host's own)."""
        from zeroconf import InterfaceChoice

        if self.host in ("0.0.0.0", "::", ""):
            return InterfaceChoice.All, None
        address = socket.gethostbyname(self.host)
        return [address], [address]

    def infos(self) -> list[ServiceInfo]:
        from zeroconf import ServiceInfo

        _, addresses = self._interfaces()
        server = socket.gethostname().split(".")[0] + ".local."
        model = self.profile.name.partition(" ")[2]
        api_txt = {"txtvers": "1", "path": "/api/v1"}
        out = [
            ServiceInfo(
                API_TYPES[0],
                f"{self.instance}.{API_TYPES[0]}",
                self.port,
                properties=api_txt,
                server=server,
                parsed_addresses=addresses,
            ),
            ServiceInfo(
                API_TYPES[1],
                f"{self.instance}.{API_TYPES[1]}",
                self.port,
                properties={**api_txt, "model": model, "dots": str(self.profile.width_dots)},
                server=server,
                parsed_addresses=addresses,
            ),
        ]
        for name, uri in self.printers.items():
            address = _network_address(uri)
            if address is None:
                continue
            host, port = address
            label = f"{model} {name}"
            txt = printer_txt(self.profile, name)
            try:
                ip = socket.gethostbyname(host)
            except OSError:
                log.warning("zeroconf: cannot resolve %s for printer %s; not advertised", host, name)
                continue
            out.append(
                ServiceInfo(
                    PRINTER_TYPE, f"{label}.{PRINTER_TYPE}", port, properties=txt, server=server, parsed_addresses=[ip]
                )
            )
            out.append(
                ServiceInfo(
                    RESERVE_TYPE,
                    f"{label}.{RESERVE_TYPE}",
                    0,
                    properties={"txtvers": "1", "qtotal": "1", "ty": txt["ty"]},
                    server=server,
                    parsed_addresses=addresses,
                )
            )
        return out

    def start(self) -> Advertiser:
        self._thread = threading.Thread(target=self._register, name="zeroconf", daemon=True)
        self._thread.start()
        return self

    def _register(self) -> None:
        from zeroconf import IPVersion, Zeroconf

        try:
            interfaces, _ = self._interfaces()
            self._zc = zc = Zeroconf(interfaces=interfaces, ip_version=IPVersion.V4Only)
            for info in self.infos():
                if self._closed.is_set():
                    return
                zc.register_service(info, allow_name_change=True)
                self.registered.append(info)
                log.info("zeroconf: advertised %s", info.name)
        except Exception as exc:  # noqa: BLE001 - discovery is a convenience: never stop printing for it
            log.warning("zeroconf: not advertising: %s", exc)

    def close(self) -> None:
        self._closed.set()
        if self._thread:
            self._thread.join(10)
        if self._zc is not None:
            try:
                self._zc.unregister_all_services()
            finally:
                self._zc.close()
