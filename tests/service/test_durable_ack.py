"""Every 202 is said after the job is on disk, seen where it happens: the service's system calls
(strace on the real ``escpos809 serve`` process). The WAL page holding the job is written, the
WAL is fdatasync'd, and only then is the 202 sent. ``.ci/run`` installs strace
(``ESCPOS809_REQUIRE_STRACE=1``): there, a missing strace fails instead of skipping."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.service.test_api import receipt

REQUIRED = os.environ.get("ESCPOS809_REQUIRE_STRACE") == "1"

# one line of `strace -f -y`: "<tid> name(args) = result", or split in two around other threads'
# calls: "<tid> name(args <unfinished ...>" … "<tid> <... name resumed>) = result"
_CALL = re.compile(r"^(\d+) +(?:<\.\.\. (\w+) resumed>(.*)|(\w+)\((.*))$")


def _calls(text: str) -> list[tuple[str, str, int, int]]:
    """(name, arguments, line it started on, line it ended on) of each completed call."""
    open_: dict[tuple[str, str], tuple[str, int]] = {}
    done = []
    for k, line in enumerate(text.splitlines()):
        m = _CALL.match(line)
        if not m:
            continue
        tid = m.group(1)
        if m.group(2):  # resumed
            args, start = open_.pop((tid, m.group(2)), ("", k))
            done.append((m.group(2), args + m.group(3), start, k))
        elif m.group(5).endswith("<unfinished ...>"):
            open_[(tid, m.group(4))] = (m.group(5), k)
        else:
            done.append((m.group(4), m.group(5), k, k))
    return done


def _strace() -> str:
    found = shutil.which("strace")
    if found is None:
        if REQUIRED:
            pytest.fail("ESCPOS809_REQUIRE_STRACE=1 but strace is not installed")
        pytest.skip("strace is not installed")
    return found


def test_the_202_goes_out_after_the_jobs_wal_page_is_fsynced(make_service, vprinter, tmp_path):
    strace = _strace()
    vprinter.faults.cover_open = True  # the job only queues: no printing writes in between
    svc = make_service({"default": vprinter.uri}).start()
    assert svc.proc is not None
    out = tmp_path / "strace.txt"
    tracer = subprocess.Popen(
        [strace, "-f", "-qq", "-y", "-s", "65536", "-e", "trace=pwrite64,fdatasync,fsync,sendto", "-o", str(out)]
        + ["-p", str(svc.proc.pid)],
        stderr=subprocess.PIPE,
    )
    try:
        end = time.monotonic() + 10
        while "TracerPid:\t0" in Path(f"/proc/{svc.proc.pid}/status").read_text():  # not attached yet
            assert time.monotonic() < end and tracer.poll() is None, tracer.stderr and tracer.stderr.read()
            time.sleep(0.05)
        time.sleep(0.3)  # strace attaches the service's threads one by one
        marker = f"durable-{uuid.uuid4().hex}"
        r = svc.submit(receipt(marker))
        assert r.status == 202, r
        time.sleep(0.3)
    finally:
        tracer.send_signal(signal.SIGINT)
        tracer.wait(10)
    calls = _calls(out.read_text(errors="replace"))
    wal = svc.db.name + "-wal>"
    written = [c for c in calls if c[0] == "pwrite64" and wal in c[1] and marker in c[1]]
    assert written, "the job's page was never written to the WAL"
    page_done = written[0][3]
    syncs = [c for c in calls if c[0] in ("fdatasync", "fsync") and wal in c[1] and c[2] > page_done]
    answers = [c for c in calls if c[0] == "sendto" and "HTTP/1.1 202" in c[1] and r.json["id"] in c[1]]
    assert len(answers) == 1, "the 202 was not seen being sent"
    assert syncs and syncs[0][3] < answers[0][2], "the 202 was sent before the job's WAL page was on disk"
