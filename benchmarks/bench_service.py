"""Print-service figures: accept rate and latency percentiles over real HTTP (waitress on
127.0.0.1, jobs committed to SQLite before each 202), and how close 100 queued receipts come to
the physical minimum on the virtual printer throttled to the printer's 300 mm/s.

    python3 benchmarks/bench_service.py [--requests 16000] [--clients 16] [--rounds 8] [--receipts 100]
                                        [--baseline TREE]

Accepting is measured in the same run, in interleaved rounds (each service a fresh process every
round, on the data of its earlier rounds), for the durable service (its
database on disk: every commit is an fsync) and the same service with no fsync at all: on the
same disk with fsync and fdatasync made no-ops (libeatmydata preloaded, when Debian's
``eatmydata`` is installed: "no fsync", the reference of the target, so that the ratio is the
cost of durability alone), and on tmpfs (/dev/shm: "tmpfs", which also spares the disk's write
path; "no fsync" when eatmydata is missing).
``--baseline TREE`` (another checkout, e.g. ``git worktree add /tmp/main main``) adds that
tree's two services to the same rounds: before and after from one run. Each service's CPU
(``/proc``, all its threads) is printed per job and as cores busy, beside the clients' and
the machine's idle cores: the figures of a busy machine say so.

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
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from proc_stats import spent_so_far
from service_up import wait_up

from escpos809.emulator import VirtualPrinter


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: the service's start in the child: from the installed package, or (``--baseline``) from the
#: source tree named first (``escpos809/`` and ``service/`` as ``escpos809_service``)
_BOOT = """import sys
tree = sys.argv.pop(1)
if tree:
    import importlib.util
    sys.path.insert(0, tree)
    spec = importlib.util.spec_from_file_location(
        "escpos809_service", tree + "/service/__init__.py", submodule_search_locations=[tree + "/service"]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["escpos809_service"] = module
    spec.loader.exec_module(module)
from escpos809.cli import main
main()
"""


#: libeatmydata (Debian ``eatmydata``) turns fsync and fdatasync into no-ops for the process it
#: is preloaded into: the same service on the same disk, with no fsync at all
EATMYDATA = Path("/usr/lib/x86_64-linux-gnu/libeatmydata.so")


def start_service(
    tmp: Path, printer_uri: str, tree: str = "", preload: Path | None = None, threads: int | None = None
) -> tuple[subprocess.Popen, int]:
    """The service (from ``tree``, a source checkout, when given) on a free port, answering;
    ``preload``: a library preloaded into it."""
    port = free_port()
    (tmp / "config.toml").write_text(
        f'[service]\ndatabase = "{tmp / "jobs.db"}"\nzeroconf = false\npoll_s = 0.5\nretry_max_s = 0.5\n'
        + (f"threads = {threads}\n" if threads else "")
        + f'[printers]\ndefault = "{printer_uri}"\n'
    )
    env = {**os.environ, "ESCPOS809_CONFIG": str(tmp / "config.toml")}
    if preload is not None:
        env["LD_PRELOAD"] = str(preload)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _BOOT,
            tree,
            "serve",
            "--port",
            str(port),
            "--log-level",
            "INFO",
        ],
        env=env,
        stderr=open(tmp / "service.log", "w"),
    )
    wait_up(port, proc, tmp / "service.log")
    return proc, port


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


class Service:
    """One service of the comparison: its data directory (kept across rounds), its printer, where
    its code comes from; a fresh process each round."""

    def __init__(self, name: str, home: Path, vp: VirtualPrinter, tree: str, preload: Path | None, threads: int):
        self.name, self.home, self.vp, self.tree, self.preload = name, home, vp, tree, preload
        self.threads = threads
        self.rates: list[float] = []
        self.lats: list[float] = []
        # over its rounds: wall time, its CPU, the clients' (this process) CPU, idle CPU of the
        # machine, its context switches, its system CPU
        self.spent = [0.0] * 6
        self.writes = self.commits = self.syncs = 0

    def round(self, requests: int, clients: int) -> None:
        """Start the service, warm it up, measure ``requests`` jobs, stop it (SIGKILL: the jobs are
        on disk, and the next round's process finds them)."""
        # What the services before left in the page cache is written out now, untimed: without
        # fsync it is written back by the kernel's flusher threads seconds later, in the middle
        # of whichever service's round runs then (a durable one's, often).
        os.sync()
        proc, port = start_service(self.home, self.vp.uri, self.tree, self.preload, self.threads)
        try:
            accept_figures(port, 200, clients)  # warm up
            before = spent_so_far(proc.pid)
            rate, lat = accept_figures(port, requests, clients)
            after = spent_so_far(proc.pid)
            self.spent = [total + b - a for total, a, b in zip(self.spent, before, after, strict=True)]
            self.rates.append(rate)
            self.lats += lat
            writes, commits, syncs = _group_counters(port)
            self.writes, self.commits, self.syncs = self.writes + writes, self.commits + commits, self.syncs + syncs
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()


def accept_compared(tmp: Path, args: argparse.Namespace) -> None:
    """Durable (disk) and no-fsync (disk without fsync, tmpfs) services, measured in alternating rounds; with
    ``--baseline``, the same two from that source tree too, all in the same rounds."""
    shm = Path(tempfile.mkdtemp(dir="/dev/shm")) if Path("/dev/shm").is_dir() else None
    trees = {"": ""} | ({"baseline ": str(Path(args.baseline).resolve())} if args.baseline else {})
    places: dict[str, tuple[Path, Path | None]] = {"durable": (tmp, None)}
    if EATMYDATA.exists():
        places["no fsync"] = (tmp, EATMYDATA)
    if shm:
        places["tmpfs" if EATMYDATA.exists() else "no fsync"] = (shm, None)
    services: list[Service] = []
    try:
        for label, tree in trees.items():
            for place, (where, preload) in places.items():
                name = label + place
                # the printer's cover is open: the figures are the HTTP + render + SQLite path alone
                vp = VirtualPrinter(tmp / f"paper-{name}").start()
                vp.faults.cover_open = True
                (where / name).mkdir()
                services.append(Service(name, where / name, vp, tree, preload, args.threads))
        _rounds(services, args)
    finally:
        for service in services:
            service.vp.faults.cover_open = False
            service.vp.stop()
        if shm:
            shutil.rmtree(shm)


def _rounds(services: list[Service], args: argparse.Namespace) -> None:
    # A fresh process for every service every round: one process's luck (its hash seed, its memory
    # layout, where the scheduler put its threads) moved its rate by up to 10 %, two processes of
    # the same code included; over many processes it evens out.
    per_round = args.requests // args.rounds
    for r in range(args.rounds):
        for service in services[:: 1 if r % 2 == 0 else -1]:  # A B, B A, …: load drifts evenly
            service.round(per_round, args.clients)
    print(
        f"accept: {args.requests} receipt jobs per service from {args.clients} clients over keep-alive HTTP, "
        f"{args.rounds} interleaved rounds, each service a fresh process every round"
    )
    mean = {s.name: len(s.rates) / sum(1 / x for x in s.rates) for s in services}  # total jobs / total time
    by_name = {s.name: s for s in services}
    for s in services:
        lat = s.lats
        wall, service, clients, idle, handoffs, system = s.spent
        per_sync = f", {s.writes / s.syncs:.2f} per fsync" if s.syncs else ""
        print(
            f"  {s.name:17} {mean[s.name]:6,.0f} jobs/s   latency p50 {pct(lat, 50):.1f} ms  "
            f"p90 {pct(lat, 90):.1f} ms  p99 {pct(lat, 99):.1f} ms  max {max(lat) * 1000:.1f} ms   "
            f"{s.writes / max(s.commits, 1):.2f} jobs per commit{per_sync}"
        )
        print(
            f"  {'':17} service CPU {service / len(lat) * 1e6:,.0f} µs per job "
            f"({system / len(lat) * 1e6:,.0f} system), {service / wall:.2f} cores busy, "
            f"{handoffs / len(lat):.0f} context switches per job; "
            f"clients {clients / wall:.2f} cores; machine idle {idle / wall:.2f} of {os.cpu_count()} cores"
        )
    for label, reference in (("", "no fsync"), ("", "tmpfs"), ("baseline ", "no fsync"), ("baseline ", "tmpfs")):
        durable, fast = label + "durable", label + reference
        if durable in mean and fast in mean:
            ratio = mean[durable] / mean[fast]
            # the two services' rounds back to back: a load that comes and goes moves both
            paired = sorted(a / b for a, b in zip(by_name[durable].rates, by_name[fast].rates, strict=True))
            cost = "durability; target within 5 %" if reference == "no fsync" else "fsync and the disk"
            if reference == "no fsync" and pct(by_name[fast].lats, 99) > 30:
                print(f"  ({label}no fsync's own p99 is over 30 ms: the machine is not quiet, the target's condition)")
            print(
                f"  {label}durable / {reference}: {ratio:.3f} of the rate ({(1 - ratio) * 100:+.1f} % cost of "
                f"{cost}), p99 {pct(by_name[durable].lats, 99) / pct(by_name[fast].lats, 99):.2f}x; "
                f"round by round median {statistics.median(paired):.3f} ({paired[0]:.3f}-{paired[-1]:.3f})"
            )


def _group_counters(port: int) -> tuple[int, int, int]:
    """The service's group-commit counters (writes, transactions, fsyncs; the jobs and the few
    state changes of a printer whose cover is open), from its /metrics."""
    found = dict(
        line.split(" ") for line in get_text(port, "/metrics").splitlines() if line.startswith("escpos809_store_")
    )
    return (
        int(found.get("escpos809_store_committed_jobs_total", 0)),
        int(found.get("escpos809_store_commits_total", 0)),
        int(found.get("escpos809_store_syncs_total", 0)),
    )


def printer_fed(tmp: Path, receipts: int) -> None:
    """``receipts`` receipts queued with the cover open, then the cover closed: how close the
    service keeps the throttled virtual printer to its paper speed."""
    vp = VirtualPrinter(tmp / "paper2", throttle=True).start()
    vp.faults.cover_open = True
    (tmp / "b").mkdir()
    proc, port = start_service(tmp / "b", vp.uri + "?read_timeout=5")
    try:
        ids = []
        for k in range(receipts):
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
        cuts = sum(op.kind == "cut" for j in printed for op in j.ops)
        dots = sum(op.height for j in printed for op in j.ops)
        speed = vp.profile.speed_mm_s * vp.profile.dpi / 25.4
        minimum = dots / speed
        print(
            f"printer fed: {cuts} receipts over {len(printed)} connection(s), "
            f"{dots * 25.4 / vp.profile.dpi / 1000:.2f} m of paper"
        )
        print(
            f"  physical minimum at {vp.profile.speed_mm_s} mm/s {minimum:.2f} s; first job started to last dot "
            f"on paper {printing:.2f} s ({(printing / minimum - 1) * 100:+.1f} %; target within 3 %); "
            f"cover closed to all on paper {elapsed:.2f} s; "
            f"the mechanism stood waiting for data {vp.paper_idle_s:.2f} s"
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            print((tmp / "b" / "service.log").read_text()[-3000:])
            proc.kill()
        vp.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=16000)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--receipts", type=int, default=100)
    ap.add_argument("--threads", type=int, default=0, help="the service's threads (default: its configured default)")
    ap.add_argument(
        "--baseline", metavar="TREE", help="a source checkout (e.g. main's) whose service is measured alongside"
    )
    args = ap.parse_args()
    print(f"{os.cpu_count()} CPU cores; Python {sys.version.split()[0]}; load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        # 1. accepting: durable and without fsync, interleaved
        accept_compared(tmp, args)

        # 2. keeping the printer fed: receipts queued, then the printer (throttled to 300 mm/s) released
        if args.receipts > 0:
            printer_fed(tmp, args.receipts)


if __name__ == "__main__":
    main()
