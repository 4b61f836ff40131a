"""PDF pages drawn in a child process of their own, within a time and memory budget.

PDFium parses a page's content when it loads it and cannot be interrupted: a form XObject that
draws another ten times, nested a few levels deep, takes minutes to load while it counts as one
drawing object. So :func:`escpos809.pdf.render` draws in a child (``python -m
escpos809.pdfchild``) that is killed when its time is up; the caller's threads (the service's
other clients, its plain jobs) never wait behind PDFium, and several PDFs draw at once.

The child reads one line of JSON (pages, scale, dpi, width) and the PDF's bytes on stdin, and
writes one line of JSON (the pages' sizes, or a refusal) and the pages' grey bytes on stdout.
"""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING

from .errors import InvalidInput

if TYPE_CHECKING:
    from PIL import Image

#: the time one job's PDF pages may take to draw: a hundred pages of invoice text take well
#: under a second; what takes longer is a drawing bomb (nested forms), not a receipt
DRAW_SECONDS = 10.0
#: address space of the child: the pages of a job at their limit take some 50 MB of grey
CHILD_BYTES = 1 << 30
_TOO_LONG = "the PDF pages take more than {:g} s to draw (a job's pdf blocks together); a receipt takes far less"
#: children drawing at once (each holds a core while it draws)
_SLOTS = threading.BoundedSemaphore(2)


class DrawRefused(InvalidInput):
    """A PDF that cannot be drawn within the budget (time, memory), or that crashed PDFium."""

    http_title = "Invalid PDF"


def render(
    data: bytes, pages: str | None, scale: object, dpi: int, width_dots: int, deadline: float
) -> list[Image.Image]:
    """``escpos809.pdf.render_here`` in a child, which must be done by ``deadline``
    (``time.monotonic()``); its refusals are raised here as they were there."""
    from PIL import Image

    from .pdf import PagesError, PdfRefused

    with _SLOTS:
        left = deadline - time.monotonic()
        ask = {"pages": pages, "scale": scale, "dpi": dpi, "width_dots": width_dots, "seconds": math.ceil(left)}
        head = json.dumps(ask).encode()
        if left <= 0:
            raise DrawRefused(_TOO_LONG.format(DRAW_SECONDS))
        try:
            done = subprocess.run(
                [sys.executable, "-m", "escpos809.pdfchild"],
                input=head + b"\n" + data,
                capture_output=True,
                timeout=left,
                check=False,
            )
        except subprocess.TimeoutExpired:  # run() has killed it
            raise DrawRefused(_TOO_LONG.format(DRAW_SECONDS)) from None
    line, _, rest = done.stdout.partition(b"\n")
    try:
        answer = json.loads(line)
    except ValueError:
        raise DrawRefused(_failure(done)) from None
    if "refused" in answer:
        raise (PagesError if answer["pages_error"] else PdfRefused)(answer["refused"])
    out, at = [], 0
    for w, h in answer["sizes"]:
        out.append(Image.frombytes("L", (w, h), rest[at : at + w * h]))
        at += w * h
    return out


def _failure(done: subprocess.CompletedProcess[bytes]) -> str:
    """Why a child that gave no answer stopped: out of memory (PDFium aborts, Python raises
    MemoryError) or a crash."""
    last = (done.stderr.decode(errors="replace").strip().splitlines() or [""])[-1][:120]
    if done.returncode in (-signal.SIGXCPU, -signal.SIGKILL):  # its own CPU limit
        return _TOO_LONG.format(DRAW_SECONDS)
    if done.returncode == -signal.SIGABRT or "MemoryError" in last:
        return f"the PDF could not be drawn in {CHILD_BYTES >> 20:,} MiB of memory; a receipt takes far less"
    if done.returncode < 0:
        return f"the PDF could not be drawn (PDFium stopped: {signal.Signals(-done.returncode).name})"
    return f"the PDF could not be drawn ({last or f'exit status {done.returncode}'})"


def main() -> None:
    """The child: one PDF from stdin, its pages to stdout."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (CHILD_BYTES, CHILD_BYTES))
    from .pdf import PagesError, PdfRefused, render_here

    head, _, data = sys.stdin.buffer.read().partition(b"\n")
    ask = json.loads(head)
    # the kernel ends a child whose parent died (SIGKILLed) before killing it: it cannot run on
    cpu = max(1, ask.get("seconds", math.ceil(DRAW_SECONDS))) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    out = sys.stdout.buffer
    try:
        images = render_here(data, ask["pages"], ask["scale"], ask["dpi"], ask["width_dots"])
    except PdfRefused as exc:
        out.write(json.dumps({"refused": str(exc), "pages_error": isinstance(exc, PagesError)}).encode() + b"\n")
        return
    out.write(json.dumps({"sizes": [img.size for img in images]}).encode() + b"\n")
    for img in images:
        out.write(img.tobytes())


if __name__ == "__main__":
    main()
