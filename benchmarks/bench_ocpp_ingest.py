"""OCPP ingest figures (issue 14 part 3): synthetic charging sessions shaped like the captured
samples (tests/data/ocpp, 1.6 and 2.0.1 alternating over 500 stations, 13-14 frames each),

- replayed with ``escpos809 ocpp replay --dry-run --db FILE`` in its own process: frames/s
  (wall and CPU) and peak RSS for 1k / 10k / 100k sessions, and the cost ratio 10k : 1k;
- posted to ``escpos809 serve`` (``POST /api/v1/ocpp/frames``, 1,000 items a request):
  frames/s and the service's peak RSS;
- an attack on the bounds: ``--ghosts N`` frames from N distinct charge point ids, each also
  sending readings for a transactionId nobody started (open sessions that never end),
  replayed at N and N/10: peak RSS must not follow N (bounded bookkeeping, issue 14);
- ``--reuse N``: one 2.0.1 station sending transactionId "1" for every session, N/10 and N
  sessions replayed: the cost ratio must stay near 10x (was quadratic, and refused the id's
  10,000th use);
- the latency the WebSocket tap adds over wss:// at 100 and 500 concurrent stations (p50/p99
  of a CALL's round trip through the tap minus the same stations straight to the CSMS).

    python3 benchmarks/bench_ocpp_ingest.py [--sizes 1000,10000,100000] [--http-sizes 1000,10000]
                                            [--stations 100,500] [--calls 20] [--ghosts 200000]
                                            [--reuse 10000]

Targets: 100,000 sessions at >= 20,000 frames/s with RSS <= 150 MB; 10k sessions <= 12x 1k.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import datetime
import http.client
import json
import os
import random
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from service_up import wait_up

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SAMPLES = ROOT / "tests" / "data" / "ocpp"
STATIONS = 500
#: each station's pause between CALLs in the latency run: 500 stations make 1,000 CALLs a second
INTERVAL_S = 0.5


def _sample(name: str) -> list[dict]:
    return [json.loads(x) for x in (SAMPLES / name).read_text().splitlines() if x]


def sessions(n: int) -> Iterator[dict]:
    """``n`` sessions as replay lines: the samples with their ids, transaction ids and dates
    made unique (a station's sessions a day apart), a BootNotification per station only once."""
    v16, v201 = _sample("v16-session.jsonl"), _sample("v201-session.jsonl")
    t0 = 1_795_000_000.0
    for i in range(n):
        v2 = i % 2 == 1
        cp = f"{'CS' if v2 else 'CP'}-{i % STATIONS:05d}"
        day = (datetime.date(2025, 3, 1) + datetime.timedelta(days=i // STATIONS)).isoformat()
        for k, line in enumerate(v201 if v2 else v16):
            f = copy.deepcopy(line["frame"])
            if f[0] == 2 and f[2] == "BootNotification" and i >= 2 * STATIONS:
                continue
            f[1] = f"{f[1][:8]}-{i}"
            p = f[-1] if isinstance(f[-1], dict) else {}
            if "transactionId" in p:
                p["transactionId"] = f"tx-{i}" if v2 else 1000 + i
            if "transactionInfo" in p:
                p["transactionInfo"]["transactionId"] = f"tx-{i}"
            f = json.loads(json.dumps(f).replace("2025-03-01T", f"{day}T"))
            yield {"ts": t0 + i * 30 + k, "cp": cp, "dir": line["dir"], "frame": f}


def ghosts(n: int) -> Iterator[dict]:
    """``n`` charge point ids heard once each, each with readings for a transaction never started."""
    status = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
    reading = [{"timestamp": "2025-03-01T09:00:00Z", "sampledValue": [{"value": "100"}]}]
    for i in range(n):
        cp = f"GHOST-{i:07d}"
        yield {"ts": 1_795_000_000.0 + i, "cp": cp, "dir": "cp->csms", "frame": [2, "s", "StatusNotification", status]}
        values = {"connectorId": 1, "transactionId": i, "meterValue": reading}
        yield {"ts": 1_795_000_000.0 + i, "cp": cp, "dir": "cp->csms", "frame": [2, "m", "MeterValues", values]}


def reusing(n: int) -> Iterator[dict]:
    """``n`` 2.0.1 sessions of one station, each with transactionId "1", a minute apart."""
    v201 = _sample("v201-session.jsonl")
    tx = v201[2]["frame"][3]["transactionInfo"]["transactionId"]
    start = datetime.datetime(2025, 3, 1, 9)
    for i in range(n):
        at = (start + datetime.timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M")
        for k, line in enumerate(v201):
            f = json.loads(json.dumps(line["frame"]).replace(tx, "1").replace("2025-03-01T09:00", at))
            f[1] = f"{f[1][:8]}-{i}"
            yield {"ts": 1_795_000_000.0 + i * 60 + k, "cp": "CS-REUSE", "dir": line["dir"], "frame": f}


def _cli(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "from escpos809.cli import main; main()", *args], **kw)


def replay_figures(n: int, tmp: Path, lines: Callable[[int], Iterator[dict]] = sessions) -> dict:
    log = tmp / f"s{n}.jsonl"
    with log.open("w") as out:
        frames = sum(out.write(json.dumps(o) + "\n") > 0 for o in lines(n))
    db = tmp / f"replay{n}.db"
    t = time.perf_counter()
    proc = _cli("ocpp", "replay", "--dry-run", "--db", str(db), str(log), stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    log.unlink()
    assert proc.returncode == 0, proc.returncode
    cpu = usage.ru_utime + usage.ru_stime
    return {"sessions": n, "frames": frames, "wall_s": wall, "cpu_s": cpu, "rss_mb": usage.ru_maxrss / 1024}


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_figures(n: int, tmp: Path) -> dict:
    port = _free_port()
    conf = tmp / f"svc{n}.toml"
    conf.write_text(
        f'[service]\ndatabase = "{tmp / f"jobs{n}.db"}"\nzeroconf = false\n'
        f'[printers]\ndefault = "tcp://127.0.0.1:{_free_port()}?connect_timeout=0.2"\n'
        "[ocpp]\ngrace_s = 0\n"
    )
    env = {**os.environ, "ESCPOS809_CONFIG": str(conf)}
    proc = _cli("serve", "--port", str(port), env=env, stderr=open(tmp / f"svc{n}.log", "w"))
    try:
        wait_up(port, proc, tmp / f"svc{n}.log")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        batch: list[dict] = []
        frames = 0
        t = time.perf_counter()

        def post() -> None:
            conn.request("POST", "/api/v1/ocpp/frames", json.dumps(batch), {"Content-Type": "application/json"})
            r = conn.getresponse()
            body = json.loads(r.read())
            assert r.status == 200 and body["refused"] == 0, (r.status, body.get("refused"))

        for o in sessions(n):
            batch.append(o)
            frames += 1
            if len(batch) == 1000:
                post()
                batch = []
        if batch:
            post()
        wall = time.perf_counter() - t
        hwm = next(x for x in Path(f"/proc/{proc.pid}/status").read_text().splitlines() if x.startswith("VmHWM"))
        return {"sessions": n, "frames": frames, "wall_s": wall, "rss_mb": int(hwm.split()[1]) / 1024}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)


# --- the tap's added latency ---------------------------------------------------------------------
async def _csms(port: int, tls: ssl.SSLContext):
    from websockets.asyncio.server import serve

    async def handler(ws):
        async for message in ws:
            frame = json.loads(message)
            if frame[0] == 2:
                await ws.send(json.dumps([3, frame[1], {"currentTime": "2025-03-01T09:00:00Z"}]))

    return await serve(handler, "127.0.0.1", port, subprotocols=["ocpp1.6"], ssl=tls, compression=None)


async def _stations(url: str, n: int, calls: int, tls: ssl.SSLContext) -> list[float]:
    from websockets.asyncio.client import connect

    rtts: list[float] = []
    connected, everyone = [0], asyncio.Event()

    async def station(k: int) -> None:
        async with connect(f"{url}/ocpp/CP-{k}", subprotocols=["ocpp1.6"], ssl=tls, compression=None) as ws:
            # calls start once every station is connected: the round trips of a steady state,
            # not of the others' TLS handshakes (n of them take the CPU for a second or more)
            connected[0] += 1
            if connected[0] == n:
                everyone.set()
            await everyone.wait()
            await asyncio.sleep(random.uniform(0, INTERVAL_S))  # stations do not call in step
            for c in range(calls):
                t = time.perf_counter()
                await ws.send(json.dumps([2, f"{k}-{c}", "Heartbeat", {}]))
                await ws.recv()
                rtts.append(time.perf_counter() - t)
                await asyncio.sleep(INTERVAL_S)

    await asyncio.gather(*(station(k) for k in range(n)))
    return rtts


def _pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1] * 1000 if len(values) > 1 else values[0] * 1000


def tap_figures(stations: list[int], calls: int, tmp: Path) -> list[dict]:
    from escpos809.ocpp.tap import server_tls
    from tests.ocpp.certs import Ca

    ca = Ca(tmp)
    tap_pair, csms_pair = ca.issue("tap.example", server=True), ca.issue("csms.example", server=True)
    client = ssl.create_default_context(cafile=ca.path)
    csms_port, tap_port = _free_port(), _free_port()
    tap = _cli(
        "ocpp", "tap", "--listen", f"127.0.0.1:{tap_port}", "--upstream", f"wss://127.0.0.1:{csms_port}",
        "--upstream-ca", ca.path, "--certfile", tap_pair.cert, "--keyfile", tap_pair.key,
        "--db", str(tmp / "tap.db"), "--printer", f"tcp://127.0.0.1:{_free_port()}", "--log-level", "WARNING",
        stderr=open(tmp / "tap.log", "w"),
    )  # fmt: skip
    out = []

    async def main() -> None:
        server = await _csms(csms_port, server_tls(csms_pair.cert, csms_pair.key))
        try:
            for _ in range(100):  # the tap is up when it answers a handshake
                try:
                    await _stations(f"wss://127.0.0.1:{tap_port}", 1, 1, client)
                    break
                except OSError:
                    await asyncio.sleep(0.1)
            for n in stations:
                direct = await _stations(f"wss://127.0.0.1:{csms_port}", n, calls, client)
                tapped = await _stations(f"wss://127.0.0.1:{tap_port}", n, calls, client)
                out.append(
                    {
                        "stations": n,
                        "direct_p50_ms": _pct(direct, 50),
                        "direct_p99_ms": _pct(direct, 99),
                        "tap_p50_ms": _pct(tapped, 50),
                        "tap_p99_ms": _pct(tapped, 99),
                    }
                )
        finally:
            server.close()

    try:
        asyncio.run(main())
    finally:
        tap.send_signal(signal.SIGTERM)
        tap.wait(20)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--http-sizes", default="1000,10000")
    ap.add_argument("--stations", default="100,500")
    ap.add_argument("--calls", type=int, default=20)
    ap.add_argument("--ghosts", type=int, default=200_000)
    ap.add_argument("--reuse", type=int, default=10_000)
    a = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        replays = []
        for n in (int(x) for x in a.sizes.split(",") if x):
            r = replay_figures(n, tmp)
            replays.append(r)
            print(
                f"replay {r['sessions']:>7,} sessions {r['frames']:>9,} frames: {r['wall_s']:7.1f} s wall "
                f"({r['frames'] / r['wall_s']:>7,.0f} frames/s), {r['cpu_s']:7.1f} s CPU "
                f"({r['frames'] / r['cpu_s']:>7,.0f} frames/s), peak RSS {r['rss_mb']:.0f} MB"
            )
        by_n = {r["sessions"]: r for r in replays}
        if 1000 in by_n and 10000 in by_n:
            print(
                f"replay cost 10k : 1k = {by_n[10000]['cpu_s'] / by_n[1000]['cpu_s']:.1f}x CPU, "
                f"{by_n[10000]['wall_s'] / by_n[1000]['wall_s']:.1f}x wall (target <= 12x)"
            )
        for n in (int(x) for x in a.http_sizes.split(",") if x):
            h = http_figures(n, tmp)
            print(
                f"http   {h['sessions']:>7,} sessions {h['frames']:>9,} frames: {h['wall_s']:7.1f} s "
                f"({h['frames'] / h['wall_s']:>7,.0f} frames/s), service peak RSS {h['rss_mb']:.0f} MB"
            )
        if a.ghosts:
            small, big = (replay_figures(g, tmp, ghosts) for g in (a.ghosts // 10, a.ghosts))
            print(
                f"ghosts {small['sessions']:>7,} / {big['sessions']:,} charge point ids with never-started "
                f"sessions: peak RSS {small['rss_mb']:.0f} / {big['rss_mb']:.0f} MB "
                f"({big['frames'] / big['wall_s']:,.0f} frames/s at {big['sessions']:,})"
            )
        if a.reuse:
            small, big = (replay_figures(g, tmp, reusing) for g in (a.reuse // 10, a.reuse))
            print(
                f"reuse  {small['sessions']:>7,} / {big['sessions']:,} sessions of one station, all transactionId 1: "
                f"{small['cpu_s']:.1f} / {big['cpu_s']:.1f} s CPU ({big['cpu_s'] / small['cpu_s']:.1f}x for 10x), "
                f"{big['frames'] / big['wall_s']:,.0f} frames/s"
            )
        for t in tap_figures([int(x) for x in a.stations.split(",") if x], a.calls, tmp):
            print(
                f"tap over wss, {t['stations']:>3} stations: round trip p50 {t['tap_p50_ms']:.2f} ms / "
                f"p99 {t['tap_p99_ms']:.2f} ms through the tap, {t['direct_p50_ms']:.2f} / "
                f"{t['direct_p99_ms']:.2f} ms direct: added p50 {t['tap_p50_ms'] - t['direct_p50_ms']:+.2f} ms, "
                f"p99 {t['tap_p99_ms'] - t['direct_p99_ms']:+.2f} ms"
            )


if __name__ == "__main__":
    main()
