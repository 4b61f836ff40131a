"""USB transport through pyusb (libusb).

Endpoints come from the device's descriptors (never hard-coded: python-escpos's 0x82/0x01
defaults fail on this family), the printer interface's kernel driver (usblp) is detached
for the job and re-attached on close, and every transfer has a timeout.
"""

from __future__ import annotations

import errno
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import UDEV_HINT, PrinterNotFound, PrinterOffline, PrinterPermissionDenied, PrinterTimeout
from .base import Transport

if TYPE_CHECKING:
    import usb.core

log = logging.getLogger(__name__)

USB_CLASS_PRINTER = 0x07
USB_CLASS_VENDOR = 0xFF


@dataclass(frozen=True)
class UsbDeviceInfo:
    vid: int
    pid: int
    serial: str | None
    manufacturer: str | None
    product: str | None
    bus: int | None
    address: int | None

    @property
    def uri(self) -> str:
        base = f"usb://{self.vid:04x}:{self.pid:04x}"
        return f"{base}?serial={self.serial}" if self.serial else base


def _usb():
    import usb.core
    import usb.util

    return usb.core, usb.util


def _string(util, dev, index) -> str | None:
    if not index:
        return None
    try:
        return util.get_string(dev, index)
    except Exception:  # noqa: BLE001 - USBError, ValueError (no langid), …: all mean "no string"
        return None


def _find(core, **kw):
    try:
        return list(core.find(find_all=True, **kw))
    except core.NoBackendError:
        raise PrinterNotFound("no USB backend: install libusb-1.0 (Debian: apt install libusb-1.0-0)") from None


def list_devices(backend=None, vid: int | None = None, pid: int | None = None) -> list[UsbDeviceInfo]:
    """USB devices with a printer-class or vendor-class interface (optionally one VID:PID)."""
    core, util = _usb()
    kw = {"backend": backend}
    if vid is not None:
        kw["idVendor"] = vid
    if pid is not None:
        kw["idProduct"] = pid
    out = []
    for dev in _find(core, **kw):
        if _printer_interface(dev) is None:
            continue
        out.append(
            UsbDeviceInfo(
                dev.idVendor,
                dev.idProduct,
                _string(util, dev, dev.iSerialNumber),
                _string(util, dev, dev.iManufacturer),
                _string(util, dev, dev.iProduct),
                getattr(dev, "bus", None),
                getattr(dev, "address", None),
            )
        )
    return out


def _printer_interface(dev):
    """(interface, out endpoint, in endpoint) of the first interface with a bulk OUT endpoint,
    printer class before vendor class. Reads descriptors only: no device open needed."""
    _, util = _usb()
    interfaces = [i for cfg in dev for i in cfg if i.bInterfaceClass in (USB_CLASS_PRINTER, USB_CLASS_VENDOR)]
    interfaces.sort(key=lambda i: i.bInterfaceClass != USB_CLASS_PRINTER)
    for intf in interfaces:
        bulk = [e for e in intf if util.endpoint_type(e.bmAttributes) == util.ENDPOINT_TYPE_BULK]
        ep_out = next((e for e in bulk if util.endpoint_direction(e.bEndpointAddress) == util.ENDPOINT_OUT), None)
        ep_in = next((e for e in bulk if util.endpoint_direction(e.bEndpointAddress) == util.ENDPOINT_IN), None)
        if ep_out is not None:
            return intf, ep_out, ep_in
    return None


class UsbTransport(Transport):
    scheme = "usb"

    def __init__(self, vid: int, pid: int, serial: str | None = None, backend=None, **kw):
        super().__init__(**kw)
        self.vid, self.pid, self.serial = vid, pid, serial
        self.backend = backend
        self._dev: usb.core.Device | None = None
        self._intf: int | None = None  # the claimed interface's number
        self._out: usb.core.Endpoint | None = None
        self._in: usb.core.Endpoint | None = None
        self._reattach = False
        self._pending = bytearray()  # a USB read returns whole packets; keep what was not asked for

    @property
    def uri(self) -> str:
        base = f"usb://{self.vid:04x}:{self.pid:04x}"
        return f"{base}?serial={self.serial}" if self.serial else base

    def _usb_error(self, exc, doing: str):
        if getattr(exc, "errno", None) == errno.EACCES:
            return PrinterPermissionDenied(f"{self.uri}: permission denied while {doing}; {UDEV_HINT}")
        if getattr(exc, "errno", None) == errno.EBUSY:
            return PrinterOffline(f"{self.uri}: device busy while {doing} (another program or CUPS has claimed it)")
        if getattr(exc, "errno", None) in (errno.ENODEV, errno.ENOENT):
            return PrinterOffline(f"{self.uri}: device disconnected while {doing}")
        return PrinterOffline(f"{self.uri}: USB error while {doing}: {exc}")

    def _open(self) -> None:
        core, util = _usb()
        devices = _find(core, idVendor=self.vid, idProduct=self.pid, backend=self.backend)
        if self.serial is not None:
            devices = [d for d in devices if _string(util, d, d.iSerialNumber) == self.serial]
        if not devices:
            extra = f" with serial {self.serial}" if self.serial else ""
            raise PrinterNotFound(
                f"{self.uri}: no USB device {self.vid:04x}:{self.pid:04x}{extra} "
                "(unplugged, powered off, or in VCOM mode as /dev/ttyACM*)"
            )
        dev = devices[0]
        found = _printer_interface(dev)
        if found is None:
            raise PrinterNotFound(f"{self.uri}: device has no printer interface with a bulk OUT endpoint")
        intf, out, self._in = found
        self._out = out
        n = intf.bInterfaceNumber
        try:
            if dev.is_kernel_driver_active(n):
                dev.detach_kernel_driver(n)
                self._reattach = True
        except NotImplementedError:
            pass  # backends without kernel drivers (Windows, macOS)
        except core.USBError as exc:
            raise self._usb_error(exc, "detaching the kernel driver") from None
        try:
            try:
                dev.get_active_configuration()
            except core.USBError:
                dev.set_configuration()
            util.claim_interface(dev, n)
        except core.USBError as exc:
            self._dev, self._intf = dev, n
            self._close()
            raise self._usb_error(exc, "claiming the interface") from None
        self._dev, self._intf = dev, n
        self.can_read = self._in is not None
        log.debug(
            "usb %s: interface %d, out 0x%02x, in %s",
            self.uri,
            n,
            out.bEndpointAddress,
            self._in and f"0x{self._in.bEndpointAddress:02x}",
        )

    def _write(self, chunk: memoryview) -> None:
        core, _ = _usb()
        assert self._out is not None  # write() opens first
        try:
            self._out.write(bytes(chunk), timeout=int(self.write_timeout * 1000))
        except core.USBTimeoutError:
            raise PrinterTimeout(
                f"{self.uri}: printer did not take data for {self.write_timeout:g} s after "
                f"{self.bytes_written} bytes (busy, paper out or cover open?)"
            ) from None
        except core.USBError as exc:
            err = self._usb_error(exc, f"writing after {self.bytes_written} bytes")
            self.close()
            raise err from None

    def _read(self, size: int, timeout: float) -> bytes:
        if self._in is None:
            return b""
        if self._pending:
            out = bytes(self._pending[:size])
            del self._pending[:size]
            return out
        core, _ = _usb()
        try:
            data = self._in.read(max(size, self._in.wMaxPacketSize), timeout=max(1, int(timeout * 1000)))
        except core.USBTimeoutError:
            return b""
        except core.USBError as exc:
            err = self._usb_error(exc, "reading")
            self.close()
            raise err from None
        self._pending += bytes(data)[size:]
        return bytes(data)[:size]

    def _close(self) -> None:
        if self._dev is None:
            return
        core, util = _usb()
        try:
            util.release_interface(self._dev, self._intf)
        except core.USBError:
            pass
        if self._reattach:
            try:
                self._dev.attach_kernel_driver(self._intf)
            except (core.USBError, NotImplementedError) as exc:
                log.warning("%s: could not re-attach the kernel driver: %s", self.uri, exc)
            self._reattach = False
        util.dispose_resources(self._dev)
        self._dev = self._out = self._in = None
