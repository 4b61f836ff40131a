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


def test_a_printer_that_never_confirms_holds_the_jobs_for_a_person(tmp_path):
    """It answers DLE EOT but not GS r: whether the jobs printed is unknown, so they are held
    (a release prints them again, marked), never marked done and never reprinted in a loop."""
    from escpos809.profile import load_profile as load
    from tests.real.servers import FakeTcpPrinter

    prof = tmp_path / "quick.toml"
    prof.write_text('extends = "ocpp-809"\n[transport]\nconfirm_timeout_s = 0.3\n')
    store = JobStore(tmp_path / "jobs.db")
    with FakeTcpPrinter(confirms=False) as srv:
        worker = Worker("p", f"tcp://127.0.0.1:{srv.port}", store, load(str(prof)), poll_s=0.1, backoff=(0.01, 0.05))
        ids = [store.submit("p", "raw", {"type": "raw"}, b"\x1b@JOB %d\n" % k)[0].id for k in range(3)]
        worker.start()
        try:
            end = time.monotonic() + 20
            while any(store.get(i).state != "held" for i in ids) and time.monotonic() < end:
                time.sleep(0.02)
        finally:
            worker.stop(10)
        jobs = [store.get(i) for i in ids]
        assert [(j.state, j.hold_reason, j.reprint) for j in jobs] == [("held", "unconfirmed", True)] * 3
        assert "did not confirm it within" in jobs[0].last_error
        assert bytes(srv.received).count(b"JOB 0") == 1  # sent once, not again and again
    assert store.release(ids[0]) and store.get(ids[0]).state == "queued"
    store.close()


def test_a_model_without_gs_r_is_done_as_delivered(tmp_path):
    from escpos809.profile import load_profile as load
    from escpos809_service.worker import UNCONFIRMED

    prof = tmp_path / "none.toml"
    prof.write_text('extends = "ocpp-809"\n[commands]\nconfirm = "none"\n')
    store = JobStore(tmp_path / "jobs.db")
    with VirtualPrinter(tmp_path / "paper") as vp:
        worker = Worker("p", vp.uri, store, load(str(prof)), poll_s=0.1, backoff=(0.01, 0.05))
        job, _ = store.submit("p", "raw", {"type": "raw"}, b"\x1b@PLAIN\n")
        worker.start()
        try:
            end = time.monotonic() + 20
            while store.get(job.id).state != "done" and time.monotonic() < end:
                time.sleep(0.02)
        finally:
            worker.stop(10)
        assert store.get(job.id).last_error == UNCONFIRMED
    store.close()


def test_jobs_pouring_in_while_the_cover_is_open_do_not_each_cost_a_connection(tmp_path):
    """A printer that said "not ready" is asked again no sooner than the first back-off step
    (0.5 s here) after, however many jobs arrive meanwhile: 2 s of 200 jobs a second cost a
    handful of connections, not one per job. A job submitted later still wakes it early."""
    from tests.real.servers import FakeTcpPrinter

    store = JobStore(tmp_path / "jobs.db")
    with FakeTcpPrinter(status={1: 0x16, 2: 0x16, 3: 0x12, 4: 0x12}) as srv:  # cover open (DLE EOT 2 bit 2)
        worker = Worker("p", f"tcp://127.0.0.1:{srv.port}", store, load_profile(), poll_s=5, backoff=(0.5, 30))
        worker.start()
        try:
            end = time.monotonic() + 2
            while time.monotonic() < end:
                store.submit("p", "raw", {"type": "raw"}, b"\x1b@JOB\n")
                time.sleep(0.005)
            asked = len(srv.conns)
        finally:
            worker.stop(10)
        assert 1 <= asked <= 8, asked  # was one connection (and status question) per job
        assert b"JOB" not in bytes(srv.received)  # nothing sent into an open cover
    store.close()
