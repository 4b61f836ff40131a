"""USB through the real pyusb core with a simulated backend (no device can be plugged in here)."""

import pytest

from escpos809.errors import PrinterNotFound, PrinterPermissionDenied, PrinterTimeout
from escpos809.printer import Printer
from escpos809.transport import open_transport
from escpos809.transport.usb import list_devices
from tests.usb_sim import SimBackend, SimPrinter


def test_endpoints_from_descriptors_and_driver_detach_reattach():
    dev = SimPrinter()
    with Printer("usb://0483:5743", backend=SimBackend(dev), write_timeout=1, read_timeout=0.2) as p:
        assert not dev.kernel_driver_active  # usblp detached while we hold the interface
        p.initialize()
        p.text("Grüße\n")
        p.cut("full")
        st = p.status()
    assert st.known and st.ready
    assert dev.kernel_driver_active  # and given back on close
    assert dev.log.index("detach 0") < dev.log.index("claim 0") < dev.log.index("release 0") < dev.log.index("attach 0")
    assert bytes(dev.received).startswith(b"\x1b@\x1c.Gr\x1bt\x13\x81\xe1e\n\x1dV\x00")


def test_winbond_ids_with_out_endpoint_3():
    dev = SimPrinter(vid=0x0416, pid=0x5011, out_ep=0x03)
    t = open_transport("usb://0416:5011", backend=SimBackend(dev))
    with t:
        t.write(b"hello")
    assert bytes(dev.received) == b"hello"


def test_vendor_class_interface_and_write_only_device():
    dev = SimPrinter(interface_class=0xFF, in_ep=None)
    with Printer("usb://0483:5743", backend=SimBackend(dev)) as p:
        st = p.status()
    assert not st.known and "write-only" in st.reason


def test_serial_number_selects_the_device():
    a, b = SimPrinter(serial="AAA", address=4), SimPrinter(serial="BBB", address=5)
    backend = SimBackend(a, b)
    with open_transport("usb://0483:5743?serial=BBB", backend=backend) as t:
        t.write(b"x")
    assert bytes(b.received) == b"x" and not a.received
    with pytest.raises(PrinterNotFound, match="with serial CCC"):
        open_transport("usb://0483:5743?serial=CCC", backend=backend).open()


def test_listing_reports_uris_and_strings():
    devices = list_devices(SimBackend(SimPrinter(), SimPrinter(vid=0x0416, pid=0x5011, serial="", address=7)))
    assert [d.uri for d in devices] == ["usb://0483:5743?serial=OCPP809-0001", "usb://0416:5011"]
    assert devices[0].product == "POS80 Printer USB" and devices[0].manufacturer == "STMicroelectronics"


def test_not_found_and_permission_denied_with_udev_hint():
    with pytest.raises(PrinterNotFound, match="no USB device 1fc9:2016"):
        open_transport("usb://1fc9:2016", backend=SimBackend(SimPrinter())).open()
    dev = SimPrinter(permission_denied=True)
    with pytest.raises(PrinterPermissionDenied, match="udev"):
        open_transport("usb://0483:5743", backend=SimBackend(dev)).open()


def test_write_timeout_is_an_error_not_a_hang():
    dev = SimPrinter(stalled=True)
    t = open_transport("usb://0483:5743", backend=SimBackend(dev), write_timeout=0.1)
    with pytest.raises(PrinterTimeout, match="did not take data for 0.1 s"):
        t.write(b"x" * 10)
    t.close()
    assert dev.kernel_driver_active


def test_silent_device_status_unknown_after_read_timeout():
    dev = SimPrinter(silent=True)
    with Printer("usb://0483:5743", backend=SimBackend(dev), read_timeout=0.05) as p:
        st = p.status()
    assert not st.known and "no reply to DLE EOT 1" in st.reason


def test_paper_out_reported():
    dev = SimPrinter(status={1: 0x1A, 2: 0x32, 3: 0x12, 4: 0x72})
    with Printer("usb://0483:5743", backend=SimBackend(dev), read_timeout=0.2) as p:
        st = p.status()
    assert st.known and st.paper_end and not st.online and "paper out" in st.problems()
