"""Bounded memory on any stream: megabytes of text without a cut go through ``escpos809
emulate`` (a real process, real TCP) with its peak resident memory (VmHWM) under a fixed bound;
the uncut paper is written in segments, the operations kept per job are capped and flagged."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

from tests.emulator.emulate import emulate

MB = 8  # CI size; benchmarks/bench_virtual_printer.py streams 50 MB
RSS_LIMIT_MB = 300  # the bound for any stream (the emulator once kept ~200 bytes per byte received)


def text_block() -> bytes:
    """1,000 different 47-character lines (48 with the line feed)."""
    return b"".join(bytes(32 + (i * 7 + j) % 95 for j in range(47)) + b"\n" for i in range(1000))


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (0 once it has exited)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return next((int(line.split()[1]) / 1024 for line in f if line.startswith("VmHWM:")), 0.0)
    except OSError:
        return 0.0


def stream_text(out: Path, megabytes: float) -> dict:
    """Stream text to a fresh ``escpos809 emulate``; its figures once the job is on disk."""
    proc = emulate(out, "--jobs", "1")
    try:
        port = int(proc.stdout.readline().rsplit(":", 1)[1])
        threading.Thread(target=proc.stdout.read, daemon=True).start()  # a full pipe would stop it
        block, total, sent, peak = text_block(), int(megabytes * 1_000_000), 0, 0.0
        start = time.monotonic()
        with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
            while sent < total:
                s.sendall(block)
                sent += len(block)
                if sent % (len(block) * 50) == 0:
                    peak = max(peak, peak_rss_mb(proc.pid))
            s.shutdown(socket.SHUT_WR)
            while s.recv(4096):
                pass
        while proc.poll() is None:  # the process exits once the job is recorded (--jobs 1)
            peak = max(peak, peak_rss_mb(proc.pid))
            time.sleep(0.05)
        elapsed = time.monotonic() - start
        assert proc.returncode == 0, proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()
        proc.stderr.close()
        proc.stdout.close()  # the reader thread has met the end of the pipe
    return {"bytes": sent, "seconds": elapsed, "peak_rss_mb": peak}


def test_megabytes_of_text_stay_in_bounded_memory(tmp_path):
    out = tmp_path / "paper"
    figures = stream_text(out, MB)
    print(f"{figures['bytes'] / 1e6:.0f} MB in {figures['seconds']:.1f} s, peak RSS {figures['peak_rss_mb']:.0f} MB")
    assert 0 < figures["peak_rss_mb"] <= RSS_LIMIT_MB
    log = json.loads((out / "job-0001" / "job.json").read_text())
    lines = figures["bytes"] // 48
    assert log["state"] == "done" and log["bytes"] == figures["bytes"]
    assert log["ops_total"] == lines and log["ops_truncated"] and len(log["ops"]) == 10_000
    ends = [p["end"] for p in log["page_info"]]
    assert set(ends[:-1]) == {"segment"} and ends[-1] == "done"
    assert sum(p["height"] for p in log["page_info"]) == lines * 32  # every line on paper, once
    assert len(log["pages"]) == len(list((out / "job-0001").glob("page-*.png")))


def test_a_stream_of_feeds_draws_a_bounded_number_of_pages(tmp_path, monkeypatch):
    # ESC d 255 is 3 bytes for a quarter of a page: 60 kB of them made 20 000 PNG files (240 MB)
    from escpos809.emulator import recorder
    from escpos809.emulator.server import VirtualPrinter
    from escpos809.printer import Printer

    monkeypatch.setattr(recorder, "KEEP_PAGES", 3)  # in-process: the real bound is 5 000
    with VirtualPrinter(tmp_path / "p") as vp:
        with Printer(vp.uri) as p:
            p.send(b"\x1bd\xff" * 40 + b"end\n")  # 81 600 dots: about 10 segments
            sock = p.transport._sock.getsockname()
        job = vp.wait_job(f"tcp {sock[0]}:{sock[1]}")
    assert job is not None
    log = json.loads(job.log_path.read_text())
    assert log["state"] == "done" and log["pages_truncated"]
    assert log["pages"] == ["page-1.png", "page-2.png", "page-3.png"]
    assert sorted(f.name for f in job.folder.glob("page-*.png")) == log["pages"]
