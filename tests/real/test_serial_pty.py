"""Serial transport over a real pseudo-terminal pair, pyserial on our side."""

import os
import select
import threading
import tty

import pytest

from escpos809.errors import PrinterNotFound, PrinterTimeout
from escpos809.printer import Printer


class PtyPrinter:
    """The master side of a pty plays the printer: collects bytes, answers DLE EOT."""

    def __init__(self, status=None, answer=True, read=True):
        self.master, self.slave = os.openpty()
        tty.setraw(self.master)
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self.status = status or {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12}
        self.answer, self.read = answer, read
        self.received = bytearray()
        self._stop = False
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop and self.read:
            r, _, _ = select.select([self.master], [], [], 0.05)
            if not r:
                continue
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            self.received += data
            if self.answer:
                for i in range(len(data) - 2):
                    if data[i : i + 2] == b"\x10\x04":
                        os.write(self.master, bytes([self.status[data[i + 2]]]))

    def close(self):
        self._stop = True
        self._t.join(1)
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def pty_printer():
    made = []

    def make(**kw):
        made.append(PtyPrinter(**kw))
        return made[-1]

    yield make
    for p in made:
        p.close()


@pytest.mark.parametrize("flow", ["none", "xonxoff"])
def test_job_and_status_over_a_pty(pty_printer, flow):
    dev = pty_printer(status={1: 0x12, 2: 0x12, 3: 0x12, 4: 0x1E})  # paper near end
    with Printer(f"serial://{dev.path}?baudrate=115200&flow={flow}", read_timeout=1) as p:
        p.initialize()
        p.text("Привет\n")
        st = p.status()
    assert st.known and st.ready and st.paper_near_end
    assert bytes(dev.received).startswith(b"\x1b@\x1c.\x1bt\x11\x8f\xe0\xa8\xa2\xa5\xe2\n")


def test_silent_serial_printer_is_unknown(pty_printer):
    dev = pty_printer(answer=False)
    with Printer(f"serial://{dev.path}", read_timeout=0.2) as p:
        st = p.status()
    assert not st.known and "no reply" in st.reason


def test_write_timeout_when_nobody_reads(pty_printer):
    dev = pty_printer(read=False)
    with Printer(f"serial://{dev.path}?timeout=0.3", read_timeout=0.1) as p:
        with pytest.raises(PrinterTimeout, match="did not take data for 0.3 s"):
            p.send(b"x" * 1_000_000)


def test_missing_serial_port():
    with pytest.raises(PrinterNotFound, match="no serial port /dev/ttyNOPE0"):
        Printer("serial:///dev/ttyNOPE0").open()
