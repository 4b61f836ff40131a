"""Web-safety figures over real HTTP on loopback: ``/healthz`` latency from a new client while
1,000 and 2,000 idle or half-sent connections are held open, a real job's time to print
meanwhile, and how fast cross-origin and foreign-Host requests are refused (compared with an
accepted job).

    python3 benchmarks/bench_web_safety.py [--counts 1000,2000] [--probes 200] [--refusals 1000]
                                           [--baseline]

``--baseline`` also runs the same idle load against waitress with its default settings (what
the service used before), to show what the tuning changed. Every loop is bounded; traffic
goes to 127.0.0.1 only. Target: /healthz < 1 s with >= 1,000 idle connections held.
"""

from __future__ import annotations

import argparse
import http.client
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from service_up import wait_up

from escpos809.emulator import VirtualPrinter

PARTIAL = (
    b"",
    b"POST /api/v1/printers/default/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty",
    b"GET /api/v1/jo",
    b"POST /api/v1/printers/default/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 100000\r\n\r\nHALF A BODY",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_service(tmp: Path, printer_uri: str, baseline: bool = False) -> tuple[subprocess.Popen, int]:
    port = free_port()
    config = tmp / "config.toml"
    config.write_text(
        f'[service]\ndatabase = "{tmp / "jobs.db"}"\nzeroconf = false\npoll_s = 0.5\n'
        f'retry_max_s = 0.5\n[printers]\ndefault = "{printer_uri}"\n'
    )
    env = {**os.environ, "ESCPOS809_CONFIG": str(config)}
    log = tmp / ("baseline.log" if baseline else "service.log")
    if baseline:  # the app under waitress's defaults (connection_limit 100, select(), 30 s checks)
        code = (
            "import waitress; from escpos809_service.app import create_app; "
            "from escpos809_service.config import load_service_config; "
            f"waitress.serve(create_app(load_service_config()), host='127.0.0.1', port={port})"
        )
    else:
        code = "from escpos809.cli import main; main()"
    args = [sys.executable, "-c", code] + ([] if baseline else ["serve", "--port", str(port), "--log-level", "WARNING"])
    proc = subprocess.Popen(args, env=env, stderr=open(log, "w"))
    wait_up(port, proc, log)
    return proc, port


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def hold(port: int, n: int) -> list[socket.socket]:
    held = []
    for k in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        if PARTIAL[k % len(PARTIAL)]:
            s.sendall(PARTIAL[k % len(PARTIAL)])
        held.append(s)
    return held


def still_open(held: list[socket.socket]) -> int:
    n = 0
    for s in held:
        s.setblocking(False)
        try:
            n += s.recv(1) != b""
        except BlockingIOError:
            n += 1
        except OSError:
            pass
    return n


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers=None,
    timeout: float = 5,
    conn: http.client.HTTPConnection | None = None,
) -> tuple[int, float]:
    t = time.perf_counter()
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        r.read()
        return r.status, time.perf_counter() - t
    except OSError:
        return 0, time.perf_counter() - t
    finally:
        if conn is None:
            c.close()


def figures(times: list[float]) -> str:
    ms = sorted(t * 1000 for t in times)
    p = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))]  # noqa: E731
    return f"p50 {p(0.5):7.2f} ms  p99 {p(0.99):7.2f} ms  max {ms[-1]:7.2f} ms"


def health_probe(port: int, probes: int, timeout: float = 5) -> tuple[str, str]:
    times, failed = [], 0
    end = time.monotonic() + max(30.0, probes * 0.2)
    for _ in range(probes):
        if time.monotonic() > end:
            break
        status, took = request(port, "GET", "/healthz", timeout=timeout)
        if status != 200:
            failed += 1
        times.append(took)
    return figures(times), f"{failed} of {len(times)} failed"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def idle_load(port: int, counts: list[int], probes: int, vp: VirtualPrinter | None, label: str, pid: int) -> None:
    print(f"\n{label}: RSS {rss_mb(pid):.0f} MB")
    text, failed = health_probe(port, probes)
    print(f"  idle    0: /healthz {text}  ({failed})")
    for n in counts:
        t = time.perf_counter()
        held = hold(port, n)
        opened = time.perf_counter() - t
        time.sleep(0.5)
        try:
            text, failed = health_probe(port, probes, timeout=5)
            line = f"  idle {n:4d}: /healthz {text}  ({failed}, 5 s timeout)"
            if vp is not None:
                body = b'{"type": "text", "text": "UNDER LOAD"}'
                status, took = request(
                    port, "POST", "/api/v1/printers/default/jobs", body, {"Content-Type": "application/json"}
                )
                line += f"; a job {'accepted' if status == 202 else f'FAILED ({status})'} in {took * 1000:.1f} ms"
            print(
                line + f"; {still_open(held)} of {n} still held (opened in {opened:.2f} s); "
                f"service RSS {rss_mb(pid):.0f} MB"
            )
        finally:
            for s in held:
                s.close()
        time.sleep(0.5)
        text, failed = health_probe(port, 20)
        print(f"  after they go: /healthz {text}  ({failed})")


def refusals(port: int, n: int) -> None:
    print(f"\nrefusals ({n} requests each, one keep-alive connection; text/plain body, 20 bytes)")
    body = b"PWNED BY A WEB PAGE\n"
    cases = [
        ("cross-origin POST /jobs -> 403", {"Origin": "http://evil.example", "Content-Type": "text/plain"}),
        ("Sec-Fetch-Site cross-site -> 403", {"Sec-Fetch-Site": "cross-site", "Content-Type": "text/plain"}),
        ("foreign Host POST /jobs -> 421", {"Host": "evil.example", "Content-Type": "text/plain"}),
        ("accepted job (no Origin) -> 202", {"Content-Type": "text/plain"}),
    ]
    for label, headers in cases:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        times, statuses = [], set()
        for _ in range(n if "accepted" not in label else min(n, 300)):
            status, took = request(port, "POST", "/api/v1/printers/default/jobs", body, headers, conn=conn)
            statuses.add(status)
            times.append(took)
        conn.close()
        print(f"  {label:36s} {figures(times)}  mean {statistics.mean(times) * 1e6:7.0f} us  status {sorted(statuses)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--counts", default="1000,2000", help="idle connections to hold, comma separated")
    ap.add_argument("--probes", type=int, default=200, help="/healthz requests per measurement")
    ap.add_argument("--refusals", type=int, default=1000, help="requests per refusal case")
    ap.add_argument("--baseline", action="store_true", help="also run waitress with its default settings")
    args = ap.parse_args()
    counts = [int(c) for c in args.counts.split(",") if c]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if max(counts) + 100 > hard:
        raise SystemExit(f"the open-file limit ({hard}) is too low for {max(counts)} connections")
    print(f"escpos809 web safety on {os.cpu_count()} cores; python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        vp = VirtualPrinter(tmp / "paper", idle_s=0.1).start()
        try:
            (tmp / "svc").mkdir()
            proc, port = start_service(tmp / "svc", vp.uri)
            try:
                idle_load(port, counts, args.probes, vp, "tuned service (escpos809 serve)", proc.pid)
                refusals(port, args.refusals)
            finally:
                stop(proc)
            if args.baseline:
                (tmp / "base").mkdir()
                proc, port = start_service(tmp / "base", vp.uri, baseline=True)
                try:
                    idle_load(port, counts[:1], min(args.probes, 20), None, "baseline: waitress defaults", proc.pid)
                finally:
                    stop(proc)
        finally:
            vp.stop()


if __name__ == "__main__":
    main()
