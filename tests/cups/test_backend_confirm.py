"""The backend's end-of-job confirmation, in process against real sockets: exit 0 only once
the printer confirmed the job; a printer that holds the job (paper out) keeps the job
processing with the reason shown; one that never confirms gets the job held, not retried."""

from __future__ import annotations

import io
import threading
import time

from escpos809.cups import backend
from escpos809.emulator import VirtualPrinter
from escpos809.printer import Printer
from tests.real.servers import FakeTcpPrinter
from tests.service.conftest import printed_texts

JOB = b"\x1b@BACKEND JOB\n\x1dVB\x00"


def run(uri: str, data: bytes = JOB) -> tuple[int, list[str]]:
    lines: list[str] = []
    code = backend.run_job(f"escpos809:{uri}", 1, None, io.BytesIO(data), log=lines.append, wait=5)
    return code, lines


def test_exit_0_after_the_confirmation():
    with FakeTcpPrinter() as srv:
        code, lines = run(f"tcp://127.0.0.1:{srv.port}")
    assert code == backend.OK, lines
    assert f"INFO: printed {len(JOB)} bytes to tcp://127.0.0.1:{srv.port}" in lines
    assert bytes(srv.received).count(b"\x1dr\x01") == 1


def test_a_printer_that_never_confirms_gets_the_job_held(monkeypatch):
    monkeypatch.setattr(Printer, "confirm_budget", lambda self, *a, **k: 0.5)
    with FakeTcpPrinter(confirms=False) as srv:
        code, lines = run(f"tcp://127.0.0.1:{srv.port}")
    assert code == backend.HOLD, lines  # it may have printed: a retry could print it twice
    assert any(line.startswith("ERROR:") and "did not confirm it within" in line for line in lines)


def test_paper_out_mid_job_waits_then_confirms(tmp_path):
    with VirtualPrinter(tmp_path / "paper") as vp:
        vp.faults.paper_mm = 20  # runs out inside the job

        def reload():
            end = time.monotonic() + 10
            while not vp.faults.paper_out and time.monotonic() < end:
                time.sleep(0.02)
            time.sleep(1.5)
            vp.faults.paper_mm, vp.faults.paper_out, vp.faults.paper_near_end = None, False, False

        threading.Thread(target=reload, daemon=True).start()
        data = b"\x1b@" + b"".join(b"LINE %d\n" % i for i in range(40)) + b"\x1dVB\x00"
        code, lines = run(vp.uri, data)
        vp.wait_idle()
        texts = printed_texts(vp)
    assert code == backend.OK, lines
    assert any("+media-empty-error" in line for line in lines), lines  # shown while it waited
    assert lines[-1].startswith("INFO: printed")
    assert texts == [f"LINE {i}" for i in range(40)]
