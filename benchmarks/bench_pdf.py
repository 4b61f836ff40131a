"""PDF pages to ESC/POS without CUPS (escpos809/pdf.py), against the renderers CUPS would use.

    python3 benchmarks/bench_pdf.py

The PDF is ten A4 pages of invoice text and one with a QR code (drawn by reportlab, as the
tests do). Prints the median time of the whole path here (PDFium render at 203 dpi, trim,
dither, GS v 0 bands) per page, against poppler's ``pdftoppm`` and Ghostscript rendering the
same pages to grey at 203 dpi (rendering only, whole A4 pages 1680 dots wide, as CUPS would
hand them on; process start included), in the same
run; and how quickly absurd PDFs are refused (10,000 pages, a 5 m page, encrypted, a page of
200,000 drawing objects: PDFium parses it before it is counted; a page of one form nesting
10**9 squares: the drawing child runs out of time or memory).
"""

from __future__ import annotations

import base64
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ helpers

from escpos809.document import from_dict  # noqa: E402
from escpos809.errors import InvalidDocument  # noqa: E402
from escpos809.profile import load_profile  # noqa: E402
from escpos809.receipt import render  # noqa: E402
from tests.pdf import make  # noqa: E402

RUNS = 7
PAGES = 11


def pdf_bytes() -> bytes:
    lines = "\n".join(f"{i:3d}  Artikel {i:04d} Ladekabel Typ 2, 5 m   1 x 12,34   12,34 EUR" for i in range(40))
    return make.text_pages(*[f"RECHNUNG 2024-{p:03d}\n{lines}" for p in range(PAGES - 1)], font_size=11)


def median(fn, runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    profile = load_profile()
    data = pdf_bytes()
    doc = from_dict({"blocks": [{"type": "pdf", "base64": base64.b64encode(data).decode()}]})
    pages = PAGES - 1
    ours = median(lambda: render(doc, profile))
    out = render(doc, profile).data
    per_page = f"{ours / pages * 1000:7.1f} ms/page, {len(out) / pages:,.0f} bytes/page"
    print(f"{'escpos809 (PDFium, trim, dither, bands)':40s} {per_page}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.pdf"
        path.write_bytes(data)
        peers = {
            "pdftoppm -r 203 -gray": ["pdftoppm", "-r", "203", "-gray", str(path), str(Path(tmp) / "p")],
            "gs pgmraw 203 dpi": [
                "gs",
                "-q",
                "-dNOPAUSE",
                "-dBATCH",
                "-dSAFER",
                "-sDEVICE=pgmraw",
                "-r203",
                f"-sOutputFile={tmp}/g%d.pgm",
                str(path),
            ],
        }
        for name, cmd in peers.items():
            if shutil.which(cmd[0]) is None:
                print(f"{name}: not installed")
                continue
            t = median(lambda cmd=cmd: subprocess.run(cmd, check=True, capture_output=True))
            print(f"{name:40s} {t / pages * 1000:7.1f} ms/page  (escpos809 takes {ours / t:.2f}x its time)")
    for what, bad in [
        ("10,000 pages", make.blank_pages(10_000)),
        ("a 5 m page", make.long_page(5000)),
        ("encrypted", make.encrypted()),
        ("200,000 objects", make.busy(200_000)),
        ("10**9 via forms", make.form_bomb(9)),
    ]:
        b64 = base64.b64encode(bad).decode()

        def refuse(b64: str = b64) -> None:
            try:  # validation refuses most; what only loading the page shows, the drawing child
                render(from_dict({"blocks": [{"type": "pdf", "base64": b64}]}), profile)
            except InvalidDocument:
                return
            raise AssertionError("not refused")

        print(f"refused, {what:16s} ({len(bad):>9,} bytes): {median(refuse) * 1000:7.1f} ms")
    print("(a shared machine: 2 cores, other developers' tests running; figures are rough)")


if __name__ == "__main__":
    main()
