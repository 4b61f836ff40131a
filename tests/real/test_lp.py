"""The lp transport on a real character device (a pty stands in for /dev/usb/lp0) and a file."""

import os

import pytest

from escpos809.errors import PrinterNotFound, PrinterPermissionDenied
from escpos809.printer import Printer
from escpos809.transport import open_transport


def test_lp_writes_to_a_character_device():
    master, slave = os.openpty()
    try:
        path = os.ttyname(slave)
        with Printer(f"lp://{path}") as p:
            p.send(b"\x1b@hello\n")
        os.set_blocking(master, False)
        assert os.read(master, 100).replace(b"\r\n", b"\n") == b"\x1b@hello\n"
    finally:
        os.close(master)
        os.close(slave)


def test_lp_to_a_file_and_status_unknown(tmp_path):
    f = tmp_path / "job.bin"
    f.write_bytes(b"")
    with Printer(f"lp://{f}", read_timeout=0.05) as p:
        p.cut("full")
        st = p.status()
    assert f.read_bytes().startswith(b"\x1dV\x00")
    assert not st.known


def test_lp_missing_device():
    with pytest.raises(PrinterNotFound, match="no such device /dev/usb/lp9"):
        open_transport("lp:///dev/usb/lp9").open()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file modes")
def test_lp_permission_denied_has_the_udev_hint(tmp_path):
    f = tmp_path / "lp0"
    f.write_bytes(b"")
    f.chmod(0o400)
    with pytest.raises(PrinterPermissionDenied, match="udev"):
        open_transport(f"lp://{f}").open()
