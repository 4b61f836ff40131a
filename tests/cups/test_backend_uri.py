"""The CUPS backend takes only printer URIs an administrator means: tcp, usb, and lp or serial
to a character device under /dev. Anything else stops the queue (CUPS_BACKEND_STOP, the job
kept) with one line saying why; the backend never writes a file. Runs the backend program as
cupsd does (DEVICE_URI in the environment, the job on stdin), no cupsd needed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from escpos809.cups.backend import RETRY, STOP
from escpos809.emulator import VirtualPrinter
from tests.real.servers import FakeTcpPrinter
from tests.service.conftest import printed_texts


def backend(device_uri: str, stdin: bytes = b"", timeout: float = 30) -> subprocess.CompletedProcess:
    env = {**os.environ, "DEVICE_URI": device_uri, "ESCPOS809_BACKEND_WAIT": "1"}
    return subprocess.run(
        [sys.executable, "-m", "escpos809.cups.backend", "7", "user", "title", "1", ""],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=timeout,
    )


@pytest.mark.parametrize(
    "uri, reason",
    [
        ("escpos809:lp:///etc/x", "lp:///etc/x: /etc/x is not under /dev; a CUPS queue writes only to printer devices"),
        ("escpos809:lp:///dev/../etc/passwd", "/dev/../etc/passwd is not under /dev"),
        ("escpos809:lp:///dev/stdout", "/dev/stdout leads to /proc/"),
        ("escpos809:lp:///dev/shm/receipt", "/dev/shm is world-writable; a printer device is never there"),
        ("escpos809:serial:///tmp/tty", "/tmp/tty is not under /dev"),
        ("escpos809:virtual://front", "virtual:// prints nowhere a person sees it"),
        ("escpos809:memory://", "memory:// prints nowhere a person sees it"),
        ("escpos809:file:///tmp/x", "unknown scheme 'file'"),
        ("escpos809:lp:dev/usb/lp0", "is not a printer URI"),
        ("escpos809:tcp://[::1", "tcp://[::1: Invalid IPv6 URL"),  # was a traceback
        ("escpos809:tcp://10.0.0.9:0", "tcp://10.0.0.9:0: port must be a number 1-65535"),  # was port 9100
        ("escpos809:tcp://10.0.0.9?timeout=nan", "option timeout must be positive"),  # sockets refuse NaN
        ("escpos809:tcp://10.0.0.9?read_timeout=1e999", "read_timeout must be at most 86,400 seconds"),
    ],
)
def test_refused_uris_stop_the_queue_with_one_line(uri, reason, tmp_path):
    proc = backend(uri, b"\x1b@NEVER WRITTEN\n")
    err = proc.stderr.decode()
    assert proc.returncode == STOP, err
    errors = [line for line in err.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1 and reason in errors[0], err
    assert "Traceback" not in err and proc.stdout == b""


def test_a_regular_file_under_dev_is_refused(tmp_path):
    if not os.access("/dev", os.W_OK):
        pytest.skip("needs a writable /dev to place a regular file there")
    path = f"/dev/escpos809-test-{os.getpid()}"
    with open(path, "w"):
        pass
    try:
        proc = backend(f"escpos809:lp://{path}", b"DATA")
        assert proc.returncode == STOP and "is not a character device" in proc.stderr.decode()
        assert os.path.getsize(path) == 0
    finally:
        os.unlink(path)


def test_allowed_uris_print(tmp_path):
    proc = backend("escpos809:lp:///dev/null", b"\x1b@to nowhere\n")  # a character device: taken
    assert proc.returncode == 0 and "INFO: sent 13 bytes to lp:///dev/null" in proc.stderr.decode()
    with VirtualPrinter(tmp_path / "paper") as vp:  # the virtual printer over tcp:// is how to test a queue
        proc = backend(f"escpos809:{vp.uri}", b"\x1b@OVER TCP\n\x1dVA\x03")
        assert proc.returncode == 0, proc.stderr.decode()
        vp.wait_idle()
        assert printed_texts(vp) == ["OVER TCP"]


def test_cups_install_refuses_the_same_before_installing_anything(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "ESCPOS809_PRINTER"}
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from escpos809.cli import main; main()",
            "cups",
            "install",
            "--server-bin",
            str(tmp_path / "bin"),
            "--server-root",
            str(tmp_path / "etc"),
            "--lib-dir",
            str(tmp_path / "lib"),
            "--queue",
            "q",
            "--printer",
            "lp:///etc/passwd",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 7
    assert proc.stderr.strip() == (
        "escpos809: lp:///etc/passwd: /etc/passwd is not under /dev; a CUPS queue writes only to printer devices"
    )
    assert not (tmp_path / "bin").exists()


def test_a_retry_says_the_job_may_print_again_only_when_some_of_it_went_out():
    """A printer never reached has printed nothing; one that dropped the link mid-job may have."""
    refused = backend("escpos809:tcp://127.0.0.1:1", b"\x1b@NEVER SENT\n")
    errors = [line for line in refused.stderr.decode().splitlines() if line.startswith("ERROR:")]
    assert refused.returncode == RETRY and len(errors) == 1, refused.stderr.decode()
    assert errors[0].endswith("connection refused (nothing listening on port 1); the job is retried"), errors
    with FakeTcpPrinter(mode="drop", drop_after=200) as srv:  # answers its status, then a power cut
        dropped = backend(f"escpos809:tcp://127.0.0.1:{srv.port}", b"\x1b@" + b"HALF A JOB\n" * 500)
    errors = [line for line in dropped.stderr.decode().splitlines() if line.startswith("ERROR:")]
    assert dropped.returncode == RETRY and len(errors) == 1, dropped.stderr.decode()
    assert errors[0].endswith("; the job is retried (unconfirmed: it may print again)"), errors
