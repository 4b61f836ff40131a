"""The virtual printer's link model: ``--baud`` paces what it takes as a serial line (8N1, ten
bits a byte) and takes it in slices of about 10 ms of line time, so a small receive buffer
fills and drains smoothly (benchmarks/bench_kept_fed.py runs 100 receipts through it)."""

from __future__ import annotations

import time

from escpos809.emulator import VirtualPrinter
from escpos809.emulator.link import LinkPace, baud_to_bytes_per_s
from escpos809.printer import Printer

from .emulate import emulate


def test_8n1_carries_ten_bits_a_byte():
    assert baud_to_bytes_per_s(115_200) == 11_520 and baud_to_bytes_per_s(9_600) == 960
    assert LinkPace(11_520).slice() == 115  # 10 ms of line


def test_bytes_arrive_at_line_speed_in_small_slices(tmp_path):
    data = b"".join(b"line %02d of a receipt paced by the serial link\n" % i for i in range(60))  # 3,000 bytes
    with VirtualPrinter(tmp_path / "paper", receive_buffer=4096) as vp:
        vp.slow_bps = baud_to_bytes_per_s(57_600)  # 5,760 bytes/s: 3,000 bytes take 0.52 s
        start = time.monotonic()
        with Printer(vp.uri, read_timeout=2) as p:
            assert p.print_job(data)  # confirmed: GS r 1 came back after the last byte
        took = time.monotonic() - start
        arrivals = [(t, d["n"]) for t, kind, _, d in vp.events if kind == "data"]
    wire = (len(data) + 3) / 5_760  # + GS r 1
    assert took >= wire * 0.97, took
    assert max(n for _, n in arrivals) <= LinkPace(5_760).slice()
    assert sum(n for _, n in arrivals) >= len(data)
    # the line's clock: the last slice cannot arrive before the bytes could have crossed it
    assert arrivals[-1][0] - arrivals[0][0] >= wire * 0.9


def test_emulate_takes_baud(tmp_path):
    proc = emulate(tmp_path / "paper", "--baud", "9600")
    try:
        uri = proc.stdout.readline().split(" on ", 1)[1].strip() if proc.stdout else ""
        start = time.monotonic()
        with Printer(uri, read_timeout=2) as p:
            assert p.print_job(b"x" * 477 + b"\n")  # 481 bytes with GS r 1, 960 bytes/s
        assert time.monotonic() - start >= 0.48
    finally:
        proc.terminate()
        proc.wait(10)


def test_the_serial_port_is_paced_too(tmp_path):
    data = b"".join(b"serial line %02d paced at 57,600 baud\n" % i for i in range(60))
    with VirtualPrinter(tmp_path / "paper", serial=True, receive_buffer=4096) as vp:
        vp.slow_bps = baud_to_bytes_per_s(57_600)
        start = time.monotonic()
        with Printer(f"serial://{vp.serial_path}?baudrate=57600", read_timeout=2) as p:
            assert p.print_job(data)
        took = time.monotonic() - start
        arrivals = [d["n"] for _, kind, _, d in vp.events if kind == "data"]
    assert took >= (len(data) + 3) / 5_760 * 0.97, took
    assert max(arrivals) <= LinkPace(5_760).slice()
