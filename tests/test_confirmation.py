"""End-of-job confirmation (reference §11): a job counts as printed only when the printer
answers the buffer-ordered ``GS r 1`` sent behind it; ``DLE EOT`` replies, which the printer
sends at once, share the same stream and must not be mistaken for it (or swallowed by it)."""

from __future__ import annotations

import time

import pytest

from escpos809.errors import JobNotConfirmed, JobUnconfirmed, PrinterOffline, PrinterTimeout
from escpos809.printer import Printer
from escpos809.transport.memory import MemoryTransport
from tests.conftest import h
from tests.real.servers import FakeTcpPrinter, wait_for

READY = {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12}
PAPER_OUT = {1: 0x1A, 2: 0x32, 3: 0x12, 4: 0x7E}


class Scripted:
    """A responder for the memory transport: answers DLE EOT n from ``status`` at once, and
    GS r 1 only when ``release()`` is called (the mechanism reaching it), in order."""

    def __init__(self, status=READY, confirm_replies=None, confirms=True):
        self.status, self.confirms = dict(status), confirms
        self.confirm_replies = list(confirm_replies or [])
        self.owed = 0
        self.transport: MemoryTransport | None = None

    def __call__(self, chunk: bytes) -> bytes:
        out = bytearray()
        i = 0
        while i + 2 < len(chunk):
            if chunk[i : i + 2] == b"\x10\x04" and chunk[i + 2] in self.status:
                out.append(self.status[chunk[i + 2]])
                i += 3
            elif chunk[i : i + 3] == b"\x1dr\x01":
                self.owed += 1
                i += 3
            else:
                i += 1
        return bytes(out)

    def release(self, n: int = 1) -> None:
        """The mechanism printed up to the next ``n`` GS r requests: their answers go out."""
        for _ in range(n):
            assert self.owed
            self.owed -= 1
            self.transport.feed(bytes([self.confirm_replies.pop(0) if self.confirm_replies else 0x00]))


def scripted(**kw) -> tuple[Printer, MemoryTransport, Scripted]:
    s = Scripted(**kw)
    t = MemoryTransport(responder=s)
    s.transport = t
    return Printer(t), t, s


def test_send_job_puts_gs_r_1_behind_the_job():
    p, t, s = scripted()
    with p:
        p.send_job(b"\x1b@JOB\n")
        assert p.awaiting == 1 and s.owed == 1
    assert bytes(t.written) == b"\x1b@JOB\n" + h("1D 72 01")
    assert p.awaiting == 0  # owed confirmations die with the connection


def test_confirmations_and_status_replies_share_the_stream():
    """Two jobs on their way, a status asked in between: DLE EOT replies come at once, the GS r
    answers when the mechanism gets there, and each kind goes where it belongs."""
    p, t, s = scripted(confirm_replies=[0x03, 0x00])
    with p:
        p.send_job(b"ONE\n")
        p.send_job(b"TWO\n")
        s.release()  # ONE printed (paper near end) before we ask the status
        st = p.status()
        assert st.known and st.ready  # the 0x03 confirmation was not read as a status byte
        assert p.wait_confirmation(0.1) == 0x03
        assert p.wait_confirmation(0.1) is None  # TWO not printed yet
        s.release()
        assert p.wait_confirmation(0.1) == 0x00
        assert p.awaiting == 0


def test_a_status_drain_does_not_swallow_owed_confirmations():
    p, t, s = scripted()
    with p:
        p.send_job(b"JOB\n")
        s.release()
        p.status(drain=True)
        assert p.wait_confirmation(0.1) == 0x00


def test_stale_status_bytes_are_not_confirmations():
    p, t, s = scripted()
    with p:
        p.send_job(b"JOB\n")
        t.feed(b"\x12\x16")  # replies to DLE EOT queries inside a raw job: not the GS r answer
        assert p.wait_confirmation(0.1) is None
        s.release()
        assert p.wait_confirmation(0.1) == 0x00


def test_confirm_waits_while_the_printer_holds_the_job():
    p, t, s = scripted(status=PAPER_OUT)
    seen = []
    with p:
        p.send_job(b"JOB\n")
        with pytest.raises(JobNotConfirmed, match="paper out"):
            p.confirm(5.0, wait_s=0.3, poll_s=0.05, on_status=lambda st: seen.append(st.problems()) or True)
    assert seen and all("paper out" in x for x in seen)


def test_on_status_false_stops_the_wait():
    p, t, s = scripted(status=PAPER_OUT)
    with p:
        p.send_job(b"JOB\n")
        t0 = time.monotonic()
        with pytest.raises(JobNotConfirmed):
            p.confirm(5.0, poll_s=0.05, on_status=lambda st: False)
        assert time.monotonic() - t0 < 2


def test_a_printer_that_answers_status_but_never_confirms():
    p, t, s = scripted()
    with p:
        p.send_job(b"JOB\n")
        with pytest.raises(JobUnconfirmed, match="did not confirm it within"):
            p.confirm(0.3, poll_s=0.05)


def test_a_printer_that_falls_silent_is_not_taken_as_printed():
    p, t, s = scripted()
    with p:
        p.send_job(b"JOB\n")
        s.status = {}  # power gone: nothing answers any more
        with pytest.raises(PrinterTimeout, match="stopped answering"):
            p.confirm(5.0, poll_s=0.05)


def test_budget_grows_with_the_job():
    p = Printer(MemoryTransport())
    small = p.confirm_budget(b"x\n" * 10)
    big = p.confirm_budget(b"x\n" * 20000)
    assert 10 <= small < 11 and big > 60  # 20,000 lines are ~85 m of paper: 280 s at 300 mm/s
    assert p.confirm_budget(size=40000, line_feeds=20000) == big


def test_a_printer_that_answers_nothing_cannot_confirm():
    """A one-way link (USB printer class without a read endpoint answering, a print server):
    delivered, not confirmed, and said why — not an error, not a wait."""
    p = Printer(MemoryTransport(), read_timeout=0.05)
    with p:
        assert p.print_job(b"JOB\n") is False
        assert "answers nothing" in p.unconfirmed_reason
    assert b"\x1dr" not in bytes(p.transport.written)


def test_profile_without_gs_r_delivers_unconfirmed(tmp_path):
    prof = tmp_path / "noconfirm.toml"
    prof.write_text('extends = "ocpp-809"\n[commands]\nconfirm = "none"\n')
    p = Printer(MemoryTransport(), profile=prof)
    assert not p.confirms
    with p:
        assert p.print_job(b"JOB\n") is False
    assert bytes(p.transport.written) == b"JOB\n"  # no GS r for a model that lacks it


def test_bad_confirm_setting_is_refused(tmp_path):
    from escpos809.errors import ProfileError
    from escpos809.profile import load_profile

    prof = tmp_path / "bad.toml"
    prof.write_text('extends = "ocpp-809"\n[commands]\nconfirm = "maybe"\n')
    with pytest.raises(ProfileError, match="commands.confirm must be gs-r or none"):
        load_profile(prof)


# --- over a real socket -------------------------------------------------------------------------


def test_print_job_over_tcp_is_confirmed():
    with FakeTcpPrinter() as srv:
        with Printer(f"tcp://127.0.0.1:{srv.port}") as p:
            assert p.print_job(b"\x1b@HELLO\n") is True
        # the job, then (the printer not heard yet on this link) its status, then GS r 1
        assert wait_for(
            lambda: bytes(srv.received) == b"\x1b@HELLO\n" + h("1D 61 00 10 04 01 10 04 02 10 04 03 10 04 04 1D 72 01")
        )


def test_connection_lost_before_the_confirmation_raises():
    with FakeTcpPrinter(mode="drop", drop_after=10) as srv:
        with Printer(f"tcp://127.0.0.1:{srv.port}?read_timeout=1") as p:
            with pytest.raises((PrinterOffline, PrinterTimeout)):
                p.print_job(b"\x1b@" + b"A LONG JOB\n" * 50)
