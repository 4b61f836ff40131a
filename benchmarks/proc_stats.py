"""What a process has spent so far, read from /proc: CPU (user and system, all threads),
context switches, and the machine's idle time; for the benchmarks that compare services."""

from __future__ import annotations

import os
import time
from pathlib import Path


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system, all threads) the process has used so far."""
    return sum(_cpu(pid))


def system_s(pid: int) -> float:
    """The kernel's part of :func:`cpu_s` (sockets, futexes, and writing the data out: with
    fsync in the service's threads, without it later in kernel flusher threads)."""
    return _cpu(pid)[1]


def _cpu(pid: int) -> tuple[float, float]:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def switches(pid: int) -> int:
    """Context switches of the process's threads so far (voluntary and not): thread hand-offs."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            text = (task / "status").read_text()
        except OSError:  # the thread ended meanwhile
            continue
        total += sum(int(line.split()[1]) for line in text.splitlines() if "ctxt_switches:" in line)
    return total


def machine_idle_s() -> float:
    """Idle CPU seconds of the whole machine so far (all cores, /proc/stat: idle + iowait)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    return (int(fields[4]) + int(fields[5])) / os.sysconf("SC_CLK_TCK")


def spent_so_far(pid: int) -> tuple[float, ...]:
    """(wall clock, the process's CPU, this process's CPU, the machine's idle CPU, the process's
    context switches, its system CPU), in seconds and counts so far."""
    return time.perf_counter(), cpu_s(pid), own_cpu_s(), machine_idle_s(), switches(pid), system_s(pid)


def own_cpu_s() -> float:
    t = os.times()
    return t.user + t.system
