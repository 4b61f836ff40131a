"""Power loss and crashes: pulling the plug resets every connection and drops what was not
printed, keeps what reached paper, and the printer comes back on the same port in its power-on
state; kill -9 of ``escpos809 emulate`` leaves complete pages of everything confirmed, and a
restart numbers jobs on."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from escpos809.emulator import VirtualPrinter
from tests.conftest import h
from tests.emulator.emulate import emulate
from tests.emulator.test_mechanism import CUT, GS_R1, INIT, close, connect, recv_exactly

zxingcpp = pytest.importorskip("zxingcpp")


def qr(text: str) -> bytes:
    data = text.encode()
    n = len(data) + 3
    return (
        h("1B 61 01 1D 28 6B 03 00 31 43 06")
        + bytes([0x1D, 0x28, 0x6B, n & 0xFF, n >> 8, 0x31, 0x50, 0x30])
        + data
        + h("1D 28 6B 03 00 31 51 30 1B 61 00")
    )


def receipt(k: int, lines: int = 6) -> bytes:
    return b"".join(b"RECEIPT %03d line %d\n" % (k, i) for i in range(lines)) + qr(f"RECEIPT-{k:03d}") + CUT


def decoded(png: Path) -> set[str]:
    img = Image.open(png)
    img.load()  # a truncated file fails here
    return {r.text for r in zxingcpp.read_barcodes(img)}


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def test_power_loss_mid_job(tmp_path):
    out = tmp_path / "p"
    with VirtualPrinter(out, throttle=True, receive_buffer=4096) as vp:
        s = connect(vp)
        s.sendall(INIT + h("1B 21 30") + receipt(1) + GS_R1)  # double size from here on
        assert recv_exactly(s, 1) == b"\x00"  # receipt 1 is on paper
        errors: list[Exception] = []

        def stream():  # 400 lines = 5 s of paper: most of it still in buffers when the plug goes
            try:
                s.sendall(b"".join(b"LONG %03d\n" % i for i in range(400)))
                s.recv(1)
            except OSError as exc:
                errors.append(exc)

        t = threading.Thread(target=stream)
        t.start()
        time.sleep(0.5)
        vp.power_loss(off_s=0.8)
        assert not vp.powered and refused(vp.port)
        t.join(10)
        assert errors and isinstance(errors[0], (ConnectionResetError, BrokenPipeError, ConnectionError))
        s.close()
        job = vp.jobs[0]
        assert job.state == "power_loss" and job.number == 1
        long = [op.text for op in job.ops if op.kind == "text" and op.text.startswith("LONG")]
        assert 0 < len(long) < 60  # printed until the plug went; the rest was dropped
        assert long == [f"LONG {i:03d}" for i in range(len(long))]
        log = json.loads((out / "job-0001" / "job.json").read_text())
        assert log["state"] == "power_loss" and log["pages"] == ["page-1.png", "page-2.png"]
        assert "RECEIPT-001" in decoded(out / "job-0001" / "page-1.png")
        with Image.open(out / "job-0001" / "page-2.png") as page:
            assert page.height >= len(long) * 48  # what reached paper
        assert vp.wait_powered(5)
        s = connect(vp)  # same port, power-on state: normal size again
        s.sendall(b"after the power came back\n" + GS_R1)
        assert recv_exactly(s, 1) == b"\x00"
        close(s)
        assert vp.wait_idle(10)
    after = vp.jobs[-1]
    assert after.number == 2 and (out / "job-0002" / "page-1.png").exists()
    cells = [op for op in after.ops if op.kind == "text"][0].args["cells"]
    assert (cells[0].width, cells[0].height) == (1, 1)


def test_power_loss_while_paused_drops_the_waiting_job(tmp_path):
    with VirtualPrinter(tmp_path / "p") as vp:
        vp.faults.cover_open = True
        s = connect(vp, timeout=2)
        s.sendall(receipt(7) + GS_R1)
        time.sleep(0.3)
        assert vp.pending > 0
        vp.power_loss(off_s=0.2)
        assert vp.pending == 0 and vp.jobs == []  # nothing reached paper: no job at all
        with pytest.raises(OSError):
            s.recv(1)
        s.close()
        vp.faults.cover_open = False
        assert vp.wait_powered(5) and vp.wait_idle(5)
    assert not list((tmp_path / "p").glob("job-*"))


def start_emulate(out: Path, port: int = 0, *extra: str) -> tuple[subprocess.Popen, int]:
    proc = emulate(out, *extra, port=port)
    first = proc.stdout.readline()
    assert first.startswith("virtual OCPP-809 printing on tcp://127.0.0.1:"), first + proc.stderr.read()
    proc.stdout.readline()  # paper goes to ...
    return proc, int(first.rsplit(":", 1)[1])


def test_emulate_sigusr1_then_kill_9_then_restart(tmp_path):
    out = tmp_path / "paper"
    proc, port = start_emulate(out, 0, "--throttle", "--power-off-s", "0.5")
    try:
        # 1. a confirmed receipt, then the plug
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(INIT + receipt(1) + GS_R1)
        assert recv_exactly(s, 1) == b"\x00"
        proc.send_signal(signal.SIGUSR1)
        with pytest.raises(OSError):
            while s.recv(1):  # reset by the printer
                pass
        s.close()
        lines = sorted(proc.stdout.readline() for _ in range(3))
        assert lines[0].startswith("job 1 (tcp 127.0.0.1:") and lines[0].strip().endswith("[power loss]")
        assert lines[1].startswith(f"power back on tcp://127.0.0.1:{port:d}")
        assert lines[2].startswith("power lost: connections reset")
        # 2. receipts confirmed one by one on a new connection, then kill -9 while more stream in
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        confirmed = 0
        for k in range(1, 5):
            s.sendall(receipt(k) + GS_R1)
            assert recv_exactly(s, 1) == b"\x00"
            confirmed = k
        s.sendall(b"".join(receipt(k) for k in range(5, 40)))  # unconfirmed, printing
        time.sleep(0.4)
        proc.kill()
        proc.wait(10)
        s.close()
    finally:
        proc.kill()
        proc.stdout.close()
        proc.stderr.close()
    folder = out / "job-0002"
    log = json.loads((folder / "job.json").read_text())  # whole, parseable
    assert log["confirmed"] == confirmed and log["state"] == "printing"
    for k in range(1, confirmed + 1):  # every confirmed receipt is a complete page, read back
        assert f"RECEIPT-{k:03d}" in decoded(folder / f"page-{k}.png")
    for png in folder.glob("*.png"):  # nothing half-written, listed or not
        Image.open(png).load()
    assert set(log["pages"]) <= {p.name for p in folder.glob("page-*.png")}
    # 3. restarted on the same port and folder: numbering goes on
    proc, port2 = start_emulate(out, port, "--jobs", "1")
    try:
        assert port2 == port
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(receipt(99) + GS_R1)
            assert recv_exactly(s, 1) == b"\x00"
            s.shutdown(socket.SHUT_WR)
            while s.recv(64):
                pass
        stdout, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0 and "job 3 (tcp 127.0.0.1:" in stdout
    assert "RECEIPT-099" in decoded(out / "job-0003" / "page-1.png")
