"""Print-service figures: accept rate and latency percentiles over real HTTP (waitress on
127.0.0.1, jobs committed to SQLite before each 202), and how close 100 queued receipts come to
the physical minimum on the virtual printer throttled to the printer's 300 mm/s.

    python3 benchmarks/bench_service.py [--requests 4000] [--clients 16] [--rounds 4] [--receipts 100]

Accepting is measured twice in the same run, in interleaved rounds: the durable service (its
database on disk: every commit is an fsync) and the same service with no fsync at all (its
database on tmpfs, /dev/shm, where fsync returns at once); the ratio is the cost of durability.

Targets (issue 6, issue 17): >= 300 jobs/s; durable within 5 % of no-fsync, p99 <= 30 ms at
16 clients on a quiet 2-core machine; within 3 % of the physical minimum.
"""

from __future__ import annotations

import argparse
import calendar
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from escpos809.emulator import VirtualPrinter


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_service(tmp: Path, printer_uri: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    (tmp / "config.toml").write_text(
        f'[service]\ndatabase = "{tmp / "jobs.db"}"\nzeroconf = false\npoll_s = 0.5\nretry_max_s = 0.5\n'
        f'[printers]\ndefault = "{printer_uri}"\n'
    )
    env = {**os.environ, "ESCPOS809_CONFIG": str(tmp / "config.toml")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from escpos809.cli import main; main()",
            "serve",
            "--port",
            str(port),
            "--log-level",
            "INFO",
        ],
        env=env,
        stderr=open(tmp / "service.log", "w"),
    )
    for _ in range(400):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return proc, port
        except OSError:
            time.sleep(0.05)
    raise SystemExit("service did not start: " + (tmp / "service.log").read_text())


def receipt(k: int) -> bytes:
    return json.dumps(
        {
            "type": "receipt",
            "document": {
                "blocks": [
                    {
                        "type": "text",
                        "text": "VOLTPARK CHARGING",
                        "bold": True,
                        "width": 2,
                        "height": 2,
                        "align": "center",
                    },
                    {"type": "kv", "key": "Session", "value": f"#{k:06d}"},
                    {"type": "kv", "key": "Energy", "value": "23.456 kWh"},
                    {"type": "kv", "key": "Total", "value": "15.40 €"},
                    {"type": "qr", "data": f"https://charge.example.com/r/{k:06d}"},
                    {"type": "cut"},
                ]
            },
        }
    ).encode()


def accept_figures(port: int, requests: int, clients: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    lock = threading.Lock()
    per_client = requests // clients

    def client(c: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine = []
        for i in range(per_client):
            body = receipt(c * per_client + i)
            t = time.perf_counter()
            conn.request("POST", "/api/v1/printers/default/jobs", body, {"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            mine.append(time.perf_counter() - t)
            assert r.status == 202, r.status
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(latencies) / (time.perf_counter() - t0), latencies


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))] * 1000


def get_text(port: int, path: str) -> str:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", path)
    return c.getresponse().read().decode()


def get(port: int, path: str) -> dict:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", path)
    return json.loads(c.getresponse().read())


def accept_compared(tmp: Path, args: argparse.Namespace) -> None:
    """Durable (disk) and no-fsync (tmpfs) services, measured in alternating rounds."""
    shm = Path("/dev/shm")
    places = {"durable": tmp} | ({"no fsync": Path(tempfile.mkdtemp(dir=shm))} if shm.is_dir() else {})
    running: list[tuple[str, VirtualPrinter, subprocess.Popen, int]] = []
    try:
        for name, where in places.items():
            # the printer's cover is open: the figures are the HTTP + render + SQLite path alone
            vp = VirtualPrinter(tmp / f"paper-{name}").start()
            vp.faults.cover_open = True
            (where / "svc").mkdir()
            proc, port = start_service(where / "svc", vp.uri)
            running.append((name, vp, proc, port))
            accept_figures(port, 200, args.clients)  # warm up
        _rounds(running, args)
    finally:
        for _, vp, proc, _ in running:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            vp.faults.cover_open = False
            vp.stop()
        if "no fsync" in places:
            shutil.rmtree(places["no fsync"])


def _rounds(running: list[tuple[str, VirtualPrinter, subprocess.Popen, int]], args: argparse.Namespace) -> None:
    rates: dict[str, list[float]] = {name: [] for name, *_ in running}
    lats: dict[str, list[float]] = {name: [] for name, *_ in running}
    per_round = args.requests // args.rounds
    for r in range(args.rounds):
        for name, _, _, port in running[:: 1 if r % 2 == 0 else -1]:  # A B, B A, …: load drifts evenly
            rate, lat = accept_figures(port, per_round, args.clients)
            rates[name].append(rate)
            lats[name] += lat
    print(
        f"accept: {args.requests} receipt jobs per service from {args.clients} clients over keep-alive HTTP, "
        f"{args.rounds} interleaved rounds"
    )
    mean = {name: len(r) / sum(1 / x for x in r) for name, r in rates.items()}  # total jobs / total time
    for name, _, _, port in running:
        lat = lats[name]
        print(
            f"  {name:9} {mean[name]:6,.0f} jobs/s   latency p50 {pct(lat, 50):.1f} ms  p90 {pct(lat, 90):.1f} ms  "
            f"p99 {pct(lat, 99):.1f} ms  max {max(lat) * 1000:.1f} ms   {_per_commit(port)}"
        )
    if "no fsync" in mean:
        ratio = mean["durable"] / mean["no fsync"]
        print(
            f"  durable / no fsync: {ratio:.3f} of the rate ({(1 - ratio) * 100:+.1f} % cost of durability; "
            f"target within 5 %), p99 {pct(lats['durable'], 99) / pct(lats['no fsync'], 99):.2f}x"
        )


def _per_commit(port: int) -> str:
    """Jobs per transaction, from the service's group-commit counters."""
    found = dict(
        line.split(" ") for line in get_text(port, "/metrics").splitlines() if line.startswith("escpos809_store_")
    )
    if "escpos809_store_commits_total" not in found:
        return "(no group-commit counters)"
    jobs, commits = int(found["escpos809_store_committed_jobs_total"]), int(found["escpos809_store_commits_total"])
    return f"{jobs / max(commits, 1):.2f} jobs per commit"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=4000)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--receipts", type=int, default=100)
    args = ap.parse_args()
    print(f"{os.cpu_count()} CPU cores; Python {sys.version.split()[0]}; load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        # 1. accepting: durable and without fsync, interleaved
        accept_compared(tmp, args)

        # 2. keeping the printer fed: 100 receipts queued, then the printer (throttled to 300 mm/s) released
        vp = VirtualPrinter(tmp / "paper2", throttle=True).start()
        vp.faults.cover_open = True
        (tmp / "b").mkdir()
        proc, port = start_service(tmp / "b", vp.uri + "?read_timeout=5")
        ids = []
        for k in range(args.receipts):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("POST", "/api/v1/printers/default/jobs", receipt(k), {"Content-Type": "application/json"})
            ids.append(json.loads(c.getresponse().read())["id"])
        time.sleep(1.0)
        first_job = len(vp.jobs)
        t_cover = time.time()
        vp.paper_idle_s = 0.0
        vp.faults.cover_open = False
        while get(port, f"/api/v1/jobs/{ids[-1]}")["state"] != "done":
            time.sleep(0.01)
        vp.wait_idle(30)
        on_paper = time.time() - (time.monotonic() - vp.paper_busy_until)  # the mechanism's last dot
        elapsed = on_paper - t_cover
        # from the first receipt's start (the worker notices the closed cover by polling, every
        # retry_max_s at most) to the last receipt on paper
        first = get(port, f"/api/v1/jobs/{ids[0]}")
        started = calendar.timegm(time.strptime(first["started"][:19], "%Y-%m-%dT%H:%M:%S")) + float(
            first["started"][19:-1]
        )
        printing = on_paper - started
        printed = [j for j in vp.jobs[first_job:] if j.pages]
        receipts = sum(op.kind == "cut" for j in printed for op in j.ops)
        dots = sum(op.height for j in printed for op in j.ops)
        speed = vp.profile.speed_mm_s * vp.profile.dpi / 25.4
        minimum = dots / speed
        print(
            f"printer fed: {receipts} receipts over {len(printed)} connection(s), "
            f"{dots * 25.4 / vp.profile.dpi / 1000:.2f} m of paper"
        )
        print(
            f"  physical minimum at {vp.profile.speed_mm_s} mm/s {minimum:.2f} s; first job started to last dot "
            f"on paper {printing:.2f} s ({(printing / minimum - 1) * 100:+.1f} %; target within 3 %); "
            f"cover closed to all on paper {elapsed:.2f} s; "
            f"the mechanism stood waiting for data {vp.paper_idle_s:.2f} s"
        )
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            print((tmp / "b" / "service.log").read_text()[-3000:])
            proc.kill()
        vp.stop()


if __name__ == "__main__":
    main()
