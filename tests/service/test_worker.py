"""The worker's policy for faults of our own (not the printer's), with a real virtual printer."""

from __future__ import annotations

import time

from escpos809.emulator import VirtualPrinter
from escpos809.profile import load_profile
from escpos809_service.store import JobStore
from escpos809_service.worker import MAX_INTERNAL_ATTEMPTS, Worker


def test_a_job_that_keeps_hitting_a_bug_fails_and_frees_the_printer(tmp_path):
    store = JobStore(tmp_path / "jobs.db")
    with VirtualPrinter(tmp_path / "paper") as vp:
        worker = Worker("p", vp.uri, store, load_profile(), poll_s=0.1, backoff=(0.01, 0.05))
        real_send = worker.printer.send

        def send(data: bytes) -> None:
            if b"POISON" in data:
                raise RuntimeError("renderer bug")
            real_send(data)

        worker.printer.send = send
        bad, _ = store.submit("p", "raw", {"type": "raw"}, b"\x1b@POISON\n")
        good, _ = store.submit("p", "raw", {"type": "raw"}, b"\x1b@AFTER IT\n")
        worker.start()
        try:
            end = time.monotonic() + 20
            while store.get(good.id).state != "done" and time.monotonic() < end:
                time.sleep(0.02)
        finally:
            worker.stop(10)
        failed = store.get(bad.id)
        assert failed.state == "failed" and "RuntimeError: renderer bug" in failed.last_error
        assert failed.attempts == MAX_INTERNAL_ATTEMPTS
        assert store.get(good.id).state == "done" and worker.state.failed == 1
    store.close()
