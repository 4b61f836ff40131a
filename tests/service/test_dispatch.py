"""The service's task dispatcher (service/dispatch.py): what waitress asks of one, on real threads."""

from __future__ import annotations

import threading
import time

from escpos809_service.dispatch import QueueDispatcher


class Task:
    def __init__(self, gate: threading.Event | None = None, fail: bool = False):
        self.gate, self.fail = gate, fail
        self.served = threading.Event()
        self.cancelled = False
        self.thread = ""

    def service(self) -> None:
        self.thread = threading.current_thread().name
        if self.gate is not None:
            self.gate.wait(10)
        self.served.set()
        if self.fail:
            raise RuntimeError("a task that fails")

    def cancel(self) -> None:
        self.cancelled = True


def test_tasks_run_on_the_pool_and_a_failing_one_does_not_end_its_thread(caplog):
    d = QueueDispatcher()
    d.set_thread_count(2)
    tasks = [Task(fail=k % 3 == 0) for k in range(30)]
    for t in tasks:
        d.add_task(t)
    assert all(t.served.wait(10) for t in tasks)
    assert {t.thread for t in tasks} <= {"waitress-0", "waitress-1"}
    assert "Exception when servicing" in caplog.text
    _until(lambda: d.unfinished == 0)
    assert d.shutdown() is True


def _one_thread_busy() -> tuple[QueueDispatcher, threading.Event, Task]:
    """A dispatcher of one thread, held in a task until the returned gate is set."""
    d = QueueDispatcher()
    d.set_thread_count(1)
    gate = threading.Event()
    running = Task(gate)
    d.add_task(running)
    _until(lambda: running.thread != "")
    return d, gate, running


def test_unfinished_counts_queued_and_running_requests_until_answered():
    d, gate, _ = _one_thread_busy()
    queued = Task()
    d.add_task(queued)
    assert d.unfinished == 2  # what a graceful stop waits for
    gate.set()
    assert queued.served.wait(10)
    _until(lambda: d.unfinished == 0)
    d.shutdown()


def test_shutdown_cancels_what_has_not_started_and_ends_the_threads():
    d, gate, running = _one_thread_busy()
    pending = Task()
    d.add_task(pending)
    threads = list(d._threads)
    stopper = threading.Thread(target=d.shutdown)
    stopper.start()
    _until(lambda: pending.cancelled)
    gate.set()
    stopper.join(10)
    assert not pending.served.is_set() and running.served.is_set()
    assert not any(t.is_alive() for t in threads) and d.unfinished == 0


def test_the_pool_shrinks_and_grows():
    d = QueueDispatcher()
    d.set_thread_count(4)
    threads = list(d._threads)
    d.set_thread_count(1)
    d.set_thread_count(3)  # at once: the threads asked to end are not counted as running
    _until(lambda: sum(t.is_alive() for t in {*threads, *d._threads}) == 3)
    time.sleep(0.05)
    assert sum(t.is_alive() for t in {*threads, *d._threads}) == 3
    task = Task()
    d.add_task(task)
    assert task.served.wait(10)
    d.shutdown()


def _until(done, timeout: float = 10) -> None:
    end = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < end
        time.sleep(0.005)
