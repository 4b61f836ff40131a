"""The virtual printer's receive buffer and mechanism on real sockets (and a real pty): GS r is
buffer-ordered and answered only once the paper before it is printed and on disk, DLE EOT is
answered on arrival, a paused printer answers no GS r, the host's writes block on a full
buffer, status-only connections are no jobs. Times come from the printer's own event log."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time

import pytest
from PIL import Image

from escpos809.emulator import VirtualPrinter
from escpos809.printer import Printer
from tests.conftest import h

GS_R1, DLE_EOT1, DLE_EOT2 = h("1D 72 01"), h("10 04 01"), h("10 04 02")
INIT = h("1B 40 1C 2E")
CUT = h("1D 56 42 00")


def connect(vp: VirtualPrinter, timeout: float = 10) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", vp.port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def recv_exactly(s: socket.socket, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise ConnectionError("closed")
        out += chunk
    return out


def events(vp: VirtualPrinter, kind: str) -> list[tuple[float, dict]]:
    return [(t, info) for t, k, _, info in list(vp.events) if k == kind]


def speed(vp: VirtualPrinter) -> float:
    return vp.profile.speed_mm_s * vp.profile.dpi / 25.4  # dots per second


def close(s: socket.socket) -> None:
    s.shutdown(socket.SHUT_WR)
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass
    s.close()


def test_gs_r_waits_for_the_paper_dle_eot_does_not(tmp_path):
    with VirtualPrinter(tmp_path / "p", throttle=True) as vp:
        s = connect(vp)
        feed = h("1B 4A F0") * 5  # 1,200 dots = 150 mm: 0.5 s at 300 mm/s
        s.sendall(INIT + feed + GS_R1 + DLE_EOT1)
        first, second = recv_exactly(s, 1), recv_exactly(s, 1)
        close(s)
        assert vp.wait_idle(10)
    # the real-time reply overtakes the buffer-ordered one
    assert (first, second) == (b"\x12", b"\x00")
    t_data = events(vp, "data")[0][0]
    ((t_status, _),) = events(vp, "status")
    ((t_confirm, info),) = events(vp, "confirm")
    paper = 1200 / speed(vp)
    assert t_status - t_data < 0.25 * paper  # answered on arrival
    assert t_confirm - t_data >= 0.95 * paper  # answered after the paper time of what came before
    assert t_confirm - t_data < paper + 3.0
    printed = [t for t, _ in events(vp, "printed")]
    assert len(printed) == 5 and printed[-1] <= t_confirm  # every line on paper before the reply
    assert info["n"] == 1 and info["reply"] == "00"


def test_mechanism_runs_about_a_line_ahead_of_the_paper(tmp_path):
    with VirtualPrinter(tmp_path / "p", throttle=True) as vp:
        s = connect(vp)
        s.sendall(INIT + b"line of text\n" * 60)  # 60 x 32 dots: 0.8 s of paper
        ahead = []
        end = time.monotonic() + 0.6
        while time.monotonic() < end:
            ahead.append(vp.paper_busy_until - time.monotonic())
            time.sleep(0.01)
        close(s)
        assert vp.wait_idle(10)
    line = 32 / speed(vp)
    assert max(ahead) <= 2 * line + 0.01, max(ahead)  # never more than the line printing + the next one
    assert vp.pending == 0


def test_gs_r_not_answered_while_paper_out_then_after_reload(tmp_path):
    with VirtualPrinter(tmp_path / "p") as vp:
        vp.faults.paper_mm = 10.0  # 80 dots: runs out in the third line
        s = connect(vp, timeout=0.5)
        s.sendall(INIT + b"".join(b"line %d\n" % k for k in range(10)) + CUT + GS_R1)
        end = time.monotonic() + 5
        while not vp.faults.paper_out and time.monotonic() < end:
            time.sleep(0.01)
        s.sendall(DLE_EOT2)
        assert recv_exactly(s, 1) == b"\x32"  # DLE EOT 2: stopped for paper end, answered at once
        with pytest.raises(socket.timeout):
            s.recv(1)  # no GS r reply while the paper is out
        assert vp.faults.paper_out and vp.pending > 0
        vp.faults.paper_out, vp.faults.paper_near_end, vp.faults.paper_mm = False, False, None  # a new roll
        s.settimeout(5)
        assert recv_exactly(s, 1) == b"\x00"  # now processed: paper present
        host, port = s.getsockname()[:2]
        source = f"tcp {host}:{port:d}"
        close(s)
        job = vp.wait_job(source)
    assert [op.text for op in job.ops if op.kind == "text"] == [f"line {k}" for k in range(10)]  # nothing lost
    assert job.confirmed == 1


def test_pages_are_on_disk_before_the_gs_r_reply(tmp_path):
    out = tmp_path / "p"
    with VirtualPrinter(out, throttle=True) as vp:
        s = connect(vp)
        s.sendall(INIT + b"RECEIPT ONE\n" * 8 + CUT + b"half a page\n" * 3 + GS_R1)
        assert recv_exactly(s, 1) == b"\x00"
        # at the reply: the cut page whole, the uncut rest as it stands, job.json naming both
        folder = out / "job-0001"
        log = json.loads((folder / "job.json").read_text())
        assert log["pages"] == ["page-1.png", "page-2.png"] and log["open_page"] == "page-2.png"
        assert log["state"] == "printing" and log["confirmed"] == 1
        first, rest = Image.open(folder / "page-1.png"), Image.open(folder / "page-2.png")
        first.load(), rest.load()
        assert first.height == 8 * 32 + 24 and rest.height == 3 * 32  # 8 lines + the cut margin; 3 lines
        s.sendall(b"more\n" + CUT)
        close(s)
        assert vp.wait_idle(10)
    log = json.loads((out / "job-0001" / "job.json").read_text())
    assert log["state"] == "done" and log["open_page"] is None and log["pages"] == ["page-1.png", "page-2.png"]
    with Image.open(out / "job-0001" / "page-2.png") as page:
        assert page.height == 4 * 32 + 24  # the page grew and was cut
    assert [p["end"] for p in log["page_info"]] == ["cut", "cut"]


def test_status_only_connections_are_not_jobs(tmp_path):
    out = tmp_path / "p"
    with VirtualPrinter(out) as vp:
        for _ in range(3):
            with Printer(vp.uri, read_timeout=1) as p:
                assert p.status().ready
        s = connect(vp)
        s.sendall(GS_R1 + h("1D 72 02") + h("1D 61 0F") + h("1B 76"))
        assert recv_exactly(s, 1 + 1 + 4 + 4)[:2] == b"\x00\x00"  # GS r 1, GS r 2, ASB, ESC v
        close(s)
        assert vp.wait_idle(5)
        assert vp.jobs == [] and not list(out.glob("job-*"))
        with Printer(vp.uri) as p:
            p.text("first real job\n")
        assert vp.wait_idle(5)
    assert [j.number for j in vp.jobs] == [1] and (out / "job-0001" / "page-1.png").exists()


def test_a_full_receive_buffer_blocks_the_host(tmp_path):
    with VirtualPrinter(tmp_path / "p", receive_buffer=4096) as vp:
        vp.faults.cover_open = True
        s = connect(vp, timeout=1.0)
        with pytest.raises(socket.timeout):
            s.sendall(b"x" * 20_000_000)  # the kernel's buffers fill behind the printer's
        end = time.monotonic() + 5
        while vp.buffer.used < 4096 and time.monotonic() < end:
            time.sleep(0.01)
        [session] = vp.open_sessions()
        assert vp.buffer.used == 4096 and session.bytes == 4096  # took exactly what fits
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()  # reset: the megabytes still in the kernel's buffers never arrive
        vp.faults.cover_open = False
        assert vp.wait_idle(30)
    assert vp.jobs[0].bytes >= 4096


def test_gs_r_over_a_serial_pty(tmp_path):
    serial = pytest.importorskip("serial")
    with VirtualPrinter(tmp_path / "p", serial=True, throttle=True, idle_s=0.3) as vp:
        with serial.Serial(vp.serial_path, 115200, timeout=5) as port:
            port.write(INIT + b"over the line\n" * 20 + CUT + GS_R1)
            start = time.monotonic()
            assert port.read(1) == b"\x00"
            took = time.monotonic() - start
        assert vp.wait_idle(10)
        job = vp.jobs[-1]
    assert took >= 0.9 * (20 * 32) / speed(vp)  # after the 20 lines' paper time
    assert job.source.startswith("serial") and job.confirmed == 1 and len(job.pages) == 1


def test_many_receipts_confirmed_one_by_one_keep_order(tmp_path):
    """A spooler's loop: job, GS r, wait, next job — over one connection."""
    out = tmp_path / "p"
    with VirtualPrinter(out, receive_buffer=4096) as vp:
        s = connect(vp)
        for k in range(20):
            s.sendall(b"RECEIPT %02d\n" % k + CUT + GS_R1)
            assert recv_exactly(s, 1) == b"\x00"
            assert (out / "job-0001" / f"page-{k + 1}.png").exists()
        close(s)
        assert vp.wait_idle(10)
    job = vp.jobs[0]
    assert job.confirmed == 20 and len(job.pages) == 20
    assert [op.text for op in job.ops if op.kind == "text"] == [f"RECEIPT {k:02d}" for k in range(20)]


def test_throttled_printer_fed_in_time_never_waits(tmp_path):
    with VirtualPrinter(tmp_path / "p", throttle=True) as vp:
        s = connect(vp)

        def feed():
            for _ in range(20):
                s.sendall(b"receipt line\n" * 3 + CUT)

        t = threading.Thread(target=feed)
        t.start()
        t.join(30)
        close(s)
        assert vp.wait_idle(20)
    assert vp.paper_idle_s < 0.05  # fed faster than it prints: the paper never stood waiting


def test_a_job_printed_before_the_paper_ran_out_is_confirmed(tmp_path):
    """The paper runs out inside the second receipt: the first one's GS r is answered (its
    paper was printed before), the second one's waits for a new roll."""

    def receipt(k: int) -> bytes:
        return b"\x1b@" + b"".join(b"R%d line %d\n" % (k, i) for i in range(12)) + b"\x1dVB\x00"

    with VirtualPrinter(tmp_path / "paper") as vp:
        vp.faults.paper_mm = 60  # the first receipt is 48 mm
        with Printer(vp.uri) as p:
            p.send_job(receipt(0))
            p.send_job(receipt(1))
            # confirmed (its sensor bits say near end or, once the second ran it out, paper end)
            first = p.wait_confirmation(5)
            assert first is not None and first & 0x03
            assert p.wait_confirmation(0.5) is None
            vp.faults.paper_mm, vp.faults.paper_out, vp.faults.paper_near_end = None, False, False
            assert p.wait_confirmation(5) == 0x00
