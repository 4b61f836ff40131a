"""Torture runs of the whole stack, shared by the CI tests (small counts) and
``benchmarks/bench_torture.py`` (full counts): the print service and the virtual printer each
run as their own process, and one of them is killed with SIGKILL at random moments while jobs
print — the service (a crash, a power cut of the host) or the printer (its power pulled: what
it had not printed is gone, what it had is on the paper record).

The verdict reads the paper the virtual printer left on disk, not the service's word: every
accepted job must be on paper, and every copy after the first must follow a REPRINT mark.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.service.conftest import Service, free_port

MARK = "*** REPRINT ***"


class EmulatorProcess:
    """``escpos809 emulate`` in its own process, on a fixed port and paper folder, so it can
    be killed and switched on again as the same printer."""

    def __init__(self, out: Path, throttle: bool = True):
        self.out, self.port, self.throttle = out, free_port(), throttle
        self.proc: subprocess.Popen | None = None
        self.log = out.parent / f"{out.name}.log"

    @property
    def uri(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20) -> EmulatorProcess:
        args = [
            sys.executable,
            "-c",
            "from escpos809.cli import main; main()",
            "emulate",
            "--port",
            str(self.port),
            "--status-port",
            "-1",
            "--discovery-port",
            "-1",
            "--out",
            str(self.out),
        ]
        if self.throttle:
            args.append("--throttle")
        with open(self.log, "a") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("emulator exited: " + self.log.read_text()[-2000:])
            if _listening(self.port):
                return self
            time.sleep(0.05)
        raise RuntimeError("emulator did not start: " + self.log.read_text()[-2000:])

    def kill(self) -> None:
        """Pull the power: no goodbye, no flush."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def paper_texts(out: Path) -> list[str]:
    """Every text line on the paper record the virtual printer left in ``out``, in order."""
    lines: list[str] = []
    for folder in sorted(out.glob("job-[0-9]*"), key=lambda p: int(p.name[4:])):
        record = folder / "job.json"
        if not record.exists():
            continue
        try:
            ops = json.loads(record.read_text())["ops"]
        except (ValueError, KeyError):
            continue
        lines += [op["text"].strip() for op in ops if op.get("kind") == "text"]
    return lines


def receipt(marker: str, lines: int) -> dict:
    blocks = [{"type": "text", "text": marker}] + [
        {"type": "text", "text": f"{marker} line {i}"} for i in range(1, lines)
    ]
    return {"type": "receipt", "document": {"blocks": blocks + [{"type": "cut"}]}}


@dataclass
class Outcome:
    """What a torture run left on paper."""

    what: str
    accepted: int = 0
    kills: int = 0
    seconds: float = 0.0
    lost: list[str] = field(default_factory=list)  # accepted, never on paper
    repeated: list[str] = field(default_factory=list)  # on paper more than once
    unmarked: list[str] = field(default_factory=list)  # a later copy without the REPRINT mark
    not_done: list[str] = field(default_factory=list)  # the service never said done
    resent: list[str] = field(default_factory=list)  # sent again (marked) after a kill
    out_of_order: bool = False

    def ok(self) -> bool:
        return not (self.lost or self.unmarked or self.not_done or self.out_of_order)

    def summary(self) -> str:
        return (
            f"{self.what}: {self.accepted} jobs accepted, {self.kills} kills, {self.seconds:.1f} s: "
            f"{len(self.lost)} lost, {len(self.repeated)} reprinted (all marked: {not self.unmarked}), "
            f"{len(self.not_done)} not done, in order: {not self.out_of_order}; {len(self.resent)} resent "
            f"after a kill (marked)"
        )


def judge(outcome: Outcome, markers: list[str], texts: list[str]) -> Outcome:
    """Fill ``outcome`` from the paper: lost, repeated, unmarked copies, order of first copies."""
    heads = [i for i, t in enumerate(texts) if t in set(markers)]
    printed = [texts[i] for i in heads]
    outcome.lost = [m for m in markers if m not in printed]
    outcome.repeated = sorted({m for m in printed if printed.count(m) > 1})
    seen: set[str] = set()
    for i in heads:
        if texts[i] in seen and (i == 0 or texts[i - 1] != MARK):
            outcome.unmarked.append(texts[i])
        seen.add(texts[i])
    firsts = list(dict.fromkeys(printed))
    outcome.out_of_order = firsts != [m for m in markers if m in firsts]
    return outcome


def _kill_at_random(
    rng: random.Random, kills: int, busy: threading.Event, kill, start, spread: tuple[float, float]
) -> int:
    done = 0
    for _ in range(kills):
        time.sleep(rng.uniform(*spread))
        if not busy.is_set():
            break
        kill()
        time.sleep(rng.uniform(0.0, 0.3))
        start()
        done += 1
    return done


def service_kills(
    tmp: Path, jobs: int, kills: int, seed: int = 809, lines: int = 3, spread: tuple[float, float] = (0.3, 1.0)
) -> Outcome:
    """SIGKILL the service at random moments while a client submits ``jobs`` jobs."""
    return _run(tmp, jobs, kills, seed, lines, spread, kill_service=True)


def printer_kills(
    tmp: Path, jobs: int, kills: int, seed: int = 809, lines: int = 3, spread: tuple[float, float] = (0.3, 1.0)
) -> Outcome:
    """Pull the virtual printer's power (SIGKILL, then on again) at random moments while
    ``jobs`` jobs print."""
    return _run(tmp, jobs, kills, seed, lines, spread, kill_service=False)


def _run(
    tmp: Path, jobs: int, kills: int, seed: int, lines: int, spread: tuple[float, float], kill_service: bool
) -> Outcome:
    rng = random.Random(seed)
    outcome = Outcome("service killed" if kill_service else "printer power pulled")
    printer = EmulatorProcess(tmp / "paper").start()
    svc = Service(tmp, {"default": printer.uri + "?timeout=3&read_timeout=1"})
    svc.start()
    markers = [f"JOB-{k:04d}" for k in range(jobs)]
    accepted: dict[str, str] = {}
    busy = threading.Event()
    busy.set()

    def client() -> None:
        for marker in markers:
            for _ in range(200):  # the service may be down for a moment: ask again
                try:
                    r = svc.submit(receipt(marker, lines), headers={"Idempotency-Key": marker}, timeout=5)
                except OSError:
                    time.sleep(0.05)
                    continue
                if r.status in (200, 202):  # 200: the same key answered again (sent before a kill)
                    accepted[marker] = r.json["id"]
                    break
                time.sleep(0.05)
            time.sleep(rng.uniform(0.0, 0.02))

    t0 = time.monotonic()
    feeder = threading.Thread(target=client, daemon=True)
    feeder.start()
    try:
        if kill_service:
            outcome.kills = _kill_at_random(rng, kills, busy, svc.kill, svc.start, spread)
        else:

            def watcher() -> None:
                while feeder.is_alive() or _pending(svc):
                    time.sleep(0.2)
                busy.clear()

            threading.Thread(target=watcher, daemon=True).start()
            outcome.kills = _kill_at_random(rng, kills, busy, printer.kill, printer.start, spread)
        feeder.join(300)
        outcome.accepted = len(accepted)
        for marker, job_id in accepted.items():
            try:
                if svc.wait_state(job_id, timeout=120)["reprint"]:
                    outcome.resent.append(marker)
            except AssertionError:
                outcome.not_done.append(marker)
        outcome.seconds = time.monotonic() - t0
    finally:
        svc.stop()
        printer.stop()
    texts = paper_texts(tmp / "paper")
    return judge(outcome, [m for m in markers if m in accepted], texts)


def _pending(svc: Service) -> bool:
    try:
        r = svc.request("GET", "/metrics")
    except OSError:
        return True
    text = r.body.decode()
    return any(
        line.startswith("escpos809_queue_length") and not line.rstrip().endswith(" 0") for line in text.splitlines()
    )
