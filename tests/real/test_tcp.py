"""TCP transport against real sockets on 127.0.0.1."""

import socket

import pytest

from escpos809.errors import PrinterNotFound, PrinterOffline, PrinterTimeout
from escpos809.printer import Printer
from escpos809.transport import open_transport
from tests.real.servers import FakeTcpPrinter, wait_for


def test_job_and_status_over_tcp():
    with FakeTcpPrinter() as srv, Printer(f"tcp://127.0.0.1:{srv.port}", read_timeout=1) as p:
        p.initialize()
        p.text("Summe 15,40 €\n")
        p.cut("partial", feed=0)
        st = p.status()
        assert st.known and st.ready
        expected = b"\x1b@\x1c.Summe 15,40 \x1bt\x13\xd5\n\x1dVB\x00"
        assert wait_for(lambda: bytes(srv.received).startswith(expected))


def test_paper_out_and_cover_open_reported():
    status = {1: 0x1A, 2: 0x16, 3: 0x12, 4: 0x72}  # offline, cover open, paper end
    with FakeTcpPrinter(status=status) as srv, Printer(f"tcp://127.0.0.1:{srv.port}", read_timeout=1) as p:
        st = p.status()
        assert st.known and not st.ready
        assert st.cover_open and st.paper_end and "paper out" in st.problems()
        with pytest.raises(PrinterOffline, match="not ready: paper out, cover open"):
            p.ensure_ready()


def test_stale_bytes_are_drained_before_asking():
    with FakeTcpPrinter(mode="junk", status={1: 0x1A, 2: 0x12, 3: 0x12, 4: 0x12}) as srv:
        with Printer(f"tcp://127.0.0.1:{srv.port}", read_timeout=1) as p:
            p.open()
            wait_for(lambda: srv.conns)
            import time

            time.sleep(0.1)  # let the stale bytes arrive
            st = p.status()
    assert st.known and st.online is False  # 0x1A, not the stale 0x12


def test_server_that_never_answers():
    with FakeTcpPrinter(mode="mute") as srv:
        with Printer(f"tcp://127.0.0.1:{srv.port}", read_timeout=0.2, write_timeout=0.5) as p:
            st = p.status()
            assert not st.known and "no reply to DLE EOT 1 within 0.2 s" in st.reason
            with pytest.raises(PrinterTimeout, match="stopped accepting data for 0.5 s"):
                p.send(b"\x00" * 50_000_000)


def test_server_that_closes_mid_write():
    with FakeTcpPrinter(mode="drop", drop_after=10_000) as srv:
        t = open_transport(f"tcp://127.0.0.1:{srv.port}", write_timeout=2, chunk_bytes=4096)
        with pytest.raises(PrinterOffline, match="connection lost after"):
            for _ in range(2000):  # the reset arrives a few writes later
                t.write(b"\x00" * 4096)
        assert not t.is_open


def test_connection_refused_is_not_found():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(PrinterNotFound, match="connection refused"):
        open_transport(f"tcp://127.0.0.1:{port}").open()


def test_unresolvable_host():
    with pytest.raises(PrinterNotFound, match="cannot resolve host"):
        open_transport("tcp://no-such-printer.invalid").open()
    # names the IDNA codec refuses were a UnicodeError (no printer error at all) before
    with pytest.raises(PrinterNotFound, match="cannot resolve host 'a..b'"):
        open_transport("tcp://a..b").open()
    with pytest.raises(PrinterNotFound, match="is not a valid host name"):
        open_transport("tcp://dr\u00fcck" + "e" * 70 + ".invalid").open()


def test_ipv6_loopback():
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        srv = FakeTcpPrinter(family=socket.AF_INET6, host="::1")
    except OSError:
        pytest.skip("no ::1 on this machine")
    with srv, Printer(f"tcp://[::1]:{srv.port}", read_timeout=1) as p:
        assert p.status().ready
        assert p.uri == f"tcp://[::1]:{srv.port}"


def test_close_does_not_cut_off_the_end_of_a_job(tmp_path):
    """DLE EOT bytes inside image data make a printer answer; closing with those answers unread
    would reset the connection and the printer would drop the job's unread tail."""
    from escpos809.emulator import VirtualPrinter
    from escpos809.escpos.commands import raster_image

    rows = bytes([0x10, 0x04, 0x01] * 24)[:72]
    data = b"".join(raster_image(72, 24, rows * 24) for _ in range(200))  # 60 cm of DLE EOT-laden stripes
    with VirtualPrinter(tmp_path, throttle=True) as vp:
        with Printer(vp.uri) as p:
            p.send(data)
        assert vp.wait_idle(20)
        job = next(j for j in vp.jobs if j.bytes > 1000)
        assert job.bytes == len(data)
        assert sum(op.args["rows"] for op in job.ops if op.kind == "raster") == 200 * 24
