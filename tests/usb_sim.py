"""A simulated libusb backend for pyusb: the real pyusb core (find, descriptors, claim,
kernel-driver calls, endpoint read/write) runs against it. It presents this printer family's
descriptors: printer class 07/01/02 with bulk OUT 0x02 (or 0x03) and IN 0x81, 64-byte packets,
and answers DLE EOT like a printer."""

from __future__ import annotations

import errno
from dataclasses import dataclass, field
from types import SimpleNamespace

import usb.backend
import usb.core


def _desc(**kw):
    return SimpleNamespace(extra_descriptors=[], **kw)


@dataclass
class SimPrinter:
    vid: int = 0x0483
    pid: int = 0x5743
    serial: str = "OCPP809-0001"
    product: str = "POS80 Printer USB"
    manufacturer: str = "STMicroelectronics"
    out_ep: int = 0x02
    in_ep: int | None = 0x81
    interface_class: int = 0x07
    status: dict = field(default_factory=lambda: {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12})
    kernel_driver_active: bool = True
    permission_denied: bool = False
    stalled: bool = False  # bulk OUT times out (printer not taking data)
    silent: bool = False  # never answers status
    received: bytearray = field(default_factory=bytearray)
    pending: bytearray = field(default_factory=bytearray)
    log: list = field(default_factory=list)
    bus: int = 1
    address: int = 4


class SimBackend(usb.backend.IBackend):
    def __init__(self, *printers: SimPrinter):
        self.printers = list(printers)

    def enumerate_devices(self):
        return iter(self.printers)

    def get_device_descriptor(self, dev):
        return _desc(
            bLength=18,
            bDescriptorType=1,
            bcdUSB=0x0200,
            bDeviceClass=0,
            bDeviceSubClass=0,
            bDeviceProtocol=0,
            bMaxPacketSize0=64,
            idVendor=dev.vid,
            idProduct=dev.pid,
            bcdDevice=0x0100,
            iManufacturer=1,
            iProduct=2,
            iSerialNumber=3,
            bNumConfigurations=1,
            address=dev.address,
            bus=dev.bus,
            port_number=1,
            port_numbers=(1,),
            speed=2,
        )

    def get_configuration_descriptor(self, dev, config):
        if config != 0:
            raise IndexError(config)
        return _desc(
            bLength=9,
            bDescriptorType=2,
            wTotalLength=32,
            bNumInterfaces=1,
            bConfigurationValue=1,
            iConfiguration=0,
            bmAttributes=0xC0,
            bMaxPower=50,
        )

    def get_interface_descriptor(self, dev, intf, alt, config):
        if intf != 0 or alt != 0:
            raise IndexError(intf)
        return _desc(
            bLength=9,
            bDescriptorType=4,
            bInterfaceNumber=0,
            bAlternateSetting=0,
            bNumEndpoints=2 if dev.in_ep else 1,
            bInterfaceClass=dev.interface_class,
            bInterfaceSubClass=1,
            bInterfaceProtocol=2,
            iInterface=0,
        )

    def get_endpoint_descriptor(self, dev, ep, intf, alt, config):
        eps = [dev.out_ep] + ([dev.in_ep] if dev.in_ep else [])
        if ep >= len(eps):
            raise IndexError(ep)
        return _desc(
            bLength=7,
            bDescriptorType=5,
            bEndpointAddress=eps[ep],
            bmAttributes=0x02,
            wMaxPacketSize=64,
            bInterval=0,
            bRefresh=0,
            bSynchAddress=0,
        )

    def open_device(self, dev):
        if dev.permission_denied:
            raise usb.core.USBError("Access denied (insufficient permissions)", -3, errno.EACCES)
        dev.log.append("open")
        return dev

    def close_device(self, handle):
        handle.log.append("close")

    def set_configuration(self, handle, value):
        handle.log.append(f"set_configuration {value}")

    def get_configuration(self, handle):
        return 1

    def claim_interface(self, handle, intf):
        if handle.kernel_driver_active:
            raise usb.core.USBError("Resource busy", -6, errno.EBUSY)
        handle.log.append(f"claim {intf}")

    def release_interface(self, handle, intf):
        handle.log.append(f"release {intf}")

    def is_kernel_driver_active(self, handle, intf):
        return handle.kernel_driver_active

    def detach_kernel_driver(self, handle, intf):
        handle.kernel_driver_active = False
        handle.log.append(f"detach {intf}")

    def attach_kernel_driver(self, handle, intf):
        handle.kernel_driver_active = True
        handle.log.append(f"attach {intf}")

    def bulk_write(self, handle, ep, intf, data, timeout):
        if ep != handle.out_ep:
            raise usb.core.USBError("Invalid endpoint", -2, errno.EINVAL)
        if handle.stalled:
            raise usb.core.USBTimeoutError("Operation timed out", -7, errno.ETIMEDOUT)
        data = bytes(data)
        handle.received += data
        if not handle.silent:
            for i in range(len(data) - 2):
                if data[i : i + 2] == b"\x10\x04" and data[i + 2] in handle.status:
                    handle.pending.append(handle.status[data[i + 2]])
        return len(data)

    def bulk_read(self, handle, ep, intf, buff, timeout):
        if ep != handle.in_ep:
            raise usb.core.USBError("Invalid endpoint", -2, errno.EINVAL)
        if not handle.pending:
            raise usb.core.USBTimeoutError("Operation timed out", -7, errno.ETIMEDOUT)
        n = min(len(buff), len(handle.pending))
        for i in range(n):  # pyusb hands an array('B'); fill it like libusb does
            buff[i] = handle.pending[i]
        del handle.pending[:n]
        return n

    def ctrl_transfer(self, handle, bmRequestType, bRequest, wValue, wIndex, data, timeout):
        # GET_DESCRIPTOR (string) is all pyusb asks for here: langids and the three strings
        if bRequest != 6 or wValue >> 8 != 3:
            raise usb.core.USBError("Pipe error", -9, errno.EPIPE)
        index = wValue & 0xFF
        if index == 0:
            body = b"\x09\x04"
        else:
            body = {1: handle.manufacturer, 2: handle.product, 3: handle.serial}[index].encode("utf-16-le")
        desc = bytes([2 + len(body), 3]) + body
        n = min(len(data), len(desc))
        for i in range(n):
            data[i] = desc[i]
        return n
