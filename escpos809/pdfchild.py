"""Work done in a child process of its own, within a time and memory budget: PDF pages.

PDFium parses a page's content when it loads it and cannot be interrupted: a form XObject that
draws another ten times, nested a few levels deep, takes minutes to load while it counts as one
drawing object. So :func:`escpos809.pdf.render` draws in a child (``python -m escpos809.pdf``)
that is killed when its time is up; the caller's threads (the service's other clients, its
plain jobs) never wait behind PDFium, and several PDFs draw at once.

The child reads one line of JSON (what is asked, and its seconds) and the input's bytes on
stdin, and writes one line of JSON and its output's bytes on stdout (:func:`serve`). This
module knows nothing of PDFs: the caller turns :class:`ChildFailed` into its own refusal.
"""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable

from .errors import InvalidInput

#: the time one job's PDF pages may take to draw: a hundred pages of invoice text take well
#: under a second; what takes longer is a drawing bomb (nested forms), not a receipt
DRAW_SECONDS = 10.0
#: address space of the child: the pages of a job at their limit take some 50 MB of grey
CHILD_BYTES = 1 << 30
#: children drawing at once (each holds a core while it draws)
_SLOTS = threading.BoundedSemaphore(2)
_TOO_LONG = "the PDF pages take more than {:g} s to draw (a job's pdf blocks together); a receipt takes far less"


class ChildFailed(InvalidInput):
    """The child gave no answer: out of time or memory, or it crashed (the message says which;
    the caller refuses its input with it)."""


def run(module: str, ask: dict[str, object], data: bytes, deadline: float) -> tuple[dict, bytes]:
    """``python -m module`` on ``ask`` and ``data``, done by ``deadline`` (``time.monotonic()``)
    or killed: its answer line and the bytes after it. ChildFailed when it gave no answer."""
    with _SLOTS:
        left = deadline - time.monotonic()
        if left <= 0:
            raise ChildFailed(_TOO_LONG.format(DRAW_SECONDS))
        head = json.dumps({**ask, "seconds": math.ceil(left)}).encode()
        try:
            done = subprocess.run(
                [sys.executable, "-m", module],
                input=head + b"\n" + data,
                capture_output=True,
                timeout=left,
                check=False,
            )
        except subprocess.TimeoutExpired:  # run() has killed it
            raise ChildFailed(_TOO_LONG.format(DRAW_SECONDS)) from None
    line, _, rest = done.stdout.partition(b"\n")
    try:
        return json.loads(line), rest
    except ValueError:
        raise ChildFailed(_failure(done)) from None


def _failure(done: subprocess.CompletedProcess[bytes]) -> str:
    """Why a child that gave no answer stopped: out of time (its own CPU limit), out of memory
    (PDFium aborts, Python raises MemoryError), or a crash."""
    last = (done.stderr.decode(errors="replace").strip().splitlines() or [""])[-1][:120]
    if done.returncode in (-signal.SIGXCPU, -signal.SIGKILL):  # its own CPU limit
        return _TOO_LONG.format(DRAW_SECONDS)
    if done.returncode == -signal.SIGABRT or "MemoryError" in last:
        return f"the PDF could not be drawn in {CHILD_BYTES >> 20:,} MiB of memory; a receipt takes far less"
    if done.returncode < 0:
        return f"the PDF could not be drawn (PDFium stopped: {signal.Signals(-done.returncode).name})"
    return f"the PDF could not be drawn ({last or f'exit status {done.returncode}'})"


def serve(work: Callable[[dict, bytes], tuple[dict, Iterable[bytes]]]) -> None:
    """The child's side: limits set, one request from stdin, ``work``'s answer to stdout."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (CHILD_BYTES, CHILD_BYTES))
    head, _, data = sys.stdin.buffer.read().partition(b"\n")
    ask = json.loads(head)
    # the kernel ends a child whose parent died (SIGKILLed) before killing it: it cannot run on
    cpu = max(1, ask.get("seconds", math.ceil(DRAW_SECONDS))) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    answer, chunks = work(ask, data)
    out = sys.stdout.buffer
    out.write(json.dumps(answer).encode() + b"\n")
    for chunk in chunks:
        out.write(chunk)
