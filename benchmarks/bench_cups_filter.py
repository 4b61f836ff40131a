"""The CUPS raster filter on one 80 x 200 mm page, as cupsd runs it: a new process per job.

    python3 benchmarks/bench_cups_filter.py [--runs 50]

The page is the demo charging receipt (the virtual printer's picture of it), made into a PDF
and rasterised by the real CUPS chain (``cupsfilter``: pdftopdf + gstoraster, 3SaR) with the
OCPP-809 PPD; without cups-filters the same page is packed here. The filter is installed by
``escpos809.cups.install.install_files`` into a temporary ServerBin (the same wrapper cupsd
starts) and run with the raster file on stdin, interleaved with a bare ``python3 -c pass``
of the same interpreter and of /usr/bin/python3: the ratio is the filter's cost per job
over starting Python at all (target <= 1.5x). The backend likewise: its start-up up to the
connection, and a whole short job as cupsd starts it, on the virtual printer. Also printed: the filter's time in-process
(the encoding alone), the bytes it sends against the raster it was given, and the page's
time on paper at 300 mm/s.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fresh_process import ENV, warm
from PIL import Image

from escpos809.cups.filter import run
from escpos809.cups.install import install_files, layout
from escpos809.cups.ppd import generate
from escpos809.demo import document
from escpos809.emulator import VirtualPrinter
from escpos809.profile import load_profile
from escpos809.receipt import render
from escpos809.render.image import preview_bytes

ROOT = Path(__file__).resolve().parents[1]
BACKEND_SETUP = (
    "import sys; sys.path.insert(0, sys.argv[1]); from escpos809.cups import backend; "
    "backend._open_printer(backend._printer_uri('escpos809:tcp://127.0.0.1:9'))"
)
BACKEND_JOB = b"\x1b@BACKEND JOB\nLINE 2\n\x1dVB\x00"
PAGE_ROWS = 1598  # 200 mm at 8 dots/mm (gstoraster's height for X80MMY200MM)


def page_image(profile) -> Image.Image:
    [paper] = preview_bytes(render(document(), profile).data, profile)[:1]
    page = Image.new("L", (profile.width_dots, PAGE_ROWS), 255)
    page.paste(paper.crop((0, 0, paper.width, min(paper.height, PAGE_ROWS))), (0, 0))
    return page


def raster_by_cups(page: Image.Image) -> bytes | None:
    if not shutil.which("cupsfilter"):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        pdf, ppd = Path(tmp) / "page.pdf", Path(tmp) / "ocpp809.ppd"
        page.save(pdf, resolution=203.2)
        ppd.write_text(generate())
        proc = subprocess.run(
            ["cupsfilter", "-p", str(ppd), "-m", "application/vnd.cups-raster", "-o", "PageSize=X80MMY200MM", str(pdf)],
            capture_output=True,
        )
        return proc.stdout if proc.returncode == 0 and proc.stdout[:4] == b"3SaR" else None


def raster_packed(page: Image.Image) -> bytes:
    import struct

    h = bytearray(1796)
    for offset, value in (
        (276, 203),
        (280, 203),
        (372, page.width),
        (376, page.height),
        (384, 1),
        (388, 1),
        (392, page.width // 8),
        (400, 3),
        (268, 4),
        (452, 3),
    ):
        struct.pack_into("<I", h, offset, value)
    # Pillow's "1" packs 1 = white; CUPS K raster has 1 = black
    body = page.point(lambda v: 255 if v < 128 else 0).convert("1").tobytes()
    return b"3SaR" + bytes(h) + body


def process_ms(cmds: dict[str, tuple[list[str], bytes | None]], runs: int, env: dict[str, str]) -> dict[str, float]:
    """Median wall milliseconds of each command as a new process, the commands taking turns."""
    times: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(runs):
        for name, (cmd, stdin) in cmds.items():
            t = time.perf_counter()
            proc = subprocess.run(cmd, input=stdin, capture_output=True, env=env)
            times[name].append(time.perf_counter() - t)
            if proc.returncode != 0:
                raise SystemExit(f"{name} failed: {proc.stderr.decode(errors='replace')}")
    return {k: statistics.median(v) * 1000 for k, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=50)
    runs = ap.parse_args().runs
    profile = load_profile()
    page = page_image(profile)
    raster = raster_by_cups(page)
    source = "cupsfilter (pdftopdf + gstoraster)"
    if raster is None:
        raster, source = raster_packed(page), "packed here (no cupsfilter)"
    times, out = [], b""
    for _ in range(runs):
        sink = io.BytesIO()
        t = time.perf_counter()
        run(io.BytesIO(raster), sink, profile, log=lambda line: None)
        times.append(time.perf_counter() - t)
        out = sink.getvalue()
    ms = statistics.median(times) * 1000
    paper_mm = PAGE_ROWS / 8
    print(f"page: 80 x 200 mm, {PAGE_ROWS} rows x 576 dots; raster from {source}")
    print(f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}: figures on a busy machine")
    with tempfile.TemporaryDirectory() as tmp, VirtualPrinter(Path(tmp) / "paper") as vp:
        lay = layout(f"{tmp}/bin", f"{tmp}/etc", f"{tmp}/lib")
        install_files(lay, log=lambda line: None)
        interpreter = lay.filter.read_text().split("\n", 1)[0][2:].split(" ")[0]
        cmds = {
            "filter": ([str(lay.filter), "1", "user", "title", "1", ""], raster),
            "pass": ([interpreter, "-c", "pass"], None),
            "system": (["/usr/bin/python3", "-c", "pass"], None),
            # the backend as its wrapper starts it, up to the connection (no printer needed)
            "backend": ([interpreter, "-IS", "-c", BACKEND_SETUP, str(ROOT)], None),
            # the installed backend as cupsd starts it, a whole job: connect, status, send,
            # the printer's GS r confirmation (the virtual printer, unthrottled)
            "backend job": ([str(lay.backend), "1", "user", "title", "1", ""], BACKEND_JOB),
        }
        env = {**ENV, "DEVICE_URI": f"escpos809:{vp.uri}"}
        for cmd, stdin in cmds.values():
            warm(cmd, stdin, env)
        proc = process_ms(cmds, runs, env)
    print(
        f"filter process (as cupsd starts it, {lay.filter.name} from `cups install`, page on stdin): "
        f"{proc['filter']:.1f} ms median of {runs}"
    )
    print(
        f"  bare {interpreter} -c pass {proc['pass']:.1f} ms: ratio {proc['filter'] / proc['pass']:.2f}x; "
        f"/usr/bin/python3 -c pass {proc['system']:.1f} ms: "
        f"ratio {proc['filter'] / proc['system']:.2f}x (target <= 1.5x)"
    )
    print(
        f"backend: its modules and printer set-up, before it connects: {proc['backend']:.1f} ms "
        f"({proc['backend'] / proc['system']:.1f}x /usr/bin/python3 -c pass; then it waits for the paper)"
    )
    print(
        f"backend, a whole two-line job as cupsd starts it on the virtual printer (unthrottled): "
        f"{proc['backend job']:.1f} ms, of which 50 ms the status drain's quiet wait on a new link "
        "(Transport.drain: stale replies are read before DLE EOT is asked)"
    )
    print(f"filter in-process (encoding only): {ms:.2f} ms median (min {min(times) * 1000:.2f} ms)")
    print(
        f"bytes: raster in {len(raster):,}, ESC/POS out {len(out):,} "
        f"({len(out) / len(raster):.1%} of the raster; blank rows fed, blank tail trimmed)"
    )
    paper_ms = paper_mm / profile.speed_mm_s * 1000
    print(
        f"paper: the whole 200 mm page would take {paper_ms:.0f} ms at {profile.speed_mm_s} mm/s; "
        f"the filter process is {paper_ms / proc['filter']:.0f}x faster"
    )


if __name__ == "__main__":
    sys.exit(main())
